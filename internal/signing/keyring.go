package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
	"unsafe"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/store"
)

// Supported algorithms.
const (
	ES256 = "ES256"
	RS256 = "RS256"
	EdDSA = "EdDSA"
	// A256GCM marks a 32-byte symmetric sealing key (never published, never signs).
	A256GCM = "A256GCM"
)

// OwnerAWSSession owns the keys that seal keyless's AWS session tokens.
const OwnerAWSSession = "aws-session"

// Secret is one symmetric key: its kid is 8 hex digits (a uint32 key id).
type Secret struct {
	KID   string
	Value [32]byte
}

// ErrUnsupportedAlg is returned for an algorithm keyless does not sign with.
var ErrUnsupportedAlg = errors.New("signing: unsupported algorithm")

// Options configure a Keyring.
type Options struct {
	// RotationPeriod is how long a key signs before RotateDue replaces it (issuer keys
	// and every service account's keys alike). Default 30 days.
	RotationPeriod time.Duration
	// Overlap is how long a retired key stays published (≥ the longest token lifetime).
	// Default 13h: the 12 h hard cap on any token keyless mints, plus an hour.
	Overlap time.Duration
	Now     func() time.Time
	Rand    io.Reader
}

// Keyring holds the active and published keys. Safe for concurrent use.
//
// Keys have an owner: "" for keyless's own issuer keys, published in its JWKS and used
// for every token keyless mints; or a service account's unique id for the keys that
// account's signBlob and signJwt use, published only under that account. An account's
// key can therefore never sign something that verifies as a keyless token.
type Keyring struct {
	st   store.Store
	opts Options

	genMu sync.Mutex // serializes key generation, so a first use creates one key

	mu     sync.RWMutex
	active map[slot]*key     // active signing key per owner and algorithm
	all    []*key            // every published key, all owners
	sets   map[string]*owned // per owner: public keys and JWKS document
	// secrets per owner: the active key first, then the others newest first.
	secrets map[string][]Secret
}

type slot struct{ owner, alg string }

type owned struct {
	set  *jose.KeySet
	jwks []byte
}

type key struct {
	rec    store.SigningKey
	signer crypto.Signer // nil for symmetric keys
	secret *[32]byte     // A256GCM keys only
	// Encoded protected headers ("base64url(header)."), built once per key: one with
	// typ at+jwt for access tokens, one with typ JWT for ID tokens and signJwt.
	hdrAT, hdrJWT string
}

// Open loads keys from st, creating an ES256 key if none is active.
func Open(ctx context.Context, st store.Store, opts Options) (*Keyring, error) {
	if opts.Overlap == 0 {
		opts.Overlap = 13 * time.Hour
	}
	if opts.RotationPeriod == 0 {
		opts.RotationPeriod = 30 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	k := &Keyring{st: st, opts: opts}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	if _, err := k.ensure(ctx, "", ES256); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload re-reads keys from the store (after `keyless keys rotate` on another process).
func (k *Keyring) Reload(ctx context.Context) error {
	recs, err := k.st.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing: load keys: %w", err)
	}
	now := k.opts.Now()
	active := map[slot]*key{}
	var all []*key
	sort.Slice(recs, func(i, j int) bool { return recs[i].ActivateAt.Before(recs[j].ActivateAt) })
	for _, r := range recs {
		if r.RemoveAt != nil && !now.Before(*r.RemoveAt) {
			continue
		}
		kk, err := loadKey(r)
		if err != nil {
			return err
		}
		all = append(all, kk)
		if r.RetireAt == nil && !now.Before(r.ActivateAt) {
			active[slot{r.Owner, r.Alg}] = kk // the latest activated wins (sorted ascending)
		}
	}
	return k.install(active, all)
}

func (k *Keyring) install(active map[slot]*key, all []*key) error {
	byOwner := map[string][]*key{"": nil}
	secrets := map[string][]Secret{}
	for i := len(all) - 1; i >= 0; i-- { // all is sorted by activation, oldest first
		kk := all[i]
		if kk.secret == nil {
			continue
		}
		sec := Secret{KID: kk.rec.KID, Value: *kk.secret}
		if active[slot{kk.rec.Owner, kk.rec.Alg}] == kk {
			secrets[kk.rec.Owner] = append([]Secret{sec}, secrets[kk.rec.Owner]...)
		} else {
			secrets[kk.rec.Owner] = append(secrets[kk.rec.Owner], sec)
		}
	}
	for _, kk := range all {
		if kk.secret == nil {
			byOwner[kk.rec.Owner] = append(byOwner[kk.rec.Owner], kk)
		}
	}
	sets := make(map[string]*owned, len(byOwner))
	for owner, keys := range byOwner {
		var pub jose.KeySet
		doc := struct {
			Keys []gojose.JSONWebKey `json:"keys"`
		}{Keys: []gojose.JSONWebKey{}}
		for _, kk := range keys {
			pk := kk.signer.Public()
			pub.Keys = append(pub.Keys, jose.Key{KID: kk.rec.KID, Alg: kk.rec.Alg, Public: pk})
			doc.Keys = append(doc.Keys, gojose.JSONWebKey{Key: pk, KeyID: kk.rec.KID, Algorithm: kk.rec.Alg, Use: "sig"})
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("signing: jwks: %w", err)
		}
		sets[owner] = &owned{set: &pub, jwks: b}
	}
	k.mu.Lock()
	k.active, k.all, k.sets, k.secrets = active, all, sets, secrets
	k.mu.Unlock()
	return nil
}

func loadKey(r store.SigningKey) (*key, error) {
	if r.Alg == A256GCM {
		if len(r.PrivateKey) != 32 {
			return nil, fmt.Errorf("signing: key %s: sealing key is %d bytes, want 32", r.KID, len(r.PrivateKey))
		}
		var sec [32]byte
		copy(sec[:], r.PrivateKey)
		return &key{rec: r, secret: &sec}, nil
	}
	priv, err := x509.ParsePKCS8PrivateKey(r.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", r.KID, err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing: key %s: not a signer", r.KID)
	}
	hdr := func(typ string) (string, error) {
		b, err := json.Marshal(struct {
			Alg string `json:"alg"`
			KID string `json:"kid"`
			Typ string `json:"typ"`
		}{r.Alg, r.KID, typ})
		return base64.RawURLEncoding.EncodeToString(b) + ".", err
	}
	at, err := hdr("at+jwt")
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", r.KID, err)
	}
	id, err := hdr("JWT")
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", r.KID, err)
	}
	return &key{rec: r, signer: s, hdrAT: at, hdrJWT: id}, nil
}

// ensure returns owner's active key for alg, generating and persisting one when absent.
func (k *Keyring) ensure(ctx context.Context, owner, alg string) (*key, error) {
	if kk := k.activeKey(owner, alg); kk != nil {
		return kk, nil
	}
	k.genMu.Lock()
	defer k.genMu.Unlock()
	if kk := k.activeKey(owner, alg); kk != nil {
		return kk, nil // another caller generated it meanwhile
	}
	if _, err := k.rotate(ctx, owner, alg); err != nil {
		return nil, err
	}
	if kk := k.activeKey(owner, alg); kk != nil {
		return kk, nil
	}
	return nil, fmt.Errorf("signing: no active %s key after generating one", alg)
}

func (k *Keyring) activeKey(owner, alg string) *key {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active[slot{owner, alg}]
}

// RotateDue rotates every active key (issuer and service accounts) that has signed for
// longer than the rotation period, and returns the new kids. The server calls it
// periodically.
func (k *Keyring) RotateDue(ctx context.Context) ([]string, error) {
	k.mu.RLock()
	var due []slot
	for sl, kk := range k.active {
		if !k.opts.Now().Before(kk.rec.ActivateAt.Add(k.opts.RotationPeriod)) {
			due = append(due, sl)
		}
	}
	k.mu.RUnlock()
	var kids []string
	for _, sl := range due {
		k.genMu.Lock()
		kk := k.activeKey(sl.owner, sl.alg)
		var kid string
		var err error
		if kk != nil && !k.opts.Now().Before(kk.rec.ActivateAt.Add(k.opts.RotationPeriod)) {
			kid, err = k.rotate(ctx, sl.owner, sl.alg)
		}
		k.genMu.Unlock()
		if err != nil {
			return kids, err
		}
		if kid != "" {
			kids = append(kids, kid)
		}
	}
	return kids, nil
}

// Rotate creates a new active issuer key for alg; the previous active key is retired
// and stays published for the overlap. It returns the new kid.
func (k *Keyring) Rotate(ctx context.Context, alg string) (string, error) {
	k.genMu.Lock()
	defer k.genMu.Unlock()
	return k.rotate(ctx, "", alg)
}

func (k *Keyring) rotate(ctx context.Context, owner, alg string) (string, error) {
	if alg == A256GCM {
		return k.rotateSecret(ctx, owner)
	}
	priv, err := generate(alg, k.opts.Rand)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	now := k.opts.Now().UTC()
	pubDER, err := x509.MarshalPKIXPublicKey(priv.(crypto.Signer).Public())
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	sum := sha256.Sum256(pubDER)
	kid := base64.RawURLEncoding.EncodeToString(sum[:12])
	return k.install1(ctx, store.SigningKey{KID: kid, Owner: owner, Alg: alg, PrivateKey: der, CreatedAt: now, ActivateAt: now})
}

// rotateSecret generates a symmetric sealing key whose kid is a fresh uint32 in hex.
func (k *Keyring) rotateSecret(ctx context.Context, owner string) (string, error) {
	var b [36]byte
	if _, err := io.ReadFull(k.opts.Rand, b[:]); err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	kid := fmt.Sprintf("%08x", binary.BigEndian.Uint32(b[:4]))
	for _, s := range k.Secrets(owner) {
		if s.KID == kid {
			return "", fmt.Errorf("signing: sealing key id collision, retry")
		}
	}
	now := k.opts.Now().UTC()
	return k.install1(ctx, store.SigningKey{KID: kid, Owner: owner, Alg: A256GCM, PrivateKey: b[4:], CreatedAt: now, ActivateAt: now})
}

// install1 stores rec as the active key of its slot and retires the previous one.
func (k *Keyring) install1(ctx context.Context, rec store.SigningKey) (string, error) {
	owner, alg, kid, now := rec.Owner, rec.Alg, rec.KID, rec.ActivateAt
	prev := k.activeKey(owner, alg)
	if err := k.st.PutSigningKey(ctx, rec); err != nil {
		return "", fmt.Errorf("signing: store key: %w", err)
	}
	if prev != nil {
		old := prev.rec
		retire := now
		remove := now.Add(k.opts.Overlap)
		old.RetireAt, old.RemoveAt = &retire, &remove
		if err := k.st.UpdateSigningKey(ctx, old); err != nil {
			return "", fmt.Errorf("signing: retire key: %w", err)
		}
	}
	return kid, k.Reload(ctx)
}

func generate(alg string, r io.Reader) (crypto.PrivateKey, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case RS256:
		return rsa.GenerateKey(r, 2048)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(r)
		return priv, err
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
}

// Typ selects the JWS header typ: access tokens carry "at+jwt" (RFC 9068) so they can
// never be confused with ID tokens ("JWT").
type Typ int

const (
	TypAccessToken Typ = iota
	TypIDToken
)

// Sign serializes claims and signs them with the active issuer key for alg.
func (k *Keyring) Sign(ctx context.Context, alg string, typ Typ, claims any) (token, kid string, err error) {
	return k.SignAs(ctx, "", alg, typ, claims)
}

// SignAs is Sign with owner's key ("" is the issuer; a service account's unique id is
// that account, whose key is created on first use).
func (k *Keyring) SignAs(ctx context.Context, owner, alg string, typ Typ, claims any) (token, kid string, err error) {
	if alg == A256GCM {
		return "", "", ErrUnsupportedAlg
	}
	kk, err := k.ensure(ctx, owner, alg)
	if err != nil {
		return "", "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", "", fmt.Errorf("signing: claims: %w", err)
	}
	// Compact JWS by hand (RFC 7515 §7.1): the header is fixed per key, so only the
	// payload is encoded per token. go-jose's generic signer re-marshals the header and
	// costs more than the signature's non-crypto work combined.
	hdr := kk.hdrAT
	if typ == TypIDToken {
		hdr = kk.hdrJWT
	}
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(hdr)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(kk.sigLen()))
	buf = append(buf, hdr...)
	buf = enc.AppendEncode(buf, payload)
	sig, err := kk.sign(k.opts.Rand, buf)
	if err != nil {
		return "", "", fmt.Errorf("signing: %w", err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	tok := unsafe.String(unsafe.SliceData(buf), len(buf)) // buf is never written again
	return tok, kk.rec.KID, nil
}

// SignBytes signs payload with the active key for alg as JWS would (RS256: RSASSA-PKCS1-v1_5
// SHA-256; ES256: r||s), as IAM Credentials signBlob does.
func (k *Keyring) SignBytes(ctx context.Context, alg string, payload []byte) (sig []byte, kid string, err error) {
	return k.SignBytesAs(ctx, "", alg, payload)
}

// SignBytesAs is SignBytes with owner's key (see SignAs).
func (k *Keyring) SignBytesAs(ctx context.Context, owner, alg string, payload []byte) (sig []byte, kid string, err error) {
	if alg == A256GCM {
		return nil, "", ErrUnsupportedAlg
	}
	kk, err := k.ensure(ctx, owner, alg)
	if err != nil {
		return nil, "", err
	}
	if alg != kk.rec.Alg {
		return nil, "", ErrUnsupportedAlg
	}
	sig, err = kk.sign(k.opts.Rand, payload)
	if err != nil {
		return nil, "", fmt.Errorf("signing: %w", err)
	}
	return sig, kk.rec.KID, nil
}

// sigLen is the signature size of the key's algorithm, for sizing token buffers.
func (kk *key) sigLen() int {
	if pk, ok := kk.signer.Public().(*rsa.PublicKey); ok {
		return pk.Size()
	}
	return 64 // ES256 r||s, Ed25519
}

// sign produces the JWS signature of the key's algorithm over input: RS256
// RSASSA-PKCS1-v1_5 SHA-256, ES256 r||s (each 32 bytes), EdDSA Ed25519.
func (kk *key) sign(r io.Reader, input []byte) ([]byte, error) {
	switch kk.rec.Alg {
	case RS256:
		h := sha256.Sum256(input)
		return kk.signer.Sign(r, h[:], crypto.SHA256)
	case ES256:
		h := sha256.Sum256(input)
		priv, ok := kk.signer.(*ecdsa.PrivateKey)
		if !ok {
			return nil, ErrUnsupportedAlg
		}
		rr, ss, err := ecdsa.Sign(r, priv, h[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		rr.FillBytes(out[:32])
		ss.FillBytes(out[32:])
		return out, nil
	case EdDSA:
		return kk.signer.Sign(r, input, crypto.Hash(0))
	}
	return nil, ErrUnsupportedAlg
}

// Secrets returns owner's symmetric keys, the active one first (nil when it has none).
// The slice is shared and must not be modified; it is replaced, never changed, on
// reload, so callers may cache what they derive from it by slice identity.
func (k *Keyring) Secrets(owner string) []Secret {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.secrets[owner]
}

// EnsureSecrets is Secrets, generating owner's first key when it has none.
func (k *Keyring) EnsureSecrets(ctx context.Context, owner string) ([]Secret, error) {
	if s := k.Secrets(owner); len(s) > 0 && k.activeKey(owner, A256GCM) != nil {
		return s, nil
	}
	if _, err := k.ensure(ctx, owner, A256GCM); err != nil {
		return nil, err
	}
	return k.Secrets(owner), nil
}

// JWKS returns keyless's published JWKS document (issuer keys only).
func (k *Keyring) JWKS() []byte { return k.OwnerJWKS("") }

// PublicKeys returns the issuer keys, for verifying keyless's own tokens.
func (k *Keyring) PublicKeys() *jose.KeySet { return k.OwnerKeys("") }

// OwnerJWKS returns the JWKS document of owner's keys (empty set when it has none).
func (k *Keyring) OwnerJWKS(owner string) []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if o := k.sets[owner]; o != nil {
		return o.jwks
	}
	return []byte(`{"keys":[]}`)
}

// OwnerKeys returns owner's published public keys.
func (k *Keyring) OwnerKeys(owner string) *jose.KeySet {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if o := k.sets[owner]; o != nil {
		return o.set
	}
	return &jose.KeySet{}
}

// Info describes one key for `keyless keys list`.
type Info struct {
	KID       string     `json:"kid"`
	Owner     string     `json:"owner,omitempty"`
	Alg       string     `json:"alg"`
	Active    bool       `json:"active"`
	CreatedAt time.Time  `json:"createdAt"`
	RetireAt  *time.Time `json:"retireAt,omitempty"`
	RemoveAt  *time.Time `json:"removeAt,omitempty"`
}

// List describes the published keys.
func (k *Keyring) List() []Info {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []Info
	for _, kk := range k.all {
		out = append(out, Info{KID: kk.rec.KID, Owner: kk.rec.Owner, Alg: kk.rec.Alg, Active: k.active[slot{kk.rec.Owner, kk.rec.Alg}] == kk,
			CreatedAt: kk.rec.CreatedAt, RetireAt: kk.rec.RetireAt, RemoveAt: kk.rec.RemoveAt})
	}
	return out
}
