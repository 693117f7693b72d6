package gcemeta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requiredEnv makes a missing external client a failure instead of a skip
// (the same switch as test/interop).
const requiredEnv = "KEYLESS_INTEROP_REQUIRED"

func requireTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip("external clients are skipped in -short mode")
	}
	if ok {
		return
	}
	if os.Getenv(requiredEnv) != "" {
		t.Fatalf("%s, and %s is set", what, requiredEnv)
	}
	t.Skipf("%s (set %s to make this a failure)", what, requiredEnv)
}

// clientEnv is the environment for an external client: no proxies, no
// ambient Google settings, and HOME and the gcloud config in temp dirs.
func clientEnv(t *testing.T, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch uk := strings.ToUpper(k); {
		case strings.HasSuffix(uk, "_PROXY"), strings.HasPrefix(uk, "CLOUDSDK_"), strings.HasPrefix(uk, "GCE_METADATA"),
			strings.HasPrefix(uk, "GOOGLE_"), uk == "HOME", uk == "NO_GCE_CHECK", uk == "METADATA_SERVER_DETECTION", uk == "NODE_PATH":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+t.TempDir(), "CLOUDSDK_CONFIG="+t.TempDir(), "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
	return append(env, extra...)
}

// runClient runs an external client and decodes the one JSON line it prints.
func runClient(t *testing.T, env []string, out any, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var status struct {
		Error       string `json:"error"`
		ImportError string `json:"import_error"`
	}
	line := strings.TrimSpace(stdout.String())
	if jerr := json.Unmarshal([]byte(line), &status); jerr != nil {
		t.Fatalf("%s: %v; stdout %q; stderr %s", name, err, line, stderr.String())
	}
	requireTool(t, status.ImportError == "", "the client library does not import: "+status.ImportError)
	if err != nil || status.Error != "" {
		t.Fatalf("%s failed (%v): %s\nstderr: %s", name, err, status.Error, stderr.String())
	}
	if err := json.Unmarshal([]byte(line), out); err != nil {
		t.Fatal(err)
	}
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// requirePython finds the google-auth the Cloud SDK vendors and the SDK's
// bundled interpreter (python3 on PATH when the SDK ships none).
func requirePython(t *testing.T) (python, pythonPath string) {
	t.Helper()
	bin, err := exec.LookPath("gcloud")
	requireTool(t, err == nil, "gcloud (which vendors Python google-auth) is not on PATH")
	resolved, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	sdk := filepath.Dir(filepath.Dir(resolved))
	pythonPath = filepath.Join(sdk, "lib", "third_party")
	_, err = os.Stat(filepath.Join(pythonPath, "google", "auth", "compute_engine", "_metadata.py"))
	requireTool(t, err == nil, "the Cloud SDK at "+sdk+" vendors no google-auth")
	python = filepath.Join(sdk, "platform", "bundledpythonunix", "bin", "python3")
	if _, err := os.Stat(python); err != nil {
		python, err = exec.LookPath("python3")
		requireTool(t, err == nil, "neither the Cloud SDK's bundled Python nor python3 is available")
	}
	return python, pythonPath
}

func TestPythonGoogleAuth(t *testing.T) {
	t.Parallel()
	python, pythonPath := requirePython(t)
	f := newFixture(t, time.Now)
	log := &requestLog{h: f.h}
	addr := startServer(t, log)
	const audience = "https://svc.example/path?x=1&y=2"
	// Python probes GCE_METADATA_IP (GET /), then uses GCE_METADATA_HOST.
	env := clientEnv(t, "GCE_METADATA_HOST="+addr, "GCE_METADATA_IP="+addr, "PYTHONPATH="+pythonPath, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	var out struct {
		ADCType                                 string `json:"adc_type"`
		Project, Token, Expiry, Email, Universe string
		OtherToken                              string `json:"other_token"`
		OtherEmail                              string `json:"other_email"`
		IDToken                                 string `json:"id_token"`
		IDExpiry                                string `json:"id_expiry"`
	}
	start := time.Now()
	runClient(t, env, &out, python, testdata(t, "google_auth_gce.py"), otherEmail, audience)
	end := time.Now()

	for _, want := range []string{"GET / 200", "GET /computeMetadata/v1/instance/service-accounts/default/?recursive=true 200",
		"GET /computeMetadata/v1/instance/service-accounts/" + defaultEmail + "/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_only 200"} {
		if !log.has(want) {
			t.Errorf("no %q among the requests:\n%s", want, log)
		}
	}
	if out.ADCType != "Credentials" || out.Project != testProject || out.Token != defaultToken || out.Email != defaultEmail || out.Universe != "googleapis.com" {
		t.Errorf("ADC: %+v", out)
	}
	// google-auth keeps naive UTC datetimes.
	if exp, err := time.Parse("2006-01-02T15:04:05.999999", out.Expiry); err != nil || !expiresWithin(exp, start, end) {
		t.Errorf("expiry %q (%v), want %v after the run", out.Expiry, err, lifetime)
	}
	if out.OtherToken != otherToken || out.OtherEmail != otherEmail {
		t.Errorf("named account: token %q email %q", out.OtherToken, out.OtherEmail)
	}
	if got := f.def.gotScopes(); len(got) == 0 || strings.Join(got[0], " ") != "https://www.googleapis.com/auth/devstorage.read_only" {
		t.Errorf("ADC scopes %q", got)
	}
	if got := f.other.gotScopes(); len(got) != 1 || strings.Join(got[0], " ") != "s1 s2" {
		t.Errorf("named account scopes %q, want the account's scopes from ?recursive=true", got)
	}
	if calls := f.def.gotID(); len(calls) != 1 || calls[0] != (idCall{audience, "full", false}) {
		t.Errorf("ID token calls %+v", calls)
	}
	exp := jwtExp(t, out.IDToken)
	if out.IDToken != fakeJWT(audience, time.Unix(exp, 0)) {
		t.Errorf("ID token %q is not the source's", out.IDToken)
	}
	if want := time.Unix(exp, 0).UTC().Format("2006-01-02T15:04:05"); out.IDExpiry != want {
		t.Errorf("ID token expiry %q, want %q", out.IDExpiry, want)
	}
}

// nodeModules is where test/interop installs google-auth-library (npm ci).
func requireNode(t *testing.T) (nodeBin, nodePath string) {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	requireTool(t, err == nil, "node is not on PATH")
	nodePath, err = filepath.Abs(filepath.Join("..", "..", "..", "test", "interop", "node", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(nodePath, "google-auth-library", "package.json"))
	requireTool(t, err == nil, "google-auth-library is not installed (run `npm ci` in test/interop/node)")
	return nodeBin, nodePath
}

func TestNodeGoogleAuthLibrary(t *testing.T) {
	t.Parallel()
	nodeBin, nodePath := requireNode(t)
	f := newFixture(t, time.Now)
	log := &requestLog{h: f.h}
	addr := startServer(t, log)
	// Node does not escape the audience: one without '&' survives.
	const audience = "https://svc.example/path?x=1"
	// GCE_METADATA_HOST alone: Node probes GET /computeMetadata/v1/instance,
	// which is redirected to the slash form.
	env := clientEnv(t, "GCE_METADATA_HOST="+addr, "NODE_PATH="+nodePath)
	var out struct {
		ClientType, Token, Project, Email, OtherToken, IDToken string
		Expiry, IDExpiry                                       int64
	}
	start := time.Now()
	runClient(t, env, &out, nodeBin, testdata(t, "google_auth_gce.js"), otherEmail, audience)
	end := time.Now()

	for _, want := range []string{"GET /computeMetadata/v1/instance 301", "GET /computeMetadata/v1/instance/ 200",
		"GET /computeMetadata/v1/instance/service-accounts/default/identity?format=full&audience=" + audience + " 200"} {
		if !log.has(want) {
			t.Errorf("no %q among the requests:\n%s", want, log)
		}
	}
	if out.ClientType != "Compute" || out.Token != defaultToken || out.Project != testProject || out.Email != defaultEmail {
		t.Errorf("ADC: %+v", out)
	}
	if exp := time.UnixMilli(out.Expiry); !expiresWithin(exp, start, end) {
		t.Errorf("expiry %v, want %v after the run", exp, lifetime)
	}
	if out.OtherToken != otherToken {
		t.Errorf("named account token %q", out.OtherToken)
	}
	if got := f.def.gotScopes(); len(got) == 0 || strings.Join(got[0], " ") != "https://www.googleapis.com/auth/devstorage.read_only" {
		t.Errorf("ADC scopes %q", got)
	}
	if got := f.other.gotScopes(); len(got) != 1 || strings.Join(got[0], " ") != "x y" {
		t.Errorf("named account scopes %q", got)
	}
	if calls := f.def.gotID(); len(calls) != 1 || calls[0] != (idCall{audience, "full", false}) {
		t.Errorf("ID token calls %+v", calls)
	}
	exp := jwtExp(t, out.IDToken)
	if out.IDToken != fakeJWT(audience, time.Unix(exp, 0)) || out.IDExpiry != exp*1000 {
		t.Errorf("ID token %q expiring %d, want the source's expiring %d", out.IDToken, out.IDExpiry, exp*1000)
	}
}

// gcloud detects GCE by reading numeric-project-id from GCE_METADATA_ROOT (it
// ignores GCE_METADATA_HOST), lists every account as credentialed, and sends
// the ID token audience unescaped.
func TestGcloud(t *testing.T) {
	t.Parallel()
	gcloud, err := exec.LookPath("gcloud")
	requireTool(t, err == nil, "gcloud is not on PATH")
	f := newFixture(t, time.Now)
	log := &requestLog{h: f.h}
	addr := startServer(t, log)
	env := clientEnv(t, "GCE_METADATA_ROOT="+addr)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, gcloud, append(args, "--verbosity=error")...)
		cmd.Env, cmd.Dir = env, t.TempDir()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("gcloud %v: %v\n%s", args, err, stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}
	if got := run("auth", "print-access-token"); got != defaultToken {
		t.Errorf("print-access-token = %q, want %q", got, defaultToken)
	}
	const audience = "https://svc.example/path"
	jwt := run("auth", "print-identity-token", "--audiences="+audience)
	if jwt != fakeJWT(audience, time.Unix(jwtExp(t, jwt), 0)) {
		t.Errorf("print-identity-token = %q, not the source's token for %q", jwt, audience)
	}
	if calls := f.def.gotID(); len(calls) == 0 || calls[len(calls)-1] != (idCall{audience, "standard", false}) {
		t.Errorf("ID token calls %+v", calls)
	}
	for _, want := range []string{"GET /computeMetadata/v1/project/numeric-project-id 200",
		"GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=" + audience + "&format=standard&licenses=FALSE 200"} {
		if !log.has(want) {
			t.Errorf("no %q among the requests:\n%s", want, log)
		}
	}
}
