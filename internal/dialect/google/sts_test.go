package google_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/testissuer"
)

const form = "application/x-www-form-urlencoded"

type oauthErr struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func decodeErr(t *testing.T, b []byte) oauthErr {
	t.Helper()
	var e oauthErr
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return e
}

func TestSTSAllowed(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	tok := f.GitHubToken(t, "acme", "app", nil)
	resp, body := f.Post(t, "/v1/token", form+";charset=UTF-8", keylesstest.STSForm(tok+"\n").Encode(), "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		AccessToken     string `json:"access_token"`
		IssuedTokenType string `json:"issued_token_type"`
		TokenType       string `json:"token_type"`
		ExpiresIn       any    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if out.TokenType != "Bearer" || out.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" {
		t.Errorf("response %s", body)
	}
	// expires_in must be a JSON integer > 0 (Go's client rejects anything else).
	if n, ok := out.ExpiresIn.(float64); !ok || n <= 0 || n != float64(int64(n)) || n > 600 {
		t.Errorf("expires_in = %v, want integer in (0, 600] (bounded by the subject token's exp)", out.ExpiresIn)
	}
	if !strings.Contains(string(body), `"expires_in":`) || strings.Contains(string(body), `"expires_in":"`) {
		t.Errorf("expires_in must be a number: %s", body)
	}
	// J8: the federated token verifies through keyless's JWKS and is bounded.
	parsed, err := jose.ParseCompact(out.AccessToken, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parsed.Verify(f.Keys.PublicKeys(), []string{"ES256"}); err != nil {
		t.Fatalf("federated token does not verify with keyless JWKS: %v", err)
	}
	c := parsed.Claims
	if c["iss"] != f.Engine.Issuer() || c["aud"] != keylesstest.Audience() || c["jti"] == "" {
		t.Errorf("claims %v", c)
	}
	wantSub := "principal://iam.googleapis.com/projects/" + keylesstest.ProjectNumber + "/locations/global/workloadIdentityPools/" + keylesstest.PoolID + "/subject/repo:acme/app:ref:refs/heads/main"
	if c["sub"] != wantSub {
		t.Errorf("sub = %v, want %s", c["sub"], wantSub)
	}
	exp, _ := c["exp"].(json.Number).Int64()
	if exp > time.Now().Add(10*time.Minute+5*time.Second).Unix() {
		t.Errorf("federated token outlives the subject token: exp %d", exp)
	}
	if resp.Header.Get("X-Keyless-Decision-Id") == "" {
		t.Error("no decision id header")
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("token response must not be cached")
	}
	// The allowed decision's audit event is durable when the token is returned.
	rec, err := f.Store.AuditByID(context.Background(), resp.Header.Get("X-Keyless-Decision-Id"))
	if err != nil {
		t.Fatalf("audit event not in store when the token was returned: %v", err)
	}
	if strings.Contains(string(rec.Data), out.AccessToken) || strings.Contains(string(rec.Data), tok) {
		t.Fatal("audit event contains a token")
	}
	var ev map[string]any
	_ = json.Unmarshal(rec.Data, &ev)
	if ev["outcome"] != "allow" || ev["principal"] != wantSub {
		t.Errorf("audit event %s", rec.Data)
	}
	if corr, _ := ev["correlation"].(map[string]any); corr["run_id"] != "42" || corr["jti"] != "jti-1" {
		t.Errorf("correlation keys missing: %v", ev["correlation"])
	}
}

func TestSTSJSONBodies(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	tok := f.GitHubToken(t, "acme", "app", nil)
	camel, _ := json.Marshal(map[string]string{"grantType": "urn:ietf:params:oauth:grant-type:token-exchange", "audience": keylesstest.Audience(),
		"requestedTokenType": "urn:ietf:params:oauth:token-type:access_token", "subjectToken": tok,
		"subjectTokenType": "urn:ietf:params:oauth:token-type:id_token", "scope": "https://www.googleapis.com/auth/cloud-platform"})
	snake, _ := json.Marshal(map[string]string{"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "audience": keylesstest.Audience(),
		"subject_token": tok, "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"})
	for name, body := range map[string][]byte{"camel": camel, "snake": snake} {
		resp, b := f.Post(t, "/v1/token", "application/json", string(body), "")
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
}

// TestSTSDenials covers the J group of the security catalogue and the stage-specific
// failures: the right protocol error, a decision id, and one audit event per request.
func TestSTSDenials(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) {
		pool := &c.Google.Projects[0].WorkloadIdentityPools[0]
		pool.Providers = append(pool.Providers, config.Provider{
			WorkloadIdentityPoolProviderID: "disabled-provider", Disabled: true,
			AttributeMapping: map[string]string{"google.subject": "assertion.sub"},
			OIDC:             &config.OIDC{IssuerURI: is.URL, JWKSJSON: is.JWKS()},
		})
	})
	good := f.GitHubToken(t, "acme", "app", nil)
	withForm := func(mut func(url.Values)) string {
		v := keylesstest.STSForm(good)
		mut(v)
		return v.Encode()
	}
	cases := []struct {
		name, ctype, body string
		status            int
		code, stage       string
	}{
		{"J1 grant_type missing", form, withForm(func(v url.Values) { v.Del("grant_type") }), 400, "invalid_request", "request"},
		{"J1 client_credentials", form, withForm(func(v url.Values) { v.Set("grant_type", "client_credentials") }), 400, "unsupported_grant_type", "grant_type"},
		{"J2 jwt as aws4_request", form, withForm(func(v url.Values) { v.Set("subject_token_type", "urn:ietf:params:aws:token-type:aws4_request") }), 400, "invalid_request", "subject_token_type"},
		{"J2 unknown type", form, withForm(func(v url.Values) { v.Set("subject_token_type", "urn:example:weird") }), 400, "invalid_request", "subject_token_type"},
		{"J3 audience missing", form, withForm(func(v url.Values) { v.Del("audience") }), 400, "invalid_target", "provider"},
		{"J3 unknown provider", form, withForm(func(v url.Values) {
			v.Set("audience", strings.Replace(keylesstest.Audience(), "test-provider", "nope-provider", 1))
		}), 400, "invalid_target", "provider_unknown"},
		{"J3 disabled provider", form, withForm(func(v url.Values) {
			v.Set("audience", strings.Replace(keylesstest.Audience(), "test-provider", "disabled-provider", 1))
		}), 400, "invalid_target", "provider_disabled"},
		{"audience by project id", form, withForm(func(v url.Values) {
			v.Set("audience", strings.Replace(keylesstest.Audience(), keylesstest.ProjectNumber, keylesstest.ProjectID, 1))
		}), 400, "invalid_request", "audience_format"},
		{"J4 repeated subject_token", form, keylesstest.STSForm(good).Encode() + "&subject_token=" + url.QueryEscape(good), 400, "invalid_request", "request"},
		{"J5 text/plain", "text/plain", keylesstest.STSForm(good).Encode(), 400, "invalid_request", "request"},
		{"J5 multipart", "multipart/form-data; boundary=x", "--x--", 400, "invalid_request", "request"},
		{"J5 body over 64 KiB", form, withForm(func(v url.Values) { v.Set("scope", strings.Repeat("a", 70<<10)) }), 413, "invalid_request", "request"},
		{"A11 subject token over 16 KiB", form, withForm(func(v url.Values) { v.Set("subject_token", strings.Repeat("x", 17<<10)) }), 400, "invalid_request", "subject_token_size"},
		{"requested_token_type wrong", form, withForm(func(v url.Values) { v.Set("requested_token_type", "urn:ietf:params:oauth:token-type:id_token") }), 400, "invalid_request", "requested_token_type"},
		{"subject token garbage", form, withForm(func(v url.Values) { v.Set("subject_token", "not-a-jwt") }), 400, "invalid_grant", "format"},
		{"condition false", form, withForm(func(v url.Values) { v.Set("subject_token", f.GitHubToken(t, "evil", "app", nil)) }), 400, "unauthorized_client", "attribute_condition"},
		{"wrong audience", form, withForm(func(v url.Values) {
			v.Set("subject_token", f.GitHubToken(t, "acme", "app", map[string]any{"aud": "https://github.com/acme"}))
		}), 400, "invalid_grant", "audience"},
		{"expired", form, withForm(func(v url.Values) {
			v.Set("subject_token", f.GitHubToken(t, "acme", "app", map[string]any{"iat": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(-10 * time.Minute).Unix()}))
		}), 400, "invalid_grant", "expired"},
		{"wrong issuer", form, withForm(func(v url.Values) {
			v.Set("subject_token", f.GitHubToken(t, "acme", "app", map[string]any{"iss": "https://evil.example"}))
		}), 400, "invalid_grant", "issuer"},
		{"mapping error: missing claim", form, withForm(func(v url.Values) {
			v.Set("subject_token", f.GitHubToken(t, "acme", "app", map[string]any{"repository": nil}))
		}), 400, "invalid_grant", "attribute_mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.Post(t, "/v1/token", tc.ctype, tc.body, "")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			e := decodeErr(t, body)
			if e.Error != tc.code {
				t.Errorf("error %q, want %q (%s)", e.Error, tc.code, e.Description)
			}
			id := resp.Header.Get("X-Keyless-Decision-Id")
			if id == "" || !strings.Contains(e.Description, id) {
				t.Fatalf("decision id missing from header or description: %q", e.Description)
			}
			rec, err := f.Store.AuditByID(context.Background(), id)
			if err != nil {
				t.Fatalf("no audit event for the denial: %v", err)
			}
			var ev map[string]any
			_ = json.Unmarshal(rec.Data, &ev)
			if ev["outcome"] != "deny" || ev["reason"] != tc.stage {
				t.Errorf("audit outcome/reason = %v/%v, want deny/%s", ev["outcome"], ev["reason"], tc.stage)
			}
		})
	}
	// Exactly one audit event per request, malformed ones included.
	recs, err := f.Store.QueryAudit(context.Background(), store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(cases) {
		t.Errorf("%d audit events for %d requests", len(recs), len(cases))
	}
}

// TestSTSErrorOracle (J7): bad signature, unknown kid and expiry share the external code,
// and descriptions never echo claim values.
func TestSTSErrorOracle(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	other, err := testissuer.Start(testissuer.Options{Alg: "RS256"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	foreign, err := other.Mint(map[string]any{"iss": f.Issuer.URL, "sub": "repo:acme/secret-sub-value", "aud": "keyless-test", "repository": "acme/app", "repository_owner": "acme"})
	if err != nil {
		t.Fatal(err)
	}
	good := f.GitHubToken(t, "acme", "app", map[string]any{"sub": "repo:acme/secret-sub-value"})
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	expired := f.GitHubToken(t, "acme", "app", map[string]any{"sub": "repo:acme/secret-sub-value", "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
	for name, tok := range map[string]string{"unknown kid": foreign, "bad signature": tampered, "expired": expired} {
		resp, body := f.Post(t, "/v1/token", form, keylesstest.STSForm(tok).Encode(), "")
		e := decodeErr(t, body)
		if resp.StatusCode != 400 || e.Error != "invalid_grant" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		if strings.Contains(e.Description, "secret-sub-value") || strings.Contains(e.Description, f.Issuer.URL) {
			t.Errorf("%s: description leaks claim values: %s", name, e.Description)
		}
	}
}

// TestSTSSelfIssuedLoop (J6): keyless's own access token is not a subject token unless a
// provider trusts keyless's issuer.
func TestSTSSelfIssuedLoop(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	resp, body := f.Post(t, "/v1/token", form, keylesstest.STSForm(f.GitHubToken(t, "acme", "app", nil)).Encode(), "")
	if resp.StatusCode != 200 {
		t.Fatal(string(body))
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &out)
	resp, body = f.Post(t, "/v1/token", form, keylesstest.STSForm(out.AccessToken).Encode(), "")
	if resp.StatusCode != 400 || decodeErr(t, body).Error != "invalid_grant" {
		t.Fatalf("self-issued token accepted as subject token: %d %s", resp.StatusCode, body)
	}
}
