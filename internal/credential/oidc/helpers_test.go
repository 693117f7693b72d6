package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

var (
	testEC  = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	testEC2 = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	testRSA = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	testEd  = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// testNow is the fixed clock of these tests.
var testNow = time.Unix(1_700_000_000, 0)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "https://keyless.test/providers/p"
)

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sign produces a compact JWS over the raw header and payload bytes.
func sign(t testing.TB, alg string, priv crypto.Signer, header, payload []byte) string {
	t.Helper()
	input := b64u(header) + "." + b64u(payload)
	var sig []byte
	var err error
	switch alg {
	case "ES256":
		d := sha256.Sum256([]byte(input))
		k := priv.(*ecdsa.PrivateKey)
		r, s, e := ecdsa.Sign(rand.Reader, k, d[:])
		err = e
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case "RS256":
		d := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA256, d[:])
	case "PS512":
		d := sha512.Sum512([]byte(input))
		sig, err = rsa.SignPSS(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA512, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "EdDSA":
		sig = ed25519.Sign(priv.(ed25519.PrivateKey), []byte(input))
	default:
		t.Fatalf("sign: unsupported alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64u(sig)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// token signs claims with K1 (ES256, kid k1) unless hdr overrides alg/kid.
func token(t testing.TB, claims map[string]any) string {
	t.Helper()
	return sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k1","typ":"JWT"}`), mustJSON(t, claims))
}

// baseClaims is a valid claim set at testNow.
func baseClaims() map[string]any {
	now := testNow.Unix()
	return map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "repo:org/repo:ref:refs/heads/main",
		"iat": now - 10, "nbf": now - 10, "exp": now + 290, "jti": "id-1",
	}

}

func with(c map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// testKeys holds K1 (ES256, kid k1), K2 (RS256, kid k2) and an Ed25519 key (kid k3).
func testKeys() *jose.KeySet {
	return &jose.KeySet{Keys: []jose.Key{
		{KID: "k1", Alg: "ES256", Public: &testEC().PublicKey},
		{KID: "k2", Alg: "RS256", Public: &testRSA().PublicKey},
		{KID: "k3", Public: testEd().Public()},
	}}
}

func testPolicy() *Policy {
	return &Policy{Issuer: testIssuer, Audiences: []string{testAudience}, RequireKID: true}
}

// recordingKeys is a KeySource that records the kids it was asked for.
type recordingKeys struct {
	mu   sync.Mutex
	set  *jose.KeySet
	err  error
	kids []string
}

func (r *recordingKeys) KeySet(_ context.Context, kid string) (*jose.KeySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kids = append(r.kids, kid)
	return r.set, r.err
}

func (r *recordingKeys) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.kids...)
}

func wantStage(t testing.TB, err error, stage Stage) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want stage %s", stage)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *oidc.Error", err, err)
	}
	if e.Stage != stage {
		t.Fatalf("got stage %s (%v), want %s", e.Stage, err, stage)
	}
	return e
}
