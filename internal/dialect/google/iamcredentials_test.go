package google_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

type googleErr struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type     string            `json:"@type"`
			Reason   string            `json:"reason"`
			Metadata map[string]string `json:"metadata"`
		} `json:"details"`
	} `json:"error"`
}

func federated(t *testing.T, f *keylesstest.Fixture, owner, repo string) string {
	t.Helper()
	resp, body := f.Post(t, "/v1/token", form, keylesstest.STSForm(f.GitHubToken(t, owner, repo, nil)).Encode(), "")
	if resp.StatusCode != 200 {
		t.Fatalf("sts: %d %s", resp.StatusCode, body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.AccessToken
}

func iamPath(email, method string) string {
	return "/v1/projects/-/serviceAccounts/" + email + ":" + method
}

func TestGenerateAccessToken(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	fed := federated(t, f, "acme", "app")
	// gcloud's exact body: "delegates": null and six scopes.
	body := `{"delegates": null, "scope": ["openid", "https://www.googleapis.com/auth/cloud-platform"], "lifetime": "1800s"}`
	resp, b := f.Post(t, iamPath(keylesstest.SAEmail, "generateAccessToken"), "application/json", body, fed)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var out struct{ AccessToken, ExpireTime string }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(out.ExpireTime) {
		t.Errorf("expireTime %q is not YYYY-MM-DDTHH:MM:SSZ", out.ExpireTime)
	}
	tok, err := jose.ParseCompact(out.AccessToken, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Verify(f.Keys.PublicKeys(), []string{"ES256"}); err != nil {
		t.Fatal(err)
	}
	if tok.Claims["email"] != keylesstest.SAEmail {
		t.Errorf("email claim %v", tok.Claims["email"])
	}
	act, _ := tok.Claims["act"].(map[string]any)
	if !strings.HasPrefix(act["sub"].(string), "principal://iam.googleapis.com/projects/123456789012/") {
		t.Errorf("act claim %v does not name the federated principal", tok.Claims["act"])
	}
	// %40 in the path (Node's trust-boundary code) names the same account.
	resp, b = f.Post(t, iamPath(strings.Replace(keylesstest.SAEmail, "@", "%40", 1), "generateAccessToken"), "application/json", `{"scope":["https://www.googleapis.com/auth/cloud-platform"]}`, fed)
	if resp.StatusCode != 200 {
		t.Errorf("%%40 path: %d %s", resp.StatusCode, b)
	}
	// The service account token is itself a bearer (serviceAccount: members).
	resp, b = f.Post(t, iamPath(keylesstest.OtherSAEmail, "generateAccessToken"), "application/json", `{"scope":["https://www.googleapis.com/auth/cloud-platform"]}`, out.AccessToken)
	if resp.StatusCode != 403 {
		t.Errorf("SA without binding: %d %s", resp.StatusCode, b)
	}
}

func TestIAMCredentialsDenials(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) {
		c.Google.Projects[0].ServiceAccounts = append(c.Google.Projects[0].ServiceAccounts, config.ServiceAccount{AccountID: "disabled-sa", Disabled: true,
			IAMPolicy: &config.IAMPolicy{Bindings: []config.Binding{{Role: "roles/iam.workloadIdentityUser", Members: []string{keylesstest.PrincipalSet() + "/*"}}}}})
	})
	fed := federated(t, f, "acme", "app")
	fedOther := federated(t, f, "acme", "other-repo")
	scope := `{"scope":["https://www.googleapis.com/auth/cloud-platform"]}`
	// An ID token is never a bearer.
	resp, b := f.Post(t, iamPath(keylesstest.SAEmail, "generateIdToken"), "application/json", `{"audience":"https://svc.example","includeEmail":true}`, fed)
	if resp.StatusCode != 200 {
		t.Fatalf("generateIdToken: %d %s", resp.StatusCode, b)
	}
	var idt struct{ Token string }
	_ = json.Unmarshal(b, &idt)

	parts := strings.Split(fed, ".")
	cases := []struct {
		name, path, body, bearer string
		status                   int
		gstatus, reason          string
	}{
		{"no bearer", iamPath(keylesstest.SAEmail, "generateAccessToken"), scope, "", 401, "UNAUTHENTICATED", "bearer"},
		{"ID token as bearer", iamPath(keylesstest.SAEmail, "generateAccessToken"), scope, idt.Token, 401, "UNAUTHENTICATED", "bearer"},
		{"foreign JWT as bearer", iamPath(keylesstest.SAEmail, "generateAccessToken"), scope, f.GitHubToken(t, "acme", "app", nil), 401, "UNAUTHENTICATED", "bearer"},
		{"tampered bearer", iamPath(keylesstest.SAEmail, "generateAccessToken"), scope, parts[0] + "." + parts[1] + "x." + parts[2], 401, "UNAUTHENTICATED", "bearer"},
		{"missing binding", iamPath(keylesstest.SAEmail, "generateAccessToken"), scope, fedOther, 403, "PERMISSION_DENIED", "no_binding"},
		{"no binding on other SA", iamPath(keylesstest.OtherSAEmail, "generateAccessToken"), scope, fed, 403, "PERMISSION_DENIED", "no_binding"},
		{"unknown SA", iamPath("ghost@test-project.iam.gserviceaccount.com", "generateAccessToken"), scope, fed, 403, "PERMISSION_DENIED", "service_account_unknown"},
		{"disabled SA", iamPath("disabled-sa@test-project.iam.gserviceaccount.com", "generateAccessToken"), scope, fed, 403, "PERMISSION_DENIED", "service_account_unknown"},
		{"signBlob needs token creator", iamPath(keylesstest.SAEmail, "signBlob"), `{"payload":"aGVsbG8="}`, fed, 403, "PERMISSION_DENIED", "no_binding"},
		{"lifetime over 1h", iamPath(keylesstest.SAEmail, "generateAccessToken"), `{"scope":["x"],"lifetime":"7200s"}`, fed, 400, "INVALID_ARGUMENT", "lifetime"},
		{"no scope", iamPath(keylesstest.SAEmail, "generateAccessToken"), `{}`, fed, 400, "INVALID_ARGUMENT", "request"},
		{"unknown field", iamPath(keylesstest.SAEmail, "generateAccessToken"), `{"scope":["x"],"bogus":1}`, fed, 400, "INVALID_ARGUMENT", "request"},
		{"delegate without implicitDelegation", iamPath(keylesstest.SAEmail, "generateAccessToken"), `{"scope":["x"],"delegates":["projects/-/serviceAccounts/` + keylesstest.OtherSAEmail + `"]}`, fed, 403, "PERMISSION_DENIED", "no_binding"},
		{"generateIdToken without audience", iamPath(keylesstest.SAEmail, "generateIdToken"), `{}`, fed, 400, "INVALID_ARGUMENT", "request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := f.Post(t, tc.path, "application/json", tc.body, tc.bearer)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			var e googleErr
			if err := json.Unmarshal(b, &e); err != nil || e.Error.Status != tc.gstatus || e.Error.Code != tc.status {
				t.Fatalf("error body %s", b)
			}
			id := resp.Header.Get("X-Keyless-Decision-Id")
			if id == "" || !strings.Contains(e.Error.Message, id) {
				t.Fatalf("decision id missing: %s", b)
			}
			rec, err := f.Store.AuditByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			_ = json.Unmarshal(rec.Data, &ev)
			if ev["reason"] != tc.reason {
				t.Errorf("audit reason %v, want %s", ev["reason"], tc.reason)
			}
			if tc.status == 403 && tc.reason == "no_binding" {
				if len(e.Error.Details) == 0 || e.Error.Details[0].Reason != "IAM_PERMISSION_DENIED" || e.Error.Details[0].Metadata["permission"] == "" {
					t.Errorf("PERMISSION_DENIED without ErrorInfo: %s", b)
				}
			}
		})
	}
}

func TestSignBlobAndJwt(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) {
		b := &c.Google.Projects[0].ServiceAccounts[0].IAMPolicy.Bindings
		*b = append(*b, config.Binding{Role: "roles/iam.serviceAccountTokenCreator", Members: []string{keylesstest.PrincipalSet() + "/attribute.repository/acme/app"}})
	})
	fed := federated(t, f, "acme", "app")
	saKeys := func(email string) *jose.KeySet {
		resp, err := f.Client.Get(f.URL + "/service_accounts/v1/metadata/jwk/" + email)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		set, dropped, err := jose.ParseKeySet(b)
		if resp.StatusCode != 200 || err != nil || len(dropped) > 0 {
			t.Fatalf("SA JWKS %d %s: %v %v", resp.StatusCode, b, err, dropped)
		}
		return set
	}
	resp, b := f.Post(t, iamPath(keylesstest.SAEmail, "signBlob"), "application/json", `{"payload":"aGVsbG8K"}`, fed)
	if resp.StatusCode != 200 {
		t.Fatalf("signBlob %d %s", resp.StatusCode, b)
	}
	var sb struct{ KeyID, SignedBlob string }
	_ = json.Unmarshal(b, &sb)
	sig, err := base64.StdEncoding.DecodeString(sb.SignedBlob)
	if err != nil || sb.KeyID == "" {
		t.Fatalf("signBlob response %s", b)
	}
	keys := saKeys(keylesstest.SAEmail).Find(sb.KeyID)
	if len(keys) != 1 {
		t.Fatalf("signBlob key %s not published under the service account", sb.KeyID)
	}
	if err := jose.VerifySignature("RS256", keys[0].Public, []byte("hello\n"), sig); err != nil {
		t.Errorf("signBlob signature does not verify with the account's key: %v", err)
	}
	if len(f.Keys.PublicKeys().Find(sb.KeyID)) != 0 {
		t.Error("a service account's key is published in keyless's issuer JWKS")
	}
	if len(saKeys(keylesstest.OtherSAEmail).Keys) != 0 {
		t.Error("another account publishes keys it never used")
	}

	// signJwt: a payload claiming keyless's issuer must not verify as a keyless token.
	payload, _ := json.Marshal(map[string]any{"iss": f.Engine.Issuer(), "sub": "admin", "aud": "https://svc.example"})
	body, _ := json.Marshal(map[string]string{"payload": string(payload)})
	resp, b = f.Post(t, iamPath(keylesstest.SAEmail, "signJwt"), "application/json", string(body), fed)
	if resp.StatusCode != 200 {
		t.Fatalf("signJwt %d %s", resp.StatusCode, b)
	}
	var sj struct{ KeyID, SignedJwt string }
	_ = json.Unmarshal(b, &sj)
	tok, err := jose.ParseCompact(sj.SignedJwt, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Verify(saKeys(keylesstest.SAEmail), []string{"RS256"}); err != nil || tok.Claims["exp"] == nil {
		t.Errorf("signJwt: %v claims %v", err, tok.Claims)
	}
	if _, err := tok.Verify(f.Keys.PublicKeys(), jose.DefaultAlgorithms()); err == nil {
		t.Fatal("a signJwt result verifies with keyless's issuer keys: it could pose as a keyless ID token")
	}
	resp, _ = f.Post(t, iamPath(keylesstest.SAEmail, "signJwt"), "application/json", `{"payload":"{\"exp\":99999999999}"}`, fed)
	if resp.StatusCode != 400 {
		t.Errorf("signJwt with exp beyond 12h: %d", resp.StatusCode)
	}
	if resp, err := f.Client.Get(f.URL + "/service_accounts/v1/metadata/jwk/ghost@test-project.iam.gserviceaccount.com"); err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown account JWKS: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func TestScopeAndIntrospection(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	form := keylesstest.STSForm(f.GitHubToken(t, "acme", "app", nil))
	form.Set("scope", "openid https://www.googleapis.com/auth/userinfo.email")
	resp, body := f.Post(t, "/v1/token", "application/x-www-form-urlencoded", form.Encode(), "")
	if resp.StatusCode != 200 {
		t.Fatal(string(body))
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &out)
	resp, body = f.Post(t, iamPath(keylesstest.SAEmail, "generateAccessToken"), "application/json", `{"scope":["x"]}`, out.AccessToken)
	var e googleErr
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != 403 || !strings.Contains(e.Error.Message, "insufficient authentication scopes") {
		t.Errorf("federated token without cloud-platform/iam scope: %d %s", resp.StatusCode, body)
	}
	// Introspection: the federated token is active and names its principal; garbage is
	// inactive (not an error).
	resp, body = f.Post(t, "/v1/introspect", "application/x-www-form-urlencoded", "token="+out.AccessToken+"&token_type_hint=urn:ietf:params:oauth:token-type:access_token", "")
	var info map[string]any
	_ = json.Unmarshal(body, &info)
	if resp.StatusCode != 200 || info["active"] != true || !strings.HasPrefix(info["username"].(string), "principal://") {
		t.Errorf("introspect active: %d %s", resp.StatusCode, body)
	}
	if _, ok := info["exp"].(string); !ok {
		t.Errorf("introspect exp should be an int64-as-string: %s", body)
	}
	for _, tok := range []string{"garbage", f.GitHubToken(t, "acme", "app", nil)} {
		resp, body = f.Post(t, "/v1/introspect", "application/x-www-form-urlencoded", "token="+tok, "")
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"active":false}` {
			t.Errorf("introspect inactive: %d %s", resp.StatusCode, body)
		}
	}
}
