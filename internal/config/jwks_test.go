package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func ecJWK(t *testing.T, kid, use string) map[string]any {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey.Bytes() // uncompressed SEC1: 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
		"x": b64(pub[1:33]), "y": b64(pub[33:])}
	if use != "" {
		m["use"] = use
	}
	return m
}

func rsaJWK(t *testing.T, kid string, bits int) map[string]any {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func jwksDoc(t *testing.T, keys ...map[string]any) string {
	t.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestValidateJWKS checks SPEC §5.1: inline keys keyless would ignore make the config invalid.
func TestValidateJWKS(t *testing.T) {
	t.Parallel()
	ec1, ec2 := ecJWK(t, "ec1", "sig"), ecJWK(t, "ec2", "")
	rsa2048, rsa1024 := rsaJWK(t, "rsa1", 2048), rsaJWK(t, "small", 1024)
	dupKid := ecJWK(t, "ec1", "sig")
	cases := []struct {
		name      string
		doc       string
		fragments []string // nil: valid
		count     int      // problems expected, when more than one
	}{
		{"ec and rsa", jwksDoc(t, ec1, ec2, rsa2048), nil, 0},
		{"not json", "not json", []string{"is not a usable JWKS document"}, 0},
		{"no keys", jwksDoc(t), []string{"contains no keys"}, 0},
		{"encryption key", jwksDoc(t, ec1, ecJWK(t, "enc1", "enc")), []string{"keys[1]", `"enc1"`, "would be ignored by keyless"}, 0},
		{"symmetric key", jwksDoc(t, ec1, map[string]any{"kty": "oct", "kid": "hmac", "k": b64([]byte("0123456789abcdef0123456789abcdef"))}),
			[]string{"keys[1]", `"hmac"`, "would be ignored by keyless"}, 0},
		{"small rsa", jwksDoc(t, rsa1024, ec1), []string{"keys[0]", `"small"`, "would be ignored by keyless"}, 0},
		// jose drops every key sharing a kid: which one is meant is ambiguous.
		{"duplicate kid", jwksDoc(t, ec1, dupKid), []string{"would be ignored by keyless", `"ec1"`, "duplicate kid"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			provider(c).OIDC.JWKSJSON = tc.doc
			check := func(ps Problems, path string) {
				t.Helper()
				if tc.fragments == nil {
					if len(ps) != 0 {
						t.Fatalf("unexpected problems:\n%v", ps)
					}
					return
				}
				if tc.count > 1 {
					if len(ps) != tc.count {
						t.Fatalf("got %d problems, want %d:\n%v", len(ps), tc.count, ps)
					}
					for _, p := range ps {
						wantProblem(t, Problems{p}, path, tc.fragments...)
					}
					return
				}
				wantProblem(t, ps, path, tc.fragments...)
			}
			check(c.Validate(), pProvider+".oidc.jwksJson")
			// The AWS dialect's pinned keys follow the same policy.
			c = validConfig()
			oidcProv(c).JWKSJSON = tc.doc
			check(c.Validate(), pOIDCProv+".jwksJson")
		})
	}
}

func TestValidateJWKSEmptyIsDiscovery(t *testing.T) {
	t.Parallel()
	c := validConfig()
	provider(c).OIDC.JWKSJSON = ""
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatal(ps)
	}
	if strings.Contains(jwksDoc(t), "null") {
		t.Fatal("empty key list must encode as []")
	}
}
