package main_test

import (
	"bufio"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "keyless-bin-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "keyless")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeConfig(t *testing.T, cfg *config.Config) string {
	t.Helper()
	b, err := config.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "keyless.yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// issuer starts a TLS test issuer for the test.
func issuer(t *testing.T) *testissuer.Issuer {
	t.Helper()
	is, err := testissuer.Start(testissuer.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	return is
}

// startServe runs `keyless serve --config cfgPath` and returns its base URL and process.
func startServe(t *testing.T, cfgPath string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfgPath, "--data", t.TempDir(), "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, "keyless listening on http://127.0.0.1:") {
			t.Fatalf("first line %q", line)
		}
		return strings.TrimPrefix(line, "keyless listening on "), cmd
	case <-time.After(20 * time.Second):
		t.Fatal("serve printed nothing")
	}
	return "", nil
}

func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "bad.yaml")
	bad := `google:
  projects:
  - projectId: my-project
    projectNumber: "123456789012"
    workloadIdentityPools:
    - workloadIdentityPoolId: pool-one
      providers:
      - workloadIdentityPoolProviderId: prov-one
        atributeMapping: {google.subject: assertion.sub}
        attributeCondition: "` + strings.Repeat("a", 4097) + `"
        oidc: {issuerUri: "https://issuer.example"}
`
	if err := os.WriteFile(p, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "serve", "--config", p, "--data", t.TempDir(), "--addr", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("serve started with a bad config:\n%s", out)
	}
	for _, want := range []string{"bad.yaml:9", "atributeMapping", "attributeMapping", "4097 characters, the limit is 4096"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestServeRefusesBadCEL(t *testing.T) {
	t.Parallel()
	is := issuer(t)
	cfg := keylesstest.StandardConfig(is)
	cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0].AttributeCondition = "assertions.repository_owner == 'acme'"
	out, err := exec.Command(bin, "serve", "--config", writeConfig(t, cfg), "--data", t.TempDir(), "--addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "attributeCondition") || !strings.Contains(string(out), "assertion") {
		t.Fatalf("serve with a CEL error: err=%v\n%s", err, out)
	}
}

func TestServeAndExplain(t *testing.T) {
	t.Parallel()
	is := issuer(t)
	cfgPath := writeConfig(t, keylesstest.StandardConfig(is))
	startServe(t, cfgPath)

	// Offline explain: allowed and denied, with exit codes.
	tokFile := filepath.Join(t.TempDir(), "tok.jwt")
	mint := func(owner string) {
		tok, err := is.Mint(map[string]any{"sub": "repo:" + owner + "/app:ref:refs/heads/main", "aud": "keyless-test", "repository": owner + "/app", "repository_owner": owner})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	prov := strings.TrimPrefix(keylesstest.Audience(), "//iam.googleapis.com/")
	mint("acme")
	out, err := exec.Command(bin, "explain", "--config", cfgPath, "--provider", prov, "--subject-token", tokFile, "--service-account", keylesstest.SAEmail).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "result: allowed") || !strings.Contains(string(out), "authorize") {
		t.Fatalf("explain (allowed): %v\n%s", err, out)
	}
	mint("evil")
	out, err = exec.Command(bin, "explain", "--config", cfgPath, "--provider", prov, "--subject-token", tokFile).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "assertion.repository_owner == 'acme'") || !strings.Contains(string(out), "denied at attribute_condition") {
		t.Fatalf("explain (denied): %v\n%s", err, out)
	}
	if strings.Contains(string(out), "eyJ") {
		t.Error("explain printed a token")
	}
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	out, err := exec.Command(bin, "keys", "list", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"active": true`) {
		t.Fatalf("keys list: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "keys", "rotate", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "is active") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	out, _ = exec.Command(bin, "keys", "list", "--data", data).CombinedOutput()
	if strings.Count(string(out), `"kid"`) != 2 || strings.Count(string(out), `"active": true`) != 1 {
		t.Errorf("after rotation:\n%s", out)
	}
}

func TestDemoOnce(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(bin, "demo", "--once", "--addr", "127.0.0.1:0").CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{"unauthorized_client", "PERMISSION_DENIED", "invalid_grant", "clause \"assertion.repository_owner == 'acme'\" is false", "Try it by hand"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "UNEXPECTED") {
		t.Errorf("demo scenario misbehaved:\n%s", out)
	}
}

func TestServeReloadsOnSIGHUP(t *testing.T) {
	t.Parallel()
	is := issuer(t)
	cfg := keylesstest.StandardConfig(is)
	cfgPath := writeConfig(t, cfg)
	base, cmd := startServe(t, cfgPath)
	exchange := func() int {
		tok, err := is.Mint(map[string]any{"sub": "repo:acme/app:ref:refs/heads/main", "aud": "keyless-test", "repository": "acme/app", "repository_owner": "acme"})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.PostForm(base+"/v1/token", keylesstest.STSForm(tok))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := exchange(); got != 200 {
		t.Fatalf("before reload: %d", got)
	}
	// A broken file is refused and the running configuration stays.
	if err := os.WriteFile(cfgPath, []byte("google: {projects: [{projectId: x}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	if got := exchange(); got != 200 {
		t.Fatalf("after a bad reload: %d, want the previous config still serving", got)
	}
	cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0].AttributeCondition = "assertion.repository_owner == 'someone-else'"
	b, err := config.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for exchange() != 400 {
		if time.Now().After(deadline) {
			t.Fatal("new condition not in force 10 s after SIGHUP")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestExplainDiscoversIssuerKeys: offline explain fetches an issuer's keys through
// discovery with the same trust settings as serve (issuerCAFile, allowPrivateIssuers).
func TestExplainDiscoversIssuerKeys(t *testing.T) {
	t.Parallel()
	is := issuer(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "issuer-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.Certificate()}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := keylesstest.StandardConfig(is)
	cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0].OIDC.JWKSJSON = ""
	cfg.Server = &config.Server{IssuerCAFile: caFile, AllowPrivateIssuers: true}
	cfgPath := writeConfig(t, cfg)
	tok, err := is.Mint(map[string]any{"sub": "repo:acme/app:ref:refs/heads/main", "aud": "keyless-test", "repository": "acme/app", "repository_owner": "acme"})
	if err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(dir, "tok.jwt")
	if err := os.WriteFile(tokFile, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	prov := strings.TrimPrefix(keylesstest.Audience(), "//iam.googleapis.com/")
	out, err := exec.Command(bin, "explain", "--config", cfgPath, "--provider", prov, "--subject-token", tokFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "result: allowed") {
		t.Fatalf("explain with discovery: %v\n%s", err, out)
	}
	if is.Fetches.Load() == 0 {
		t.Error("the issuer's JWKS was never fetched")
	}
}
