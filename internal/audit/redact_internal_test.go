package audit

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func jwt(header string) string {
	return b64(header) + "." + b64(`{"sub":"repo:org/app:ref:refs/heads/main","aud":"x"}`) + "." + b64("signature-bytes")
}

func TestRedactJWTs(t *testing.T) {
	t.Parallel()
	jws := jwt(`{"alg":"RS256","kid":"k1"}`)
	spaced := jwt("{\n  \"alg\": \"ES256\"\n}")
	jwe := b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".ZW5j.aXY.Y2lwaGVy.dGFn"
	unsigned := b64(`{"alg":"none"}`) + "." + b64(`{"sub":"x"}`) + "."
	red := func(tok string) string { return "[redacted-jwt sha256:" + TokenHash(tok) + "]" }
	for _, c := range []struct{ in, want string }{
		{jws, red(jws)},
		{"token " + jws + " rejected", "token " + red(jws) + " rejected"},
		{"got " + jws + ".", "got " + red(jws) + "."},
		{`{"subject_token":"` + jws + `"}`, `{"subject_token":"` + red(jws) + `"}`},
		{"a=" + jws + "&b=" + spaced, "a=" + red(jws) + "&b=" + red(spaced)},
		{jwe, red(jwe)},
		{jwe + ".more", red(jwe) + ".more"},
		{unsigned, red(unsigned)},
		{"prefix.x." + jws, "prefix.x." + red(jws)},
		// Not tokens: left alone.
		{"https://example.com.au/path", "https://example.com.au/path"},
		{"version 1.2.3 of eyJ", "version 1.2.3 of eyJ"},
		{"ewok.ewok.ewok", "ewok.ewok.ewok"},
		{b64(`{"alg":"RS256"}`) + ".only-two", b64(`{"alg":"RS256"}`) + ".only-two"},
		{b64(`["not","an","object"]`) + ".a.b", b64(`["not","an","object"]`) + ".a.b"},
		{"", ""},
		{"no dots at all", "no dots at all"},
	} {
		if got := redactJWTs(c.in); got != c.want {
			t.Errorf("redactJWTs(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

// A long adversarial run of header-looking segments must stay linear.
func TestRedactJWTsLinear(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("eyJhbGciOiJIUzI1NiJ9x.", 3000)
	_ = redactJWTs(in) // the test's timeout catches quadratic behaviour
	huge := strings.Repeat("eyJ", 100_000) + ".a.b"
	if got := redactJWTs(huge); got != huge {
		t.Error("an oversized header was treated as a token")
	}
}

func FuzzRedactJWTs(f *testing.F) {
	f.Add(jwt(`{"alg":"RS256","kid":"k1"}`))
	f.Add("detail: " + jwt(`{"alg":"ES256"}`) + ". more")
	f.Add(b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".ZW5j.aXY.Y2lwaGVy.dGFn.")
	f.Add("https://example.com.au/x.y.z")
	f.Add(`{"trace":{"subject_token":"` + jwt("{\n\"alg\":\"EdDSA\"}") + `"}}`)
	f.Fuzz(func(t *testing.T, s string) {
		out := redactJWTs(s)
		if redactJWTs(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, redactJWTs(out))
		}
		// Nothing left that the redactor itself would call a token.
		for i := range len(out) {
			if (i == 0 || !isB64(out[i-1])) && tokenLen(runAt(out, i)) > 0 {
				t.Fatalf("token left at %d in %q", i, out)
			}
		}
		// Valid JSON stays valid JSON.
		if json.Valid([]byte(s)) && !json.Valid([]byte(out)) {
			t.Fatalf("redaction broke JSON: %q -> %q", s, out)
		}
		if out == s {
			return
		}
		if !strings.Contains(out, "[redacted-jwt sha256:") {
			t.Fatalf("changed without a redaction marker: %q -> %q", s, out)
		}
	})
}

func runAt(s string, i int) string {
	j := i
	for j < len(s) && isRunChar(s[j]) {
		j++
	}
	return s[i:j]
}
