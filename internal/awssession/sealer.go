package awssession

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

const (
	// TokenVersion is the format version written by Issue.
	TokenVersion byte = 1
	// MaxTokenLen is the longest session token Issue produces or Open reads.
	MaxTokenLen = 2048
	// AccessKeyIDLen is the length of an issued access key id ("ASIA" + 16).
	AccessKeyIDLen = 20
	// SecretAccessKeyLen is the length of a derived secret access key.
	SecretAccessKeyLen = 40

	akidPrefix  = "ASIA"
	headerLen   = 1 + 4 + nonceLen
	nonceLen    = 12
	seedLen     = 32
	akidRandLen = 10 // 80 bits = 16 base32 characters
	secretBytes = 30 // 40 base64 characters

	aeadInfo   = "keyless awssession v1 token aead key"
	secretInfo = "keyless awssession v1 secret access key\x00"
)

var (
	tokenEncoding = base64.RawURLEncoding.Strict()
	akidEncoding  = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// Key is one sealing key. IDs must be unique within a Sealer.
type Key struct {
	ID     uint32
	Secret [32]byte
}

// Credentials are AWS temporary credentials as STS returns them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time // UTC, whole seconds
}

// Sealer issues and opens session tokens. It is immutable and safe for
// concurrent use.
type Sealer struct {
	sealID uint32
	aeads  map[uint32]cipher.AEAD
}

// NewSealer returns a Sealer that seals with keys[0] and opens with any key.
func NewSealer(keys []Key) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("awssession: no sealing keys")
	}
	s := &Sealer{sealID: keys[0].ID, aeads: make(map[uint32]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if _, dup := s.aeads[k.ID]; dup {
			return nil, fmt.Errorf("awssession: duplicate key id %d", k.ID)
		}
		if k.Secret == ([32]byte{}) {
			return nil, fmt.Errorf("awssession: key %d (index %d) is all zero", k.ID, i)
		}
		aeadKey, err := hkdf.Key(sha256.New, k.Secret[:], nil, aeadInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("awssession: deriving key %d: %w", k.ID, err)
		}
		block, err := aes.NewCipher(aeadKey)
		if err != nil {
			return nil, fmt.Errorf("awssession: key %d: %w", k.ID, err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("awssession: key %d: %w", k.ID, err)
		}
		s.aeads[k.ID] = gcm
	}
	return s, nil
}

// payload is the sealed JSON (after the 32-byte seed). Short names keep
// tokens small; times are Unix seconds.
type payload struct {
	AccessKeyID    string            `json:"k"`
	AccountID      string            `json:"a"`
	RoleName       string            `json:"r"`
	RolePath       string            `json:"p,omitempty"`
	SessionName    string            `json:"n"`
	RoleID         string            `json:"i"`
	Issued         int64             `json:"t"`
	Expiry         int64             `json:"e"`
	SourceIdentity string            `json:"si,omitempty"`
	Subject        string            `json:"sub,omitempty"`
	Provider       string            `json:"pr,omitempty"`
	Audience       string            `json:"au,omitempty"`
	DecisionID     string            `json:"d,omitempty"`
	Tags           map[string]string `json:"tg,omitempty"`
	Correlation    map[string]string `json:"c,omitempty"`
}

// Issue validates sess and mints credentials for it, drawing the access
// key id, seed and nonce from rand. The returned Expiration is
// sess.Expiry truncated to the second, in UTC.
func (s *Sealer) Issue(sess Session, rand io.Reader) (Credentials, error) {
	if err := sess.validate(); err != nil {
		return Credentials{}, err
	}
	var rnd [akidRandLen + seedLen + nonceLen]byte
	if _, err := io.ReadFull(rand, rnd[:]); err != nil {
		return Credentials{}, fmt.Errorf("awssession: reading randomness: %w", err)
	}
	akid := akidPrefix + akidEncoding.EncodeToString(rnd[:akidRandLen])
	seed := rnd[akidRandLen : akidRandLen+seedLen]
	nonce := rnd[akidRandLen+seedLen:]

	p := payload{
		AccessKeyID: akid, AccountID: sess.AccountID, RoleName: sess.RoleName, RolePath: sess.RolePath,
		SessionName: sess.SessionName, RoleID: sess.RoleID,
		Issued: sess.Issued.Unix(), Expiry: sess.Expiry.Unix(),
		SourceIdentity: sess.SourceIdentity, Subject: sess.Subject, Provider: sess.Provider,
		Audience: sess.Audience, DecisionID: sess.DecisionID, Tags: sess.Tags, Correlation: sess.Correlation,
	}
	body, err := json.Marshal(p)
	if err != nil {
		return Credentials{}, fmt.Errorf("awssession: encoding session: %w", err)
	}
	plain := make([]byte, 0, seedLen+len(body))
	plain = append(append(plain, seed...), body...)

	aead := s.aeads[s.sealID]
	out := make([]byte, headerLen, headerLen+len(plain)+aead.Overhead())
	out[0] = TokenVersion
	binary.BigEndian.PutUint32(out[1:5], s.sealID)
	copy(out[5:headerLen], nonce)
	out = aead.Seal(out, nonce, plain, out[:5])
	clear(plain)

	token := tokenEncoding.EncodeToString(out)
	if len(token) > MaxTokenLen {
		return Credentials{}, fail(ErrInvalidSession, "session token would be "+strconv.Itoa(len(token))+" characters, more than "+strconv.Itoa(MaxTokenLen))
	}
	secret, err := deriveSecret(seed, akid)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{
		AccessKeyID:     akid,
		SecretAccessKey: secret,
		SessionToken:    token,
		Expiration:      time.Unix(p.Expiry, 0).UTC(),
	}, nil
}

// Open authenticates sessionToken, checks that it was issued with
// accessKeyID and that now is before its expiry (no leeway), and returns
// the session and the secret access key to verify a SigV4 signature with.
func (s *Sealer) Open(accessKeyID, sessionToken string, now time.Time) (Session, string, error) {
	if !ValidAccessKeyID(accessKeyID) {
		return Session{}, "", fail(ErrMalformed, "access key id is not in the issued format")
	}
	if len(sessionToken) > MaxTokenLen {
		return Session{}, "", fail(ErrMalformed, "session token too long")
	}
	raw, err := tokenEncoding.DecodeString(sessionToken)
	if err != nil {
		return Session{}, "", fail(ErrMalformed, "session token is not base64url")
	}
	if len(raw) < headerLen+seedLen+16 {
		return Session{}, "", fail(ErrMalformed, "session token too short")
	}
	if raw[0] != TokenVersion {
		return Session{}, "", fail(ErrMalformed, "unsupported session token version "+strconv.Itoa(int(raw[0])))
	}
	keyID := binary.BigEndian.Uint32(raw[1:5])
	aead, ok := s.aeads[keyID]
	if !ok {
		return Session{}, "", fail(ErrUnknownKey, "key id "+strconv.FormatUint(uint64(keyID), 10))
	}
	plain, err := aead.Open(nil, raw[5:headerLen], raw[headerLen:], raw[:5])
	if err != nil {
		return Session{}, "", fail(ErrTampered, "")
	}
	defer clear(plain)
	if len(plain) <= seedLen {
		return Session{}, "", fail(ErrMalformed, "sealed payload too short")
	}
	var p payload
	dec := json.NewDecoder(bytes.NewReader(plain[seedLen:]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() {
		return Session{}, "", fail(ErrMalformed, "sealed payload does not decode")
	}
	if subtle.ConstantTimeCompare([]byte(p.AccessKeyID), []byte(accessKeyID)) != 1 {
		return Session{}, "", fail(ErrMismatch, "")
	}
	if now.IsZero() {
		return Session{}, "", fail(ErrExpired, "no current time")
	}
	expiry := time.Unix(p.Expiry, 0).UTC()
	if !now.Before(expiry) {
		return Session{}, "", fail(ErrExpired, "expired at "+expiry.Format(time.RFC3339))
	}
	secret, err := deriveSecret(plain[:seedLen], accessKeyID)
	if err != nil {
		return Session{}, "", err
	}
	return Session{
		AccountID: p.AccountID, RoleName: p.RoleName, RolePath: p.RolePath, SessionName: p.SessionName,
		RoleID: p.RoleID, Issued: time.Unix(p.Issued, 0).UTC(), Expiry: expiry,
		SourceIdentity: p.SourceIdentity, Subject: p.Subject, Provider: p.Provider, Audience: p.Audience,
		DecisionID: p.DecisionID, Tags: p.Tags, Correlation: p.Correlation,
	}, secret, nil
}

// ValidAccessKeyID reports whether id has the issued form: "ASIA" followed
// by 16 characters of the RFC 4648 base32 alphabet (A-Z, 2-7).
func ValidAccessKeyID(id string) bool {
	if len(id) != AccessKeyIDLen || id[:4] != akidPrefix {
		return false
	}
	return allBytes(id[4:], func(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7') })
}

// deriveSecret is HKDF-SHA256(seed, info = label | access key id), 30
// bytes as 40 characters of standard base64.
func deriveSecret(seed []byte, akid string) (string, error) {
	k, err := hkdf.Key(sha256.New, seed, nil, secretInfo+akid, secretBytes)
	if err != nil {
		return "", fmt.Errorf("awssession: deriving secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(k), nil
}
