package interop

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/keylessdev/keyless/internal/testissuer"
)

// oauth2Token runs golang.org/x/oauth2/google on a credential configuration file, the way
// Application Default Credentials load one.
func oauth2Token(t *testing.T, path string) (*oauth2.Token, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds, err := google.CredentialsFromJSONWithType(ctx, data, google.ExternalAccount, cloudPlatform)
	if err != nil {
		t.Fatalf("x/oauth2 rejected the credential configuration: %v", err)
	}
	return creds.TokenSource.Token()
}

func TestOAuth2ExternalAccount(t *testing.T) {
	t.Parallel()
	f := startFederation(t)
	for _, tc := range []struct {
		name     string
		template string
		source   sourceKind
		pinned   bool          // the pinned provider's workload, else acme (discovered keys)
		lifetime time.Duration // of the impersonated token; 0 means no impersonation
	}{
		{"file-text/impersonate", "oidc-file.json", sourceFile, false, time.Hour},
		{"file-text/federated", "oidc-file.json", sourceFile, true, 0},
		{"file-json/impersonate", "oidc-file-json-noimp.json", sourceFile, true, time.Hour},
		{"file-json/federated", "oidc-file-json-noimp.json", sourceFile, false, 0},
		// url.json sets service_account_impersonation.token_lifetime_seconds: 1800.
		{"url/impersonate", "url.json", sourceURL, false, 30 * time.Minute},
		{"url/federated", "url.json", sourceURL, true, 0},
		{"executable/impersonate", "exec.json", sourceExecutable, true, time.Hour},
		{"executable/federated", "exec.json", sourceExecutable, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := f.acme(t)
			if tc.pinned {
				w = f.pinnedWorkload(t)
			}
			spec := credSpec{template: tc.template, workload: w, source: tc.source}
			if tc.lifetime > 0 {
				spec.impersonate = deployerSA
			}
			start := time.Now()
			tok, err := oauth2Token(t, f.credConfig(t, spec))
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.Type() != "Bearer" {
				t.Errorf("token type %q, want Bearer", tok.Type())
			}
			if tc.lifetime == 0 {
				f.assertFederated(t, tok.AccessToken, w)
				return
			}
			f.assertServiceAccount(t, tok.AccessToken, deployerSA, w, tc.lifetime)
			// x/oauth2 takes the expiry from generateAccessToken's expireTime.
			if d := tok.Expiry.Sub(start); d < tc.lifetime-time.Minute || d > tc.lifetime+time.Minute {
				t.Errorf("expiry in %s, want about %s", d, tc.lifetime)
			}
		})
	}
}

func TestOAuth2Denials(t *testing.T) {
	t.Parallel()
	f := startFederation(t)
	forger, err := testissuer.Start(testissuer.Options{Alg: "ES256"}) // keys keyless does not trust
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(forger.Close)
	for _, tc := range []struct {
		name        string
		workload    func(t *testing.T) workload
		impersonate string
		want        []string // in the client's error
		stage       string   // failed trace stage in the decision
	}{
		{
			name: "attribute condition",
			workload: func(t *testing.T) workload {
				return f.discWorkload(t, "repo:mallory/app:ref:refs/heads/main", "mallory")
			},
			want:  []string{"status code 400", "unauthorized_client", "decision"},
			stage: "attribute_condition",
		},
		{
			name: "audience not allowed",
			workload: func(t *testing.T) workload {
				tok, err := f.pinned.Mint(map[string]any{"aud": "someone-else", "sub": pinnedSubject, "team": "platform"})
				if err != nil {
					t.Fatal(err)
				}
				return workload{provider: pinnedProvider, token: tok}
			},
			want:  []string{"invalid_grant", "decision"},
			stage: "credential",
		},
		{
			name: "forged issuer",
			workload: func(t *testing.T) workload {
				// Same iss and claims as a pinned workload, signed by a key keyless does not trust.
				tok, err := forger.Mint(map[string]any{"iss": f.pinned.URL, "aud": pinnedAudience, "sub": pinnedSubject, "team": "platform"})
				if err != nil {
					t.Fatal(err)
				}
				return workload{provider: pinnedProvider, token: tok}
			},
			want:  []string{"invalid_grant", "decision"},
			stage: "credential",
		},
		{
			name:        "no binding on the service account",
			workload:    f.acme,
			impersonate: nobodySA,
			want:        []string{"status code 403", "PERMISSION_DENIED", "iam.serviceAccounts.getAccessToken", "decision"},
			stage:       "authorize",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := f.credConfig(t, credSpec{template: "oidc-file.json", workload: tc.workload(t), source: sourceFile, impersonate: tc.impersonate})
			tok, err := oauth2Token(t, path)
			if err == nil {
				t.Fatalf("got a token (%d bytes), want an error", len(tok.AccessToken))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			f.assertDenied(t, err.Error(), tc.stage)
		})
	}
}
