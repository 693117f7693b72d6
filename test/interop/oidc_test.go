package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// callIAMCredentials POSTs an IAM Credentials method as a client library would.
func callIAMCredentials(t *testing.T, base, email, method, bearer string, body any) (int, http.Header, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/projects/-/serviceAccounts/"+email+":"+method, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// generateIDToken impersonates deployer with a federated bearer from x/oauth2.
func generateIDToken(t *testing.T, f *federation, w workload, audience string, includeEmail bool) string {
	t.Helper()
	fed, err := oauth2Token(t, f.credConfig(t, credSpec{template: "oidc-file.json", workload: w, source: sourceFile}))
	if err != nil {
		t.Fatalf("federated token: %v", err)
	}
	status, hdr, body := callIAMCredentials(t, f.URL, deployerSA, "generateIdToken", fed.AccessToken,
		map[string]any{"audience": audience, "includeEmail": includeEmail})
	if status != http.StatusOK {
		t.Fatalf("generateIdToken: %d %s", status, body)
	}
	if hdr.Get("X-Keyless-Decision-Id") == "" {
		t.Error("generateIdToken response lacks X-Keyless-Decision-Id")
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		t.Fatalf("generateIdToken body %s: %v", body, err)
	}
	return out.Token
}

func TestGoOIDCVerifiesIDToken(t *testing.T) {
	t.Parallel()
	f := startFederation(t)
	const audience = "https://orders.internal.example"
	w := f.acme(t)
	idToken := generateIDToken(t, f, w, audience, true)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, f.URL) // real discovery of keyless's issuer
	if err != nil {
		t.Fatalf("go-oidc discovery of %s: %v", f.URL, err)
	}

	t.Run("verifies", func(t *testing.T) {
		idt, err := provider.Verifier(&oidc.Config{ClientID: audience}).Verify(ctx, idToken)
		if err != nil {
			t.Fatalf("go-oidc rejected keyless's ID token: %v", err)
		}
		if idt.Issuer != f.URL {
			t.Errorf("iss %q, want %q", idt.Issuer, f.URL)
		}
		if !uniqueIDRe.MatchString(idt.Subject) {
			t.Errorf("sub %q, want the service account's unique id", idt.Subject)
		}
		var c struct {
			Email         string `json:"email"`
			EmailVerified bool   `json:"email_verified"`
			Act           struct {
				Sub string `json:"sub"`
			} `json:"act"`
		}
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if c.Email != deployerSA || !c.EmailVerified {
			t.Errorf("email %q verified=%v, want %q verified", c.Email, c.EmailVerified, deployerSA)
		}
		if c.Act.Sub != w.principal {
			t.Errorf("act.sub %q, want %q", c.Act.Sub, w.principal)
		}
		if typ := f.verify(t, idToken).typ; typ != "JWT" {
			t.Errorf("ID token typ %q, want JWT", typ)
		}
	})

	t.Run("wrong client id", func(t *testing.T) {
		_, err := provider.Verifier(&oidc.Config{ClientID: "https://someone-else.example"}).Verify(ctx, idToken)
		if err == nil || !strings.Contains(err.Error(), "audience") {
			t.Fatalf("Verify with a wrong ClientID: %v, want an audience error", err)
		}
	})

	t.Run("ID token is not a bearer", func(t *testing.T) {
		status, _, body := callIAMCredentials(t, f.URL, deployerSA, "generateAccessToken", idToken,
			map[string]any{"scope": []string{cloudPlatform}})
		if status != http.StatusUnauthorized || !bytes.Contains(body, []byte(`"UNAUTHENTICATED"`)) {
			t.Fatalf("generateAccessToken with an ID token as bearer: %d %s, want 401 UNAUTHENTICATED", status, body)
		}
		f.assertDenied(t, string(body), "bearer")
	})

	t.Run("without email", func(t *testing.T) {
		tok := generateIDToken(t, f, w, audience, false)
		idt, err := provider.Verifier(&oidc.Config{ClientID: audience}).Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if _, ok := c["email"]; ok {
			t.Errorf("includeEmail=false token has email %v", c["email"])
		}
	})
}
