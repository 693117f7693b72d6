package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/keylessdev/keyless/internal/jose"
)

// The crypto floor of the AWS modes, stdlib only:
//
//	assume-role: RS256 verify of the web identity token + AES-256-GCM seal of the
//	             session payload + HKDF-SHA256 of the secret access key
//	aws4:        AES-256-GCM open of the session token + HKDF-SHA256 + SigV4 (SHA-256
//	             of the canonical request, 4 HMACs for the signing key, 1 for the
//	             signature) + ES256 sign of the minted access token
//
// The GCM operations use a fresh key (the server's is not ours) over a payload of the
// real session token's size.

// Layout of keyless session tokens (internal/awssession): version(1) | key id(4) |
// nonce(12) | ciphertext | tag(16), base64url without padding; the plaintext starts with
// a 32-byte seed.
const (
	sessionHeaderLen = 1 + 4 + 12
	gcmTagLen        = 16
	sessionSeedLen   = 32
	secretLen        = 30
)

// sessionPlainLen is the plaintext size sealed in a keyless session token.
func sessionPlainLen(sessionToken string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sessionToken)
	if err != nil {
		return 0, fmt.Errorf("session token: %w", err)
	}
	n := len(raw) - sessionHeaderLen - gcmTagLen
	if n <= sessionSeedLen {
		return 0, fmt.Errorf("session token of %d bytes is too short", len(raw))
	}
	return n, nil
}

// gcmFloorOps returns an AES-256-GCM seal and an open of a plainLen-byte payload with
// its header as additional data.
func gcmFloorOps(plainLen int) (seal, open floorOp, err error) {
	key := make([]byte, 32)
	plain := make([]byte, plainLen)
	nonce := make([]byte, 12)
	for _, b := range [][]byte{key, plain, nonce} {
		if _, err := rand.Read(b); err != nil {
			return seal, open, err
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return seal, open, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return seal, open, err
	}
	ad := []byte{1, 0, 0, 0, 1}
	sealed := aead.Seal(nil, nonce, plain, ad)
	seal = floorOp{fmt.Sprintf("AES-256-GCM seal (%d B)", plainLen), func() error {
		_ = aead.Seal(nil, nonce, plain, ad)
		return nil
	}}
	open = floorOp{fmt.Sprintf("AES-256-GCM open (%d B)", plainLen), func() error {
		_, err := aead.Open(nil, nonce, sealed, ad)
		return err
	}}
	return seal, open, nil
}

// hkdfFloorOp derives a 30-byte secret access key from a 32-byte seed and akid.
func hkdfFloorOp(akid string) (floorOp, error) {
	seed := make([]byte, sessionSeedLen)
	if _, err := rand.Read(seed); err != nil {
		return floorOp{}, err
	}
	info := "keyless loadtest secret\x00" + akid
	return floorOp{"HKDF-SHA256", func() error {
		_, err := hkdf.Key(sha256.New, seed, nil, info, secretLen)
		return err
	}}, nil
}

// sigv4Auth is a parsed SigV4 Authorization header.
type sigv4Auth struct {
	akid, date, region, service string
	signedHeaders               []string
	signature                   []byte
}

func parseSigV4Auth(h string) (sigv4Auth, error) {
	var a sigv4Auth
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return a, errors.New("not an AWS4-HMAC-SHA256 authorization")
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return a, fmt.Errorf("credential %q", v)
			}
			a.akid, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			sig, err := hex.DecodeString(v)
			if err != nil {
				return a, fmt.Errorf("signature: %w", err)
			}
			a.signature = sig
		}
	}
	if a.akid == "" || len(a.signedHeaders) == 0 || len(a.signature) != sha256.Size {
		return a, errors.New("incomplete authorization")
	}
	return a, nil
}

// sigv4FloorOp recomputes req's SigV4 signature with secret and compares it with the
// one it carries: SHA-256 of the canonical request, the signing key (4 HMACs), the
// signature (1 HMAC). req has an empty body and a canonical query.
func sigv4FloorOp(req *http.Request, secret string) (floorOp, error) {
	a, err := parseSigV4Auth(req.Header.Get("Authorization"))
	if err != nil {
		return floorOp{}, fmt.Errorf("floor: %w", err)
	}
	amzDate := req.Header.Get("X-Amz-Date")
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return floorOp{}, err
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	})
	var cq []string
	for _, k := range keys {
		for _, v := range q[k] {
			cq = append(cq, strings.ReplaceAll(url.QueryEscape(k), "+", "%20")+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	var ch strings.Builder
	for _, h := range a.signedHeaders {
		v := req.Header.Get(h)
		if h == "host" {
			v = req.URL.Host
		}
		ch.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := []byte(strings.Join([]string{req.Method, path, strings.Join(cq, "&"), ch.String(),
		strings.Join(a.signedHeaders, ";"), emptySHA256}, "\n"))
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	op := func() error {
		h := sha256.Sum256(canonical)
		sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
		k := mac(mac(mac(mac([]byte("AWS4"+secret), a.date), a.region), a.service), "aws4_request")
		if !hmac.Equal(mac(k, sts), a.signature) {
			return errors.New("SigV4 signature does not match")
		}
		return nil
	}
	return floorOp{"SigV4 (SHA-256 + 5 HMAC)", op}, nil
}

// assumeRoleFloorOps: verify the web identity token, seal the session, derive its secret.
func assumeRoleFloorOps(presented string, keys *jose.KeySet, sessionToken, akid string) ([]floorOp, error) {
	verify, err := verifyFloorOp(presented, keys)
	if err != nil {
		return nil, err
	}
	n, err := sessionPlainLen(sessionToken)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	seal, _, err := gcmFloorOps(n)
	if err != nil {
		return nil, err
	}
	kdf, err := hkdfFloorOp(akid)
	if err != nil {
		return nil, err
	}
	return []floorOp{verify, seal, kdf}, nil
}

// aws4FloorOps: open the session token, derive the secret, verify SigV4, sign the
// minted access token.
func aws4FloorOps(c awsCreds, signed *http.Request, minted string) ([]floorOp, error) {
	n, err := sessionPlainLen(c.SessionToken)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	_, open, err := gcmFloorOps(n)
	if err != nil {
		return nil, err
	}
	kdf, err := hkdfFloorOp(c.AccessKeyID)
	if err != nil {
		return nil, err
	}
	sig, err := sigv4FloorOp(signed, c.SecretAccessKey)
	if err != nil {
		return nil, err
	}
	sign, err := mintFloorOp(minted)
	if err != nil {
		return nil, err
	}
	return []floorOp{open, kdf, sig, sign}, nil
}
