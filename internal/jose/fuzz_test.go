package jose

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c2sp/wycheproof"
)

func FuzzParseCompact(f *testing.F) {
	k1 := testP256()
	ks, _, err := ParseKeySet(jwksBytes(f, jwkOf(f, &k1.PublicKey, map[string]any{"kid": "k1"}), jwkOf(f, &testRSA2048().PublicKey, map[string]any{"kid": "k2"})))
	if err != nil {
		f.Fatal(err)
	}
	// Tokens signed by keys in ks: the only signing inputs that may verify.
	signed := []string{
		signJWT(f, "ES256", k1, map[string]any{"kid": "k1", "typ": "JWT"}, sampleClaims),
		signJWT(f, "RS256", testRSA2048(), map[string]any{"kid": "k2"}, map[string]any{"aud": []string{"a", "b"}, "kubernetes.io": map[string]any{"namespace": "default"}}),
	}
	signedInputs := map[string]bool{}
	for _, s := range signed {
		f.Add(s)
		signedInputs[s[:strings.LastIndexByte(s, '.')]] = true
	}
	valid := signed[0]
	f.Add(signJWT(f, "EdDSA", testEd25519(), nil, sampleClaims))
	f.Add(valid + ".")
	f.Add(strings.Repeat(".", 100))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.AAAA")
	f.Add("e30.e30.e30")
	for _, name := range []string{"jws/4_1.rsa_v15_signature.json", "jws/4_3.ecdsa_signature.json", "jwe/5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "jose-cookbook", name))
		if err != nil {
			f.Fatal(err)
		}
		var ex cookbookOutput
		if err := json.Unmarshal(b, &ex); err != nil {
			f.Fatal(err)
		}
		f.Add(ex.Output.Compact)
	}
	if b, err := fs.ReadFile(wycheproof.TestVectors, "json_web_signature_test.json"); err == nil {
		var jf joseFile
		if json.Unmarshal(b, &jf) == nil {
			for _, g := range jf.TestGroups {
				for i, tc := range g.Tests {
					var s string
					if i%4 == 0 && json.Unmarshal(tc.JWS, &s) == nil {
						f.Add(s)
					}
				}
			}
		}
	}

	f.Fuzz(func(t *testing.T, token string) {
		tok, err := ParseCompact(token, DefaultMaxTokenBytes)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) || (!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrAlgorithm)) {
				t.Fatalf("untyped or unexpected error: %v", err)
			}
			if tok != nil {
				t.Fatal("token returned with an error")
			}
			return
		}
		// Whatever was accepted meets the documented invariants.
		parts := strings.Split(token, ".")
		if len(parts) != 3 || parts[2] == "" {
			t.Fatalf("accepted %d segments", len(parts))
		}
		if b64u(tok.RawHeader) != parts[0] || b64u(tok.RawClaims) != parts[1] || b64u(tok.signature) != parts[2] {
			t.Fatal("accepted non-canonical base64url")
		}
		if string(tok.signingInput) != parts[0]+"."+parts[1] {
			t.Fatal("signing input differs from the token")
		}
		a := tok.Header.Alg
		if a == "" || strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS") {
			t.Fatalf("accepted alg %q", a)
		}
		for _, name := range forbiddenHeaders {
			if _, ok := tok.Header.Params[name]; ok {
				t.Fatalf("accepted header %s", name)
			}
		}
		if tok.Claims == nil {
			t.Fatal("nil claims")
		}
		// Verify never panics and only succeeds on what the keys really signed.
		if _, err := tok.Verify(ks, DefaultAlgs); err == nil && !signedInputs[string(tok.signingInput)] {
			t.Fatal("verification succeeded on an input nobody signed")
		}
	})
}

func FuzzParseKeySet(f *testing.F) {
	f.Add(jwksBytes(f,
		jwkOf(f, &testRSA2048().PublicKey, map[string]any{"kid": "rsa", "use": "sig", "alg": "RS256"}),
		jwkOf(f, &testP256().PublicKey, map[string]any{"kid": "ec", "key_ops": []string{"verify"}}),
		jwkOf(f, testEd25519().Public(), map[string]any{"kid": "ed"}),
	))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA","kid":"a"},{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[],"spiffe_sequence":1}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"x"},{"kid":"x"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","kty":"RSA"}]}`))
	f.Add([]byte(`[]`))
	for _, name := range []string{"json_web_key_test.json", "json_web_signature_test.json"} {
		b, err := fs.ReadFile(wycheproof.TestVectors, name)
		if err != nil {
			f.Fatal(err)
		}
		var jf joseFile
		if err := json.Unmarshal(b, &jf); err != nil {
			f.Fatal(err)
		}
		for _, g := range jf.TestGroups {
			raw := g.Public
			if len(raw) == 0 {
				raw = g.Private
			}
			if bytes.Contains(raw, []byte(`"keys"`)) {
				f.Add([]byte(raw))
			} else {
				f.Add([]byte(`{"keys":[` + string(raw) + `]}`))
			}
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		ks, dropped, err := ParseKeySet(data)
		if err != nil {
			if ks != nil || dropped != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("bad error result: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, k := range ks.Keys {
			if k.KID != "" {
				if seen[k.KID] {
					t.Fatalf("duplicate kid %q kept", k.KID)
				}
				seen[k.KID] = true
			}
			fits := false
			for _, alg := range DefaultAlgs {
				if keyFitsAlg(alg, k.Public) {
					fits = true
				}
			}
			if !fits || (k.Alg != "" && !keyFitsAlg(k.Alg, k.Public)) {
				t.Fatalf("kept an unusable key %T alg %q", k.Public, k.Alg)
			}
		}
		last := -1
		for _, d := range dropped {
			if d.Index <= last || d.Reason == "" {
				t.Fatalf("dropped entries out of order or without reason: %+v", dropped)
			}
			last = d.Index
		}
		// Deterministic.
		ks2, dropped2, _ := ParseKeySet(data)
		if len(ks2.Keys) != len(ks.Keys) || len(dropped2) != len(dropped) {
			t.Fatal("not deterministic")
		}
	})
}
