package jose

// JOSE Cookbook (RFC 7520) examples from testdata/jose-cookbook (see its README).

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

type cookbookOutput struct {
	Output struct {
		Compact  string          `json:"compact"`
		JSON     json.RawMessage `json:"json"`
		JSONFlat json.RawMessage `json:"json_flat"`
	} `json:"output"`
}

type cookbookExample struct {
	cookbookOutput
	Input struct {
		Payload string                     `json:"payload"`
		Key     map[string]json.RawMessage `json:"key"`
	} `json:"input"`
}

func readCookbook(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jose-cookbook", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// publicKeySet imports the example's key twice: as given (it carries private
// members, so key policy must drop it) and with the private members removed.
func publicKeySet(t *testing.T, key map[string]json.RawMessage) *KeySet {
	t.Helper()
	full, err := json.Marshal(map[string]any{"keys": []any{key}})
	if err != nil {
		t.Fatal(err)
	}
	ks, dropped, err := ParseKeySet(full)
	if err != nil || len(ks.Keys) != 0 || len(dropped) != 1 {
		t.Fatalf("private JWK not dropped: keys=%v dropped=%v err=%v", ks, dropped, err)
	}
	pub := map[string]json.RawMessage{}
	for k, v := range key {
		switch k {
		case "d", "p", "q", "dp", "dq", "qi":
		default:
			pub[k] = v
		}
	}
	doc, err := json.Marshal(map[string]any{"keys": []any{pub}})
	if err != nil {
		t.Fatal(err)
	}
	ks, dropped, err = ParseKeySet(doc)
	if err != nil || len(dropped) != 0 || len(ks.Keys) != 1 {
		t.Fatalf("public JWK: dropped=%v err=%v", dropped, err)
	}
	return ks
}

func TestCookbookAccepted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, alg string }{
		{"jws/4_1.rsa_v15_signature.json", "RS256"},
		{"jws/4_2.rsa-pss_signature.json", "PS384"},
		{"jws/4_3.ecdsa_signature.json", "ES512"},
		{"curve25519/jws.json", "EdDSA"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var ex cookbookExample
			readCookbook(t, tc.file, &ex)
			ks := publicKeySet(t, ex.Input.Key)
			// The payloads are prose, not claim sets: JWS layer only.
			tok, err := parseJWS(ex.Output.Compact, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Header.Alg != tc.alg || string(tok.RawClaims) != ex.Input.Payload {
				t.Fatalf("alg %q payload %q", tok.Header.Alg, tok.RawClaims)
			}
			if _, err := tok.Verify(ks, []string{tc.alg}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// As a JWT the prose payload is refused.
			_, err = ParseCompact(ex.Output.Compact, 0)
			wantKind(t, err, ErrMalformed)
			// Its JSON serializations are refused.
			for _, js := range []json.RawMessage{ex.Output.JSON, ex.Output.JSONFlat} {
				_, err := parseJWS(string(js), 0)
				wantKind(t, err, ErrMalformed)
			}
		})
	}
}

func TestCookbookNestedSignedPartAccepted(t *testing.T) {
	t.Parallel()
	var ex struct {
		Sign    cookbookExample `json:"sign"`
		Encrypt cookbookExample `json:"encrypt"`
	}
	readCookbook(t, "6.nesting_signatures_and_encryption.json", &ex)
	tok, err := ParseCompact(ex.Sign.Output.Compact, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Verify(publicKeySet(t, ex.Sign.Input.Key), DefaultAlgs); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if tok.Claims["iss"] != "hobbiton.example" {
		t.Errorf("claims = %v", tok.Claims)
	}
	_, err = ParseCompact(ex.Encrypt.Output.Compact, 0)
	wantKind(t, err, ErrMalformed)
}

func TestCookbookRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		kind error // for the compact form, when there is one
	}{
		{"jws/4_4.hmac-sha2_integrity_protection.json", ErrAlgorithm},
		{"jws/4_5.signature_with_detached_content.json", ErrMalformed},
		{"jws/4_6.protecting_specific_header_fields.json", nil},
		{"jws/4_7.protecting_content_only.json", nil},
		{"jws/4_8.multiple_signatures.json", nil},
		{"rfc7797/hmac-sha2_b64_false.json", ErrMalformed},
		{"rfc7797/4.2.hmac-sha2_b64_false.json", nil},
	}
	jwe, err := filepath.Glob(filepath.Join("testdata", "jose-cookbook", "jwe", "*.json"))
	if err != nil || len(jwe) != 13 {
		t.Fatalf("want 13 JWE examples, got %d (%v)", len(jwe), err)
	}
	for _, f := range jwe {
		tests = append(tests, struct {
			file string
			kind error
		}{filepath.Join("jwe", filepath.Base(f)), ErrMalformed})
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var ex cookbookOutput
			readCookbook(t, tc.file, &ex)
			forms := 0
			if ex.Output.Compact != "" {
				forms++
				_, err := parseJWS(ex.Output.Compact, 0)
				wantKind(t, err, tc.kind)
			}
			for _, js := range []json.RawMessage{ex.Output.JSON, ex.Output.JSONFlat} {
				if len(js) == 0 {
					continue
				}
				forms++
				if _, err := parseJWS(string(js), 0); !errors.Is(err, ErrMalformed) {
					t.Errorf("JSON serialization: got %v", err)
				}
			}
			if forms == 0 {
				t.Fatal("example has no output")
			}
		})
	}
}
