package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

// gcloud runs the Cloud SDK CLI in its own throwaway configuration directory.
type gcloud struct {
	bin string
	env []string
}

func requireGcloud(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("gcloud")
	requireTool(t, err == nil, "gcloud is not on PATH")
	return bin
}

func newGcloud(t *testing.T, bin string) *gcloud {
	return &gcloud{bin: bin, env: toolEnv(t,
		"CLOUDSDK_CONFIG="+t.TempDir(),
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_CORE_CHECK_GCE_METADATA=false",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1",
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true",
		"CLOUDSDK_SURVEY_DISABLE_PROMPTS=1",
	)}
}

func (g *gcloud) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runTool(t, 90*time.Second, t.TempDir(), g.env, g.bin, args...)
}

// login runs `gcloud auth login --cred-file` and returns what it printed.
func (g *gcloud) login(t *testing.T, cfgPath string) string {
	t.Helper()
	stdout, stderr, err := g.run(t, "auth", "login", "--cred-file="+cfgPath)
	if err != nil {
		t.Fatalf("gcloud auth login --cred-file: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	return stdout + stderr
}

func TestGcloud(t *testing.T) {
	t.Parallel()
	bin := requireGcloud(t)
	f := startFederation(t)

	t.Run("file/impersonate", func(t *testing.T) {
		t.Parallel()
		g := newGcloud(t, bin)
		w := f.acme(t)
		out := g.login(t, f.credConfig(t, credSpec{template: "oidc-file.json", workload: w, source: sourceFile, impersonate: deployerSA}))
		if !strings.Contains(out, deployerSA) {
			t.Errorf("gcloud auth login names no %s: %s", deployerSA, out)
		}
		stdout, stderr, err := g.run(t, "auth", "print-access-token")
		if err != nil {
			t.Fatalf("gcloud auth print-access-token: %v\n%s", err, stderr)
		}
		f.assertServiceAccount(t, strings.TrimSpace(stdout), deployerSA, w, time.Hour)
	})

	// Without impersonation gcloud introspects the federated token (token_info_url) and
	// uses the username keyless returns as the account name.
	t.Run("file-json/federated", func(t *testing.T) {
		t.Parallel()
		g := newGcloud(t, bin)
		w := f.pinnedWorkload(t)
		out := g.login(t, f.credConfig(t, credSpec{template: "oidc-file-json-noimp.json", workload: w, source: sourceFile}))
		if !strings.Contains(out, "["+w.principal+"]") {
			t.Errorf("gcloud auth login names no [%s]: %s", w.principal, out)
		}
		stdout, stderr, err := g.run(t, "auth", "print-access-token")
		if err != nil {
			t.Fatalf("gcloud auth print-access-token: %v\n%s", err, stderr)
		}
		f.assertFederated(t, strings.TrimSpace(stdout), w)
	})

	// gcloud's own IAM Credentials client (api_endpoint_overrides/iamcredentials) signs a
	// blob and a JWT as the service account, authenticated by the federated token; both
	// verify with the account's keys from /service_accounts/v1/metadata/jwk/EMAIL only.
	t.Run("sign-blob and sign-jwt", func(t *testing.T) {
		t.Parallel()
		g := newGcloud(t, bin)
		w := f.pinnedWorkload(t)
		g.login(t, f.credConfig(t, credSpec{template: "oidc-file-json-noimp.json", workload: w, source: sourceFile}))
		if _, stderr, err := g.run(t, "config", "set", "api_endpoint_overrides/iamcredentials", f.URL+"/"); err != nil {
			t.Fatalf("gcloud config set: %v\n%s", err, stderr)
		}
		dir := t.TempDir()
		in, sigOut := filepath.Join(dir, "blob.txt"), filepath.Join(dir, "blob.sig")
		if err := os.WriteFile(in, []byte("hello from gcloud\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, stderr, err := g.run(t, "iam", "service-accounts", "sign-blob", "--iam-account="+deployerSA, in, sigOut); err != nil {
			t.Fatalf("gcloud iam service-accounts sign-blob: %v\n%s", err, stderr)
		}
		sig, err := os.ReadFile(sigOut)
		if err != nil {
			t.Fatal(err)
		}
		saKeys := f.serviceAccountKeys(t, deployerSA)
		verified := false
		for _, k := range saKeys.Keys {
			if jose.VerifySignature("RS256", k.Public, []byte("hello from gcloud\n"), sig) == nil {
				verified = true
			}
		}
		if !verified {
			t.Errorf("gcloud's signed blob (%d bytes) does not verify with %s's published keys", len(sig), deployerSA)
		}

		claimsIn, jwtOut := filepath.Join(dir, "claims.json"), filepath.Join(dir, "out.jwt")
		if err := os.WriteFile(claimsIn, []byte(`{"sub":"gcloud-test","aud":"https://svc.example"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, stderr, err := g.run(t, "iam", "service-accounts", "sign-jwt", "--iam-account="+deployerSA, claimsIn, jwtOut); err != nil {
			t.Fatalf("gcloud iam service-accounts sign-jwt: %v\n%s", err, stderr)
		}
		raw, err := os.ReadFile(jwtOut)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jose.ParseCompact(strings.TrimSpace(string(raw)), 16<<10)
		if err != nil {
			t.Fatalf("sign-jwt output: %v", err)
		}
		if _, err := tok.Verify(saKeys, []string{"RS256"}); err != nil || tok.Claims["sub"] != "gcloud-test" || tok.Claims["exp"] == nil {
			t.Errorf("sign-jwt token: %v, claims %v", err, tok.Claims)
		}
	})

	t.Run("attribute condition denies", func(t *testing.T) {
		t.Parallel()
		g := newGcloud(t, bin)
		w := f.discWorkload(t, "repo:mallory/app:ref:refs/heads/main", "mallory")
		g.login(t, f.credConfig(t, credSpec{template: "oidc-file.json", workload: w, source: sourceFile, impersonate: deployerSA}))
		stdout, stderr, err := g.run(t, "auth", "print-access-token")
		if err == nil {
			t.Fatalf("gcloud printed a token (%d bytes), want an error", len(strings.TrimSpace(stdout)))
		}
		if !strings.Contains(stderr, "unauthorized_client") {
			t.Errorf("gcloud error lacks unauthorized_client: %s", stderr)
		}
		f.assertDenied(t, stderr, "attribute_condition")
	})
}
