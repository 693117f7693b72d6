package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/server"
	"github.com/keylessdev/keyless/internal/testissuer"
)

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDiscoveryJWKSMetrics(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	code, body := get(t, f.Client, f.URL+"/.well-known/openid-configuration")
	var disc map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &disc) != nil || disc["issuer"] != f.URL || disc["jwks_uri"] != f.URL+"/jwks" {
		t.Fatalf("discovery %d %s", code, body)
	}
	code, body = get(t, f.Client, f.URL+"/jwks")
	if code != 200 || !strings.Contains(body, `"kty":"EC"`) || strings.Contains(body, `"d"`) {
		t.Fatalf("jwks %d %s", code, body)
	}
	// One allowed and one denied exchange show up in the metrics.
	f.Post(t, "/v1/token", "application/x-www-form-urlencoded", keylesstest.STSForm(f.GitHubToken(t, "acme", "app", nil)).Encode(), "")
	f.Post(t, "/v1/token", "application/x-www-form-urlencoded", keylesstest.STSForm(f.GitHubToken(t, "evil", "app", nil)).Encode(), "")
	_, body = get(t, f.Client, f.URL+"/metrics")
	for _, want := range []string{
		`keyless_decisions_total{dialect="google.sts",method="token",outcome="allow"`,
		`outcome="deny",provider="projects/123456789012/locations/global/workloadIdentityPools/test-pool/providers/test-provider",reason="attribute_condition"`,
		"keyless_decision_duration_seconds_bucket",
		"keyless_distinct_subjects",
		"keyless_audit_queue_depth",
		"keyless_audit_commit_events_bucket",
		"keyless_audit_commit_duration_seconds_bucket",
		"process_cpu_seconds_total",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, _ := get(t, f.Client, f.URL+"/healthz"); code != 200 {
		t.Error("healthz")
	}
}

func TestDecisionLookup(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	resp, _ := f.Post(t, "/v1/token", "application/x-www-form-urlencoded", keylesstest.STSForm(f.GitHubToken(t, "evil", "app", nil)).Encode(), "")
	id := resp.Header.Get("X-Keyless-Decision-Id")
	code, body := get(t, f.Client, f.URL+"/v1/decisions/"+id)
	if code != 200 || !strings.Contains(body, `"stage":"attribute_condition"`) || !strings.Contains(body, "assertion.repository_owner == 'acme'") {
		t.Fatalf("decision %d %s", code, body)
	}
	if code, _ := get(t, f.Client, f.URL+"/v1/decisions/01NOSUCHDECISION0000000000"); code != 404 {
		t.Errorf("unknown decision: %d", code)
	}
}

func TestSigningAlgRS256(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, func(c *config.Config, _ *testissuer.Issuer) {
		c.Server = &config.Server{SigningAlg: "RS256"}
	})
	resp, body := f.Post(t, "/v1/token", "application/x-www-form-urlencoded", keylesstest.STSForm(f.GitHubToken(t, "acme", "app", nil)).Encode(), "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &out)
	tok, err := jose.ParseCompact(out.AccessToken, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header.Alg != "RS256" || tok.Header.Typ != "at+jwt" {
		t.Errorf("header %+v", tok.Header)
	}
	if _, err := tok.Verify(f.Keys.PublicKeys(), []string{"RS256"}); err != nil {
		t.Error(err)
	}
	if _, jwks := get(t, f.Client, f.URL+"/jwks"); !strings.Contains(jwks, `"kty":"RSA"`) {
		t.Errorf("RSA key not published: %s", jwks)
	}
}

// TestNoTokenInLogs: tokens and subject tokens never reach the server log or the audit
// log, allowed or denied.
func TestNoTokenInLogs(t *testing.T) {
	t.Parallel()
	var logBuf safeBuffer
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	f := keylesstest.Start(t, nil, func(o *server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.AuditLog = auditPath
	})
	var secrets []string
	good := f.GitHubToken(t, "acme", "app", nil)
	bad := f.GitHubToken(t, "evil", "app", nil)
	secrets = append(secrets, good, bad)
	resp, body := f.Post(t, "/v1/token", "application/x-www-form-urlencoded", keylesstest.STSForm(good).Encode(), "")
	if resp.StatusCode != 200 {
		t.Fatal(string(body))
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &out)
	secrets = append(secrets, out.AccessToken)
	f.Post(t, "/v1/token", "application/x-www-form-urlencoded", keylesstest.STSForm(bad).Encode(), "")
	f.Post(t, "/v1/token", "application/x-www-form-urlencoded", "subject_token="+good+"&grant_type=nope", "")
	resp, body = f.Post(t, "/v1/projects/-/serviceAccounts/"+keylesstest.SAEmail+":generateAccessToken", "application/json",
		`{"scope":["https://www.googleapis.com/auth/cloud-platform"]}`, out.AccessToken)
	if resp.StatusCode != 200 {
		t.Fatal(string(body))
	}
	var sa struct{ AccessToken string }
	_ = json.Unmarshal(body, &sa)
	secrets = append(secrets, sa.AccessToken)
	f.Post(t, "/v1/projects/-/serviceAccounts/"+keylesstest.OtherSAEmail+":generateAccessToken", "application/json", `{"scope":["x"]}`, sa.AccessToken)
	f.Post(t, "/v1/introspect", "application/x-www-form-urlencoded", "token="+sa.AccessToken, "")

	auditLog, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(auditLog), "\n"); n != 6 {
		t.Errorf("audit log has %d lines for 6 requests", n)
	}
	for _, sec := range secrets {
		sig := sec[strings.LastIndexByte(sec, '.')+1:]
		for name, text := range map[string]string{"server log": logBuf.String(), "audit log": string(auditLog)} {
			if strings.Contains(text, sig) {
				t.Errorf("%s contains a token", name)
			}
		}
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestConfigRecordedInStore(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	doc, err := f.Store.LatestConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || !strings.Contains(string(doc.Doc), keylesstest.PoolID) {
		t.Errorf("stored config v%d:\n%s", doc.Version, doc.Doc)
	}
}
