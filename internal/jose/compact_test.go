package jose

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/strictjson"
)

func TestParseCompactValid(t *testing.T) {
	t.Parallel()
	priv := testP256()
	tok := signJWT(t, "ES256", priv, map[string]any{"kid": "k1", "typ": "JWT", "x5t": "thumb", "cty": "application/json"},
		map[string]any{"iss": "https://issuer.test", "n": 1700000000, "nested": map[string]any{"a": []any{1, "x"}}})
	got, err := ParseCompact(tok, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := got.Header
	if h.Alg != "ES256" || h.KID != "k1" || h.Typ != "JWT" || h.Cty != "application/json" || h.Params["x5t"] != "thumb" {
		t.Errorf("header = %+v", h)
	}
	if got.Claims["iss"] != "https://issuer.test" {
		t.Errorf("claims = %v", got.Claims)
	}
	if n, ok := got.Claims["n"].(json.Number); !ok || n.String() != "1700000000" {
		t.Errorf("numbers must decode as json.Number, got %T %v", got.Claims["n"], got.Claims["n"])
	}
	if !bytes.Equal(got.RawClaims, mustJSON(t, map[string]any{"iss": "https://issuer.test", "n": 1700000000, "nested": map[string]any{"a": []any{1, "x"}}})) {
		t.Errorf("RawClaims = %s", got.RawClaims)
	}
	if !bytes.Contains(got.RawHeader, []byte(`"alg":"ES256"`)) {
		t.Errorf("RawHeader = %s", got.RawHeader)
	}
	ks := mustKeySet(t, jwkOf(t, &priv.PublicKey, map[string]any{"kid": "k1"}))
	if _, err := got.Verify(ks, DefaultAlgs); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// TestParseCompactHeaderRules covers each header rule with a correctly
// signed token, so only the rule under test can reject it.
func TestParseCompactHeaderRules(t *testing.T) {
	t.Parallel()
	priv := testP256()
	payload := mustJSON(t, sampleClaims)
	tests := []struct {
		name   string
		header string
		kind   error
	}{
		{"no alg", `{"kid":"k1"}`, ErrMalformed},
		{"alg null", `{"alg":null}`, ErrMalformed},
		{"alg number", `{"alg":256}`, ErrMalformed},
		{"alg empty", `{"alg":""}`, ErrMalformed},
		{"alg array", `{"alg":["ES256"]}`, ErrMalformed},
		{"alg none", `{"alg":"none"}`, ErrAlgorithm},
		{"alg HS512", `{"alg":"HS512"}`, ErrAlgorithm},
		{"alg hs256", `{"alg":"hs256"}`, ErrAlgorithm},
		{"jwk", `{"alg":"ES256","jwk":{"kty":"EC"}}`, ErrMalformed},
		{"jku", `{"alg":"ES256","jku":"https://attacker.test/jwks"}`, ErrMalformed},
		{"x5u", `{"alg":"ES256","x5u":"https://attacker.test/cert"}`, ErrMalformed},
		{"x5c", `{"alg":"ES256","x5c":["MIIB"]}`, ErrMalformed},
		{"crit", `{"alg":"ES256","crit":["exp"],"exp":1}`, ErrMalformed},
		{"crit empty", `{"alg":"ES256","crit":[]}`, ErrMalformed},
		{"b64 true", `{"alg":"ES256","b64":true}`, ErrMalformed},
		{"enc", `{"alg":"ES256","enc":"A128GCM"}`, ErrMalformed},
		{"zip", `{"alg":"ES256","zip":"DEF"}`, ErrMalformed},
		{"cty JWT", `{"alg":"ES256","cty":"JWT"}`, ErrMalformed},
		{"cty jwt", `{"alg":"ES256","cty":"jwt"}`, ErrMalformed},
		{"kid empty", `{"alg":"ES256","kid":""}`, ErrMalformed},
		{"kid null", `{"alg":"ES256","kid":null}`, ErrMalformed},
		{"kid number", `{"alg":"ES256","kid":1}`, ErrMalformed},
		{"kid too long", `{"alg":"ES256","kid":"` + strings.Repeat("k", 257) + `"}`, ErrMalformed},
		{"typ number", `{"alg":"ES256","typ":1}`, ErrMalformed},
		{"typ false", `{"alg":"ES256","typ":false}`, ErrMalformed},
		{"cty object", `{"alg":"ES256","cty":{}}`, ErrMalformed},
		{"duplicate alg", `{"alg":"ES256","alg":"none"}`, ErrMalformed},
		{"duplicate alg escaped", `{"alg":"ES256","\u0061lg":"ES256"}`, ErrMalformed},
		{"duplicate nested", `{"alg":"ES256","ext":{"a":1,"a":1}}`, ErrMalformed},
		{"duplicate in array", `{"alg":"ES256","ext":[{"a":1,"a":1}]}`, ErrMalformed},
		{"too deep", `{"alg":"ES256","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, ErrMalformed},
		{"trailing object", `{"alg":"ES256"}{}`, ErrMalformed},
		{"trailing garbage", `{"alg":"ES256"}x`, ErrMalformed},
		{"not json", `alg=ES256`, ErrMalformed},
		{"empty", ``, ErrMalformed},
		{"array", `[{"alg":"ES256"}]`, ErrMalformed},
		{"string", `"ES256"`, ErrMalformed},
		{"null", `null`, ErrMalformed},
		{"invalid utf8", "{\"alg\":\"ES256\",\"x\":\"\xff\xfe\"}", ErrMalformed},
		{"invalid utf8 in name", "{\"alg\":\"ES256\",\"\xc3\":1}", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCompact(signParts(t, "ES256", priv, []byte(tc.header), payload), 0)
			wantKind(t, err, tc.kind)
		})
	}
	// Whitespace, CRLF and unknown members in the header JSON are fine (RFC 7515 A.1).
	for _, hdr := range []string{"{\"alg\":\"ES256\",\r\n \"kid\":\"k1\"}", ` { "alg" : "ES256" } `, `{"alg":"ES256","x5t":"t","custom":{"a":[1,2]}}`} {
		if _, err := ParseCompact(signParts(t, "ES256", priv, []byte(hdr), payload), 0); err != nil {
			t.Errorf("header %q: %v", hdr, err)
		}
	}
}

func TestParseCompactPayloadRules(t *testing.T) {
	t.Parallel()
	priv := testP256()
	hdr := []byte(`{"alg":"ES256"}`)
	tests := map[string]string{
		"duplicate top":        `{"exp":1,"exp":2}`,
		"duplicate nested":     `{"a":{"b":1,"b":2}}`,
		"duplicate deep array": `{"a":[{"b":[{"c":1,"c":1}]}]}`,
		"too deep":             `{"a":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`,
		"trailing":             `{"a":1} {"b":2}`,
		"invalid utf8":         "{\"sub\":\"\xed\xa0\x80\"}",
		"truncated":            `{"a":1`,
		"bad number":           `{"a":01}`,
		"single quotes":        `{'a':1}`,
	}
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCompact(signParts(t, "ES256", priv, hdr, []byte(payload)), 0)
			wantKind(t, err, ErrMalformed)
		})
	}
	// Depth exactly at the limit is accepted.
	ok := strings.Repeat(`{"a":`, strictjson.MaxDepth) + `1` + strings.Repeat(`}`, strictjson.MaxDepth)
	if _, err := ParseCompact(signParts(t, "ES256", priv, hdr, []byte(ok)), 0); err != nil {
		t.Errorf("depth %d: %v", strictjson.MaxDepth, err)
	}
	over := `[` + ok + `]`
	if _, err := ParseCompact(signParts(t, "ES256", priv, hdr, []byte(`{"x":`+over+`}`)), 0); err == nil {
		t.Errorf("depth %d accepted", strictjson.MaxDepth+2)
	}
}

func TestParseCompactSizeLimit(t *testing.T) {
	t.Parallel()
	tok := signJWT(t, "ES256", testP256(), nil, sampleClaims)
	if _, err := ParseCompact(tok, len(tok)); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err := ParseCompact(tok, len(tok)-1)
	wantKind(t, err, ErrTooLarge)
	wantKind(t, err, ErrMalformed)
	big := signJWT(t, "ES256", testP256(), nil, map[string]any{"x": strings.Repeat("x", DefaultMaxTokenBytes)})
	_, err = ParseCompact(big, 0)
	wantKind(t, err, ErrTooLarge)
	if _, err := ParseCompact(big, 2*DefaultMaxTokenBytes); err != nil {
		t.Fatalf("explicit larger limit: %v", err)
	}
}

func TestErrorsDoNotEchoToken(t *testing.T) {
	t.Parallel()
	priv := testP256()
	marker := "SECRETMARKERVALUE"
	toks := []string{
		signParts(t, "ES256", priv, []byte(`{"alg":"`+marker+`","kid":"`+marker+`"}`), []byte(`{}`)),
		signParts(t, "ES256", priv, []byte(`{"alg":"ES256","jku":"`+marker+`"}`), []byte(`{}`)),
		signParts(t, "ES256", priv, []byte(`{"alg":"ES256","kid":"`+marker+`"}`), []byte(`{"`+marker+`":1,"`+marker+`":1}`)),
		signParts(t, "ES256", priv, []byte(`{"alg":"ES256","kid":"`+marker+`"}`), []byte(`{"a":"`+marker+`"}`)),
		marker + ".." + marker,
	}
	ks := mustKeySet(t, jwkOf(t, &priv.PublicKey, map[string]any{"kid": "k1"}))
	for i, tok := range toks {
		var msgs []string
		parsed, err := ParseCompact(tok, 0)
		if err != nil {
			msgs = append(msgs, err.Error())
		} else {
			_, err = parsed.Verify(ks, []string{"ES256"})
			if err == nil {
				t.Fatalf("token %d verified", i)
			}
			msgs = append(msgs, err.Error())
		}
		for _, m := range msgs {
			if strings.Contains(m, marker) || strings.Contains(m, tok[:10]) {
				t.Errorf("token %d: error %q echoes token content", i, m)
			}
		}
	}
}
