package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"sync"
	"testing"
)

// Test keys are generated once per test binary (RSA generation is slow).
var (
	testRSA2048 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	testRSA3072 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(3072) })
	testP256    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	testP384    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P384()) })
	testP521    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P521()) })
	testEd25519 = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkOf renders the public JWK of pub, then applies extra members (a nil
// value deletes a member).
func jwkOf(t testing.TB, pub crypto.PublicKey, extra map[string]any) map[string]any {
	t.Helper()
	m := map[string]any{}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64u(k.N.Bytes())
		m["e"] = b64u(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		point, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		m["kty"] = "EC"
		m["crv"] = k.Curve.Params().Name
		m["x"] = b64u(point[1 : 1+size])
		m["y"] = b64u(point[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64u(k)
	default:
		t.Fatalf("jwkOf: unsupported key %T", pub)
	}
	for name, v := range extra {
		if v == nil {
			delete(m, name)
		} else {
			m[name] = v
		}
	}
	return m
}

func jwksBytes(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustKeySet parses a JWKS and fails the test if any key was dropped.
func mustKeySet(t testing.TB, keys ...map[string]any) *KeySet {
	t.Helper()
	ks, dropped, err := ParseKeySet(jwksBytes(t, keys...))
	if err != nil {
		t.Fatalf("ParseKeySet: %v", err)
	}
	if len(dropped) != 0 {
		t.Fatalf("ParseKeySet dropped keys: %+v", dropped)
	}
	return ks
}

func hashFor(alg string) crypto.Hash {
	switch alg[len(alg)-3:] {
	case "256":
		return crypto.SHA256
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return 0
}

// rawSign signs input the way alg requires, producing JOSE signature bytes.
func rawSign(t testing.TB, alg string, priv crypto.Signer, input []byte) []byte {
	t.Helper()
	if alg == "EdDSA" {
		return ed25519.Sign(priv.(ed25519.PrivateKey), input)
	}
	h := hashFor(alg).New()
	h.Write(input)
	digest := h.Sum(nil)
	switch alg[:2] {
	case "RS":
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), hashFor(alg), digest)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case "PS":
		return signPSS(t, priv.(*rsa.PrivateKey), hashFor(alg), digest, rsa.PSSSaltLengthEqualsHash)
	case "ES":
		k := priv.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	}
	t.Fatalf("rawSign: unsupported alg %q", alg)
	return nil
}

func signPSS(t testing.TB, k *rsa.PrivateKey, h crypto.Hash, digest []byte, salt int) []byte {
	t.Helper()
	sig, err := rsa.SignPSS(rand.Reader, k, h, digest, &rsa.PSSOptions{SaltLength: salt, Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// signParts builds a compact JWS from raw header and payload bytes.
func signParts(t testing.TB, alg string, priv crypto.Signer, header, payload []byte) string {
	t.Helper()
	input := b64u(header) + "." + b64u(payload)
	return input + "." + b64u(rawSign(t, alg, priv, []byte(input)))
}

// signJWT builds a compact JWS with a header {"alg": alg, ...hdr} and JSON claims.
func signJWT(t testing.TB, alg string, priv crypto.Signer, hdr map[string]any, claims any) string {
	t.Helper()
	h := map[string]any{"alg": alg}
	for k, v := range hdr {
		h[k] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return signParts(t, alg, priv, hb, pb)
}

var sampleClaims = map[string]any{"iss": "https://issuer.test", "sub": "s", "aud": "a", "exp": 2000000000}

func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("got %v, want an error matching %v", err, kind)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
