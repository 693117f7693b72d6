package interop

import (
	"os/exec"
	"strings"
	"testing"
	"time"
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
