package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
)

// credConfig writes a file-sourced external_account configuration pointing at f.
func credConfig(t *testing.T, f *keylesstest.Fixture, token string, impersonate bool) string {
	t.Helper()
	dir := t.TempDir()
	tokPath := filepath.Join(dir, "token")
	if err := os.WriteFile(tokPath, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"type": "external_account", "audience": keylesstest.Audience(),
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": f.URL + "/v1/token",
		"credential_source": map[string]any{"file": tokPath},
	}
	if impersonate {
		cfg["service_account_impersonation_url"] = f.URL + "/v1/projects/-/serviceAccounts/" + keylesstest.SAEmail + ":generateAccessToken"
	}
	b, _ := json.Marshal(cfg)
	path := filepath.Join(dir, "cred.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := Root()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	path := credConfig(t, f, f.GitHubToken(t, "acme", "app", nil), true)
	out, err := runCLI(t, "token", "--cred-file", path)
	if err != nil {
		t.Fatalf("token: %v\n%s", err, out)
	}
	tok, err := jose.ParseCompact(strings.TrimSpace(out), 0)
	if err != nil {
		t.Fatalf("not a JWT: %q", out)
	}
	if _, err := tok.Verify(f.Keys.PublicKeys(), []string{"ES256"}); err != nil || tok.Claims["email"] != keylesstest.SAEmail {
		t.Fatalf("token for %v (%v)", tok.Claims["email"], err)
	}
	out, err = runCLI(t, "token", "--cred-file", path, "--format", "executable")
	var exe struct {
		Version        int    `json:"version"`
		Success        bool   `json:"success"`
		TokenType      string `json:"token_type"`
		IDToken        string `json:"id_token"`
		ExpirationTime int64  `json:"expiration_time"`
	}
	if err != nil || json.Unmarshal([]byte(out), &exe) != nil || !exe.Success || exe.Version != 1 || exe.IDToken == "" || exe.ExpirationTime == 0 {
		t.Fatalf("executable format: %v %s", err, out)
	}
	// A denied exchange fails with the server's reason; in executable format it is a
	// success:false answer.
	denied := credConfig(t, f, f.GitHubToken(t, "evil", "app", nil), false)
	if out, err := runCLI(t, "token", "--cred-file", denied); err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
		t.Fatalf("denied exchange: %v %s", err, out)
	}
	out, _ = runCLI(t, "token", "--cred-file", denied, "--format", "executable")
	if !strings.Contains(out, `"success":false`) {
		t.Fatalf("executable failure: %s", out)
	}
}

// create-cred-config writes what keyless token (x/oauth2) then uses against keyless.
func TestCreateCredConfigThenToken(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	dir := t.TempDir()
	tokPath := filepath.Join(dir, "token")
	if err := os.WriteFile(tokPath, []byte(f.GitHubToken(t, "acme", "app", nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "cred.json")
	provider := strings.TrimPrefix(keylesstest.Audience(), "//iam.googleapis.com/")
	if o, err := runCLI(t, "create-cred-config", provider, "--service-account", keylesstest.SAEmail, "--credential-source-file", tokPath,
		"--output-file", out, "--keyless-server", f.URL); err != nil {
		t.Fatalf("create-cred-config: %v\n%s", err, o)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), `"token_url": "`+f.URL+`/v1/token"`) {
		t.Fatalf("config:\n%s", b)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	if o, err := runCLI(t, "token", "--cred-file", out); err != nil || strings.Count(o, ".") != 2 {
		t.Fatalf("token: %v %s", err, o)
	}
	if _, err := runCLI(t, "create-cred-config", provider, "--output-file", filepath.Join(dir, "x.json")); err == nil {
		t.Error("a config without a credential source was written")
	}
}
