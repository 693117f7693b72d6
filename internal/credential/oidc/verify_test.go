package oidc

import (
	"context"
	"crypto"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

func TestVerifyValid(t *testing.T) {
	t.Parallel()
	keys := &recordingKeys{set: testKeys()}
	raw := token(t, baseClaims())
	for _, variant := range []string{raw, raw + "\n", " \t" + raw + "\r\n", "\v\f" + raw} {
		v, err := Verify(context.Background(), testPolicy(), keys, variant, testNow)
		if err != nil {
			t.Fatalf("Verify(%q...): %v", variant[:3], err)
		}
		if v.Issuer != testIssuer || v.Subject != "repo:org/repo:ref:refs/heads/main" || v.JTI != "id-1" ||
			!slices.Equal(v.Audience, []string{testAudience}) || v.Key.KID != "k1" || v.Header.Alg != "ES256" ||
			!v.Expiry.Equal(testNow.Add(290*time.Second)) || !v.IssuedAt.Equal(testNow.Add(-10*time.Second)) ||
			!v.NotBefore.Equal(testNow.Add(-10*time.Second)) || v.Claims["iss"] != testIssuer {
			t.Fatalf("Verified = %+v", v)
		}
	}
	if got := keys.calls(); len(got) != 4 || got[0] != "k1" {
		t.Fatalf("KeySource asked for %v, want the token's kid", got)
	}
}

func TestVerifyAlgorithmsAndKeys(t *testing.T) {
	t.Parallel()
	c := mustJSON(t, baseClaims())
	for _, tc := range []struct {
		alg, kid string
		priv     crypto.Signer
	}{{"RS256", "k2", testRSA()}, {"EdDSA", "k3", testEd()}} {
		tok := sign(t, tc.alg, tc.priv, []byte(`{"alg":"`+tc.alg+`","kid":"`+tc.kid+`"}`), c)
		if _, err := Verify(context.Background(), testPolicy(), StaticKeys{Set: testKeys()}, tok, testNow); err != nil {
			t.Fatalf("%s: %v", tc.alg, err)
		}
	}
}

// TestVerifyStages has a case per failure of every stage, plus the
// boundaries that must still pass.
func TestVerifyStages(t *testing.T) {
	t.Parallel()
	now := testNow.Unix()
	static := StaticKeys{Set: testKeys()}
	fetchErr := &recordingKeys{err: errors.New("dial tcp: connection refused")}
	nilSet := &recordingKeys{}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	good := token(t, baseClaims())

	pol := func(mut func(p *Policy)) *Policy {
		p := testPolicy()
		if mut != nil {
			mut(p)
		}
		return p
	}
	type tc struct {
		name   string
		policy *Policy
		keys   KeySource
		ctx    context.Context
		token  string
		stage  Stage // "" means: must verify
		is     error // optional errors.Is target
	}
	tests := []tc{
		{name: "control", token: good},

		// policy
		{name: "policy/nil", policy: nil, token: good, stage: StagePolicy},
		{name: "policy/empty issuer", policy: pol(func(p *Policy) { p.Issuer = "" }), token: good, stage: StagePolicy},
		{name: "policy/no audiences", policy: pol(func(p *Policy) { p.Audiences = nil }), token: good, stage: StagePolicy},
		{name: "policy/empty audience", policy: pol(func(p *Policy) { p.Audiences = []string{testAudience, ""} }), token: good, stage: StagePolicy},
		{name: "policy/HS256 allowed", policy: pol(func(p *Policy) { p.AllowedAlgs = []string{"ES256", "HS256"} }), token: good, stage: StagePolicy},
		{name: "policy/none allowed", policy: pol(func(p *Policy) { p.AllowedAlgs = []string{"none"} }), token: good, stage: StagePolicy},
		{name: "policy/empty alg list", policy: pol(func(p *Policy) { p.AllowedAlgs = []string{} }), token: good, stage: StagePolicy},
		{name: "policy/leeway 61s", policy: pol(func(p *Policy) { p.Leeway = 61 * time.Second }), token: good, stage: StagePolicy},
		{name: "policy/negative leeway", policy: pol(func(p *Policy) { p.Leeway = -time.Second }), token: good, stage: StagePolicy},
		{name: "policy/negative max bytes", policy: pol(func(p *Policy) { p.MaxTokenBytes = -1 }), token: good, stage: StagePolicy},
		{name: "policy/huge max bytes", policy: pol(func(p *Policy) { p.MaxTokenBytes = 2 << 20 }), token: good, stage: StagePolicy},
		{name: "policy/nil key source", keys: KeySource(nil), token: good, stage: StagePolicy},

		// format
		{name: "format/garbage", token: "not a token", stage: StageFormat, is: jose.ErrMalformed},
		{name: "format/empty", token: "", stage: StageFormat, is: jose.ErrMalformed},
		{name: "format/only whitespace", token: " \n", stage: StageFormat, is: jose.ErrMalformed},
		{name: "format/alg none", token: b64u([]byte(`{"alg":"none","kid":"k1"}`)) + "." + b64u(mustJSON(t, baseClaims())) + ".AAAA", stage: StageFormat, is: jose.ErrAlgorithm},
		{name: "format/HS256", token: b64u([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + b64u(mustJSON(t, baseClaims())) + ".AAAA", stage: StageFormat, is: jose.ErrAlgorithm},
		{name: "format/jku header", token: sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k1","jku":"https://evil.test"}`), mustJSON(t, baseClaims())), stage: StageFormat},
		{name: "format/over 16KiB", token: token(t, with(baseClaims(), "pad", strings.Repeat("x", 16<<10))), stage: StageFormat, is: jose.ErrTooLarge},
		{name: "format/over custom limit", policy: pol(func(p *Policy) { p.MaxTokenBytes = 100 }), token: good, stage: StageFormat, is: jose.ErrTooLarge},
		{name: "format/no kid (required)", token: sign(t, "ES256", testEC(), []byte(`{"alg":"ES256"}`), mustJSON(t, baseClaims())), stage: StageFormat},
		{name: "format/payload array", token: sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k1"}`), []byte(`[1]`)), stage: StageFormat},
		{name: "format/duplicate claim", token: sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k1"}`), []byte(`{"iss":"https://issuer.test","iss":"https://evil.test"}`)), stage: StageFormat},
		{name: "format/internal whitespace", token: good[:20] + " " + good[20:], stage: StageFormat},
		{name: "format/unicode whitespace not trimmed", token: "\u00a0" + good, stage: StageFormat},

		// key_fetch
		{name: "key_fetch/source error", keys: fetchErr, token: good, stage: StageKeyFetch},
		{name: "key_fetch/nil set", keys: nilSet, token: good, stage: StageKeyFetch},
		{name: "key_fetch/static without set", keys: StaticKeys{}, token: good, stage: StageKeyFetch},
		{name: "key_fetch/canceled context", ctx: canceled, token: good, stage: StageKeyFetch, is: context.Canceled},

		// signature
		{name: "signature/wrong key", token: sign(t, "ES256", testEC2(), []byte(`{"alg":"ES256","kid":"k1"}`), mustJSON(t, baseClaims())), stage: StageSignature, is: jose.ErrSignature},
		{name: "signature/unknown kid", token: sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k9"}`), mustJSON(t, baseClaims())), stage: StageSignature, is: jose.ErrUnknownKey},
		{name: "signature/alg not in policy", policy: pol(func(p *Policy) { p.AllowedAlgs = []string{"RS256"} }), token: good, stage: StageSignature, is: jose.ErrAlgorithm},
		{name: "signature/kid of another key type", token: sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k2"}`), mustJSON(t, baseClaims())), stage: StageSignature, is: jose.ErrAlgorithm},
		{name: "signature/claims swapped", token: swapPayload(good, token(t, with(baseClaims(), "sub", "admin"))), stage: StageSignature, is: jose.ErrSignature},

		// issuer
		{name: "issuer/other", token: token(t, with(baseClaims(), "iss", "https://evil.test")), stage: StageIssuer},
		{name: "issuer/trailing slash", token: token(t, with(baseClaims(), "iss", testIssuer+"/")), stage: StageIssuer},
		{name: "issuer/case", token: token(t, with(baseClaims(), "iss", "https://ISSUER.test")), stage: StageIssuer},
		{name: "issuer/empty", token: token(t, with(baseClaims(), "iss", "")), stage: StageIssuer},

		// audience
		{name: "audience/other", token: token(t, with(baseClaims(), "aud", "https://other.test")), stage: StageAudience},
		{name: "audience/array without match", token: token(t, with(baseClaims(), "aud", []string{"a", "b"})), stage: StageAudience},
		{name: "audience/empty array", token: token(t, with(baseClaims(), "aud", []string{})), stage: StageAudience},
		{name: "audience/trailing slash", token: token(t, with(baseClaims(), "aud", testAudience+"/")), stage: StageAudience},
		{name: "audience/case", token: token(t, with(baseClaims(), "aud", strings.ToUpper(testAudience))), stage: StageAudience},
		{name: "audience/array match", token: token(t, with(baseClaims(), "aud", []string{"x", testAudience})), stage: ""},

		// expired
		{name: "expired/61s ago", token: token(t, with(baseClaims(), "exp", now-61)), stage: StageExpired},
		{name: "expired/exactly exp+leeway", token: token(t, with(baseClaims(), "exp", now-60)), stage: StageExpired},
		{name: "expired/leeway 1s", policy: pol(func(p *Policy) { p.Leeway = time.Second }), token: token(t, with(baseClaims(), "exp", now-2)), stage: StageExpired},
		{name: "expired/within leeway", token: token(t, with(baseClaims(), "exp", now-59, "iat", now-100, "nbf", nil)), stage: ""},

		// not_yet_valid
		{name: "not_yet_valid/61s ahead", token: token(t, with(baseClaims(), "nbf", now+61)), stage: StageNotYetValid},
		{name: "not_yet_valid/within leeway", token: token(t, with(baseClaims(), "nbf", now+60)), stage: ""},
		{name: "not_yet_valid/absent nbf", token: token(t, with(baseClaims(), "nbf", nil)), stage: ""},

		// issued_in_future
		{name: "issued_in_future/61s ahead", token: token(t, with(baseClaims(), "iat", now+61, "nbf", nil)), stage: StageIssuedInFuture},
		{name: "issued_in_future/within leeway", token: token(t, with(baseClaims(), "iat", now+60, "nbf", nil)), stage: ""},

		// lifetime
		{name: "lifetime/48h+1s", token: token(t, with(baseClaims(), "iat", now-10, "exp", now-10+48*3600+1)), stage: StageLifetime},
		{name: "lifetime/exactly 48h", token: token(t, with(baseClaims(), "iat", now-10, "exp", now-10+48*3600)), stage: ""},
		{name: "lifetime/custom 5m", policy: pol(func(p *Policy) { p.MaxLifetime = 5 * time.Minute }), token: good, stage: ""},
		{name: "lifetime/custom 4m", policy: pol(func(p *Policy) { p.MaxLifetime = 4 * time.Minute }), token: good, stage: StageLifetime},
		{name: "lifetime/exp before iat", token: token(t, with(baseClaims(), "iat", now+30, "exp", now+20)), stage: StageLifetime},
		{name: "lifetime/disabled, 1 year", policy: pol(func(p *Policy) { p.MaxLifetime = -1 }), token: token(t, with(baseClaims(), "exp", now+365*24*3600)), stage: ""},

		// missing_claim
		{name: "missing_claim/iss", token: token(t, with(baseClaims(), "iss", nil)), stage: StageMissingClaim},
		{name: "missing_claim/aud", token: token(t, with(baseClaims(), "aud", nil)), stage: StageMissingClaim},
		{name: "missing_claim/exp", token: token(t, with(baseClaims(), "exp", nil)), stage: StageMissingClaim},
		{name: "missing_claim/iat", token: token(t, with(baseClaims(), "iat", nil)), stage: StageMissingClaim},
		{name: "missing_claim/iat not needed without lifetime", policy: pol(func(p *Policy) { p.MaxLifetime = -1 }), token: token(t, with(baseClaims(), "iat", nil)), stage: ""},
		{name: "missing_claim/sub is optional", token: token(t, with(baseClaims(), "sub", nil, "jti", nil)), stage: ""},

		// invalid_claim
		{name: "invalid_claim/iss number", token: token(t, with(baseClaims(), "iss", 1)), stage: StageInvalidClaim},
		{name: "invalid_claim/iss array", token: token(t, with(baseClaims(), "iss", []string{testIssuer})), stage: StageInvalidClaim},
		{name: "invalid_claim/iss null", token: tokenRaw(t, `{"iss":null,"aud":"`+testAudience+`","exp":`+itoa(now+60)+`,"iat":`+itoa(now)+`}`), stage: StageInvalidClaim},
		{name: "invalid_claim/aud number", token: token(t, with(baseClaims(), "aud", 7)), stage: StageInvalidClaim},
		{name: "invalid_claim/aud object", token: token(t, with(baseClaims(), "aud", map[string]any{"a": testAudience})), stage: StageInvalidClaim},
		{name: "invalid_claim/aud array with number", token: token(t, with(baseClaims(), "aud", []any{testAudience, 1})), stage: StageInvalidClaim},
		{name: "invalid_claim/aud nested array", token: token(t, with(baseClaims(), "aud", []any{[]string{testAudience}})), stage: StageInvalidClaim},
		{name: "invalid_claim/exp string", token: token(t, with(baseClaims(), "exp", itoa(now+60))), stage: StageInvalidClaim},
		{name: "invalid_claim/exp bool", token: token(t, with(baseClaims(), "exp", true)), stage: StageInvalidClaim},
		{name: "invalid_claim/exp fraction", token: tokenRawExp(t, itoa(now+60)+".5"), stage: StageInvalidClaim},
		{name: "invalid_claim/exp tiny fraction", token: tokenRawExp(t, itoa(now+60)+".0000000001"), stage: StageInvalidClaim},
		{name: "invalid_claim/exp negative", token: tokenRawExp(t, "-1"), stage: StageInvalidClaim},
		{name: "invalid_claim/exp 1e20", token: tokenRawExp(t, "1e20"), stage: StageInvalidClaim},
		{name: "invalid_claim/exp year 10000", token: tokenRawExp(t, "253402300800"), stage: StageInvalidClaim},
		{name: "invalid_claim/exp huge exponent", token: tokenRawExp(t, "1e999999999999"), stage: StageInvalidClaim},
		{name: "invalid_claim/exp integral decimal", token: tokenRawExp(t, itoa(now+60)+".000"), stage: ""},
		{name: "invalid_claim/exp exponent form", token: tokenRawExp(t, "1.70000006e9"), stage: ""},
		{name: "invalid_claim/nbf string", token: token(t, with(baseClaims(), "nbf", "0")), stage: StageInvalidClaim},
		{name: "invalid_claim/iat array", token: token(t, with(baseClaims(), "iat", []any{})), stage: StageInvalidClaim},
		{name: "invalid_claim/iat null", token: tokenRaw(t, `{"iss":"`+testIssuer+`","aud":"`+testAudience+`","exp":`+itoa(now+60)+`,"iat":null}`), stage: StageInvalidClaim},
		{name: "invalid_claim/sub number", token: token(t, with(baseClaims(), "sub", 42)), stage: StageInvalidClaim},
		{name: "invalid_claim/jti object", token: token(t, with(baseClaims(), "jti", map[string]any{})), stage: StageInvalidClaim},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.policy
			if p == nil && !strings.HasPrefix(tc.name, "policy/nil") {
				p = testPolicy()
			}
			keys := tc.keys
			if keys == nil && tc.name != "policy/nil key source" {
				keys = static
			}
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			v, err := Verify(ctx, p, keys, tc.token, testNow)
			if tc.stage == "" {
				if err != nil || v == nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if v != nil {
				t.Fatal("Verified returned with an error")
			}
			e := wantStage(t, err, tc.stage)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not match %v", err, tc.is)
			}
			if e.PublicMessage() == "" || e.PublicMessage() == (&Error{}).PublicMessage() {
				t.Errorf("stage %s has no specific public message", e.Stage)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// tokenRaw signs a literal claims JSON with K1.
func tokenRaw(t *testing.T, claims string) string {
	t.Helper()
	return sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k1"}`), []byte(claims))
}

// tokenRawExp signs valid claims whose exp is the literal lit.
func tokenRawExp(t *testing.T, lit string) string {
	t.Helper()
	now := testNow.Unix()
	return tokenRaw(t, `{"iss":"`+testIssuer+`","aud":"`+testAudience+`","iat":`+itoa(now-10)+`,"exp":`+lit+`}`)
}

// swapPayload puts the payload segment of b into token a.
func swapPayload(a, b string) string {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	return pa[0] + "." + pb[1] + "." + pa[2]
}

// TestVerifyThenTrust: claims play no part before the signature verifies.
func TestVerifyThenTrust(t *testing.T) {
	t.Parallel()
	// A forged token (wrong key) with every claim wrong fails at the
	// signature, never at a claim stage.
	forged := sign(t, "ES256", testEC2(), []byte(`{"alg":"ES256","kid":"k1"}`),
		mustJSON(t, map[string]any{"iss": "https://evil.test", "aud": 1, "exp": "never"}))
	keys := &recordingKeys{set: testKeys()}
	_, err := Verify(context.Background(), testPolicy(), keys, forged, testNow)
	wantStage(t, err, StageSignature)
	// The KeySource learns only the kid, never the (unverified) issuer.
	if got := keys.calls(); len(got) != 1 || got[0] != "k1" {
		t.Fatalf("KeySource calls = %v", got)
	}
	// Malformed tokens never reach the KeySource.
	keys2 := &recordingKeys{set: testKeys()}
	_, err = Verify(context.Background(), testPolicy(), keys2, strings.Repeat(".", 1_000_000), testNow)
	wantStage(t, err, StageFormat)
	if len(keys2.calls()) != 0 {
		t.Fatal("KeySource called for a malformed token")
	}
}

// TestPublicMessageRevealsNoClaims: J7 error oracle. Bad signature, unknown
// kid and expired give stage-only public texts without claim values.
func TestPublicMessageRevealsNoClaims(t *testing.T) {
	t.Parallel()
	secretSub := "repo:secret-org/secret-repo:ref:refs/heads/hidden"
	secretIss := "https://secret-issuer.example"
	now := testNow.Unix()
	claims := func() map[string]any {
		return with(baseClaims(), "sub", secretSub, "jti", "secret-jti", "aud", []string{testAudience, "secret-aud"})
	}
	p := testPolicy()
	badSig := sign(t, "ES256", testEC2(), []byte(`{"alg":"ES256","kid":"k1"}`), mustJSON(t, claims()))
	unknownKID := sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"secret-kid"}`), mustJSON(t, claims()))
	expired := token(t, with(claims(), "exp", now-3600, "iat", now-7200, "nbf", nil))
	wrongIss := token(t, with(claims(), "iss", secretIss))

	seen := map[string]Stage{}
	for _, tc := range []struct {
		tok   string
		stage Stage
	}{{badSig, StageSignature}, {unknownKID, StageSignature}, {expired, StageExpired}, {wrongIss, StageIssuer}} {
		_, err := Verify(context.Background(), p, StaticKeys{Set: testKeys()}, tc.tok, testNow)
		e := wantStage(t, err, tc.stage)
		pub := e.PublicMessage()
		for _, secret := range []string{secretSub, "secret", "hidden", secretIss, "secret-kid", "secret-jti", testIssuer, testAudience, tc.tok[:20], "k1", "ES256"} {
			if strings.Contains(pub, secret) {
				t.Errorf("public message %q reveals %q", pub, secret)
			}
		}
		seen[pub] = e.Stage
	}
	// Bad signature and unknown kid are indistinguishable to the caller.
	if len(seen) != 3 {
		t.Errorf("public messages: %v", seen)
	}
	// The internal text does say what happened.
	_, err := Verify(context.Background(), p, StaticKeys{Set: testKeys()}, wrongIss, testNow)
	if !strings.Contains(err.Error(), secretIss) || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("internal error lacks detail: %v", err)
	}
}

func TestPublicMessagesAreDistinct(t *testing.T) {
	t.Parallel()
	stages := []Stage{StageFormat, StageSignature, StageKeyFetch, StageIssuer, StageAudience, StageExpired, StageNotYetValid,
		StageIssuedInFuture, StageLifetime, StageMissingClaim, StageInvalidClaim, StagePolicy}
	msgs := map[string]bool{}
	for _, s := range stages {
		m := (&Error{Stage: s, Detail: "d"}).PublicMessage()
		if msgs[m] {
			t.Errorf("stage %s reuses public message %q", s, m)
		}
		msgs[m] = true
	}
	if (&Error{Stage: "other"}).PublicMessage() != "the token was rejected" {
		t.Error("unknown stage message")
	}
}

func TestErrorTextAndStageOf(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	e := &Error{Stage: StageKeyFetch, Detail: "detail", Err: cause}
	if e.Error() != "oidc: key_fetch: detail: cause" || !errors.Is(e, cause) {
		t.Fatalf("Error() = %q", e.Error())
	}
	if (&Error{Stage: StageIssuer}).Error() != "oidc: issuer" {
		t.Fatal("Error() without detail")
	}
	if StageOf(e) != StageKeyFetch || StageOf(cause) != "" || StageOf(nil) != "" {
		t.Fatal("StageOf")
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	if err := testPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	var nilPolicy *Policy
	wantStage(t, nilPolicy.Validate(), StagePolicy)
	bad := testPolicy()
	bad.Leeway = 2 * time.Minute
	wantStage(t, bad.Validate(), StagePolicy)
	// Defaults are applied to a copy; the caller's policy is not modified.
	p := testPolicy()
	q, err := p.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if p.Leeway != 0 || p.AllowedAlgs != nil || q.Leeway != DefaultLeeway || q.MaxLifetime != DefaultMaxLifetime ||
		q.MaxTokenBytes != DefaultMaxTokenBytes || !slices.Equal(q.AllowedAlgs, jose.DefaultAlgorithms()) {
		t.Fatalf("defaults: p=%+v q=%+v", p, q)
	}
}

func TestIntegralSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lit  string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1700000000", 1700000000, true}, {"1700000000.0", 1700000000, true},
		{"1.7e9", 1700000000, true}, {"1.7E+9", 1700000000, true}, {"17000000000e-1", 1700000000, true},
		{"0.0", 0, true}, {"0e5", 0, true}, {"0.000e-999", 0, true}, {"253402300799", 253402300799, true},
		{"1700000000.5", 0, false}, {"1.5", 0, false}, {"1e-1", 0, false}, {"-1", 0, false}, {"-0", 0, false},
		{"253402300800", 0, false}, {"1e12", 0, false}, {"1e99999999999", 0, false}, {"99999999999999999999", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := integralSeconds(tc.lit)
		if ok != tc.ok || got != tc.want {
			t.Errorf("integralSeconds(%q) = %d, %v; want %d, %v", tc.lit, got, ok, tc.want, tc.ok)
		}
	}
}

func TestVerifyParsed(t *testing.T) {
	t.Parallel()
	keys := &recordingKeys{set: testKeys()}
	tok, err := jose.ParseCompact(token(t, baseClaims()), 0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyParsed(context.Background(), testPolicy(), keys, tok, testNow)
	if err != nil || v.Subject != "repo:org/repo:ref:refs/heads/main" {
		t.Fatalf("VerifyParsed: %v, %+v", err, v)
	}
	// The same checks apply: a later time fails as expired, a wrong issuer fails.
	if _, err := VerifyParsed(context.Background(), testPolicy(), keys, tok, testNow.Add(time.Hour)); StageOf(err) != StageExpired {
		t.Errorf("expired: %v", err)
	}
	p := testPolicy()
	p.Issuer = "https://other.example"
	if _, err := VerifyParsed(context.Background(), p, keys, tok, testNow); StageOf(err) != StageIssuer {
		t.Errorf("issuer: %v", err)
	}
	if _, err := VerifyParsed(context.Background(), testPolicy(), keys, nil, testNow); StageOf(err) != StageFormat {
		t.Errorf("nil token: %v", err)
	}
	if _, err := VerifyParsed(context.Background(), testPolicy(), nil, tok, testNow); StageOf(err) != StagePolicy {
		t.Errorf("nil keys: %v", err)
	}
}
