package interop

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// agentAudience is the audience every client asks the agent's identity endpoint for
// (no '&': Node does not escape it).
const agentAudience = "https://orders.internal.example/api"

// assertAgentIDToken checks an ID token a client obtained from the agent: signed by
// keyless, for audience, naming deployer and the role session that acted.
func (c *agentChain) assertIDToken(t *testing.T, token, audience string) {
	t.Helper()
	if token == "" {
		t.Fatal("the client returned no ID token")
	}
	cl := c.f.verify(t, token)
	if cl.typ != "JWT" {
		t.Errorf("ID token typ %q, want JWT", cl.typ)
	}
	if got := cl.str("aud"); got != audience {
		t.Errorf("ID token aud %q, want %q", got, audience)
	}
	if got := cl.str("email"); got != deployerSA {
		t.Errorf("ID token email %q, want %q (the agent asks with includeEmail)", got, deployerSA)
	}
	if sub := cl.str("sub"); !uniqueIDRe.MatchString(sub) {
		t.Errorf("ID token sub %q, want the service account's 21-digit unique id", sub)
	}
	if got := cl.actSub(); got != c.workload().principal {
		t.Errorf("ID token act.sub %q, want the agent's role session %q", got, c.workload().principal)
	}
}

// assertScope checks the scope claim of a service account token.
func (c *agentChain) assertScope(t *testing.T, token, want string) {
	t.Helper()
	if got := c.f.verify(t, token).str("scope"); got != want {
		t.Errorf("token scope %q, want %q", got, want)
	}
}

// testAgentNode drives google-auth-library's ADC (a Compute client, found by probing
// GCE_METADATA_HOST) and its ID token client.
func testAgentNode(t *testing.T, c *agentChain) {
	nodeBin := requireNode(t)
	modules, err := filepath.Abs(filepath.Join("node", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), c.gceEnv(t, "NODE_PATH="+modules), nodeBin,
		testdataAgent(t, "google_auth_gce.js"), agentAudience)
	var out struct {
		ClientType   string `json:"clientType"`
		Token        string `json:"token"`
		Expiry       int64  `json:"expiry"`
		Project      string `json:"project"`
		Email        string `json:"email"`
		IDClientType string `json:"idClientType"`
		IDToken      string `json:"idToken"`
		Error        string `json:"error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("node: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	if err != nil || out.Error != "" {
		t.Fatalf("google-auth-library against the agent's metadata server failed (%v): %s\nstderr: %s", err, out.Error, stderr)
	}
	if out.ClientType != "Compute" {
		t.Errorf("ADC chose a %q client, want Compute (the metadata server)", out.ClientType)
	}
	if out.Project != projectID || out.Email != deployerSA {
		t.Errorf("project %q email %q, want %q and %q", out.Project, out.Email, projectID, deployerSA)
	}
	c.f.assertServiceAccount(t, out.Token, deployerSA, c.workload(), time.Hour)
	c.assertScope(t, out.Token, cloudPlatform)
	if d := time.Until(time.UnixMilli(out.Expiry)); d < 50*time.Minute || d > time.Hour {
		t.Errorf("the library's expiry is in %s, want under an hour and not stale", d)
	}
	if out.IDClientType != "IdTokenClient" {
		t.Errorf("getIdTokenClient returned a %q", out.IDClientType)
	}
	c.assertIDToken(t, out.IDToken, agentAudience)
}

// testAgentPython drives the Cloud SDK's Python google-auth: ADC with a non-default scope
// (the agent performs a second exchange for it), compute_engine.Credentials with the
// default scopes, and IDTokenCredentials through the identity endpoint.
func testAgentPython(t *testing.T, c *agentChain) {
	python, pythonPath := requirePython(t)
	const scope = "https://www.googleapis.com/auth/devstorage.read_only"
	env := c.gceEnv(t, "PYTHONPATH="+pythonPath, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), env, python, testdataAgent(t, "google_auth_gce.py"), scope, agentAudience)
	var out struct {
		ADCType     string `json:"adc_type"`
		Project     string `json:"project"`
		ScopedToken string `json:"scoped_token"`
		Email       string `json:"email"`
		Token       string `json:"token"`
		Expiry      string `json:"expiry"`
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
		ImportError string `json:"import_error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("python: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	requireTool(t, out.ImportError == "", "the vendored google-auth does not import: "+out.ImportError)
	if err != nil || out.Error != "" {
		t.Fatalf("google-auth against the agent's metadata server failed (%v): %s\nstderr: %s", err, out.Error, stderr)
	}
	if out.ADCType != "Credentials" || out.Project != projectID || out.Email != deployerSA {
		t.Errorf("ADC %s for project %q email %q, want compute_engine Credentials, %q, %q", out.ADCType, out.Project, out.Email, projectID, deployerSA)
	}
	c.f.assertServiceAccount(t, out.ScopedToken, deployerSA, c.workload(), time.Hour)
	c.assertScope(t, out.ScopedToken, scope)
	c.f.assertServiceAccount(t, out.Token, deployerSA, c.workload(), time.Hour)
	c.assertScope(t, out.Token, cloudPlatform)
	// google-auth keeps naive UTC datetimes.
	if exp, err := time.Parse("2006-01-02T15:04:05.999999", out.Expiry); err != nil || time.Until(exp) < 50*time.Minute || time.Until(exp) > time.Hour {
		t.Errorf("expiry %q (%v), want under an hour from now", out.Expiry, err)
	}
	c.assertIDToken(t, out.IDToken, agentAudience)
}

// testAgentGo drives cloud.google.com/go/compute/metadata and x/oauth2/google's
// FindDefaultCredentials in a subprocess (the metadata package caches OnGCE per process).
func testAgentGo(t *testing.T, c *agentChain, bin string) {
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), c.gceEnv(t), bin, agentAudience)
	var out struct {
		OnGCE            bool      `json:"onGCE"`
		ProjectID        string    `json:"projectId"`
		NumericProjectID string    `json:"numericProjectId"`
		Email            string    `json:"email"`
		ADCProjectID     string    `json:"adcProjectId"`
		AccessToken      string    `json:"accessToken"`
		TokenType        string    `json:"tokenType"`
		Expiry           time.Time `json:"expiry"`
		IDToken          string    `json:"idToken"`
		Error            string    `json:"error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("gcemetago: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	if err != nil || out.Error != "" {
		t.Fatalf("the Go clients against the agent's metadata server failed (%v): %s", err, out.Error)
	}
	if out.ProjectID != projectID || out.NumericProjectID != projectNumber || out.ADCProjectID != projectID || out.Email != deployerSA {
		t.Errorf("metadata: project %q (ADC %q) number %q email %q, want %q, %q, %q", out.ProjectID, out.ADCProjectID,
			out.NumericProjectID, out.Email, projectID, projectNumber, deployerSA)
	}
	if out.TokenType != "Bearer" {
		t.Errorf("token type %q", out.TokenType)
	}
	c.f.assertServiceAccount(t, out.AccessToken, deployerSA, c.workload(), time.Hour)
	if d := time.Until(out.Expiry); d < 50*time.Minute || d > time.Hour {
		t.Errorf("the token source's expiry is in %s, want under an hour and not stale", d)
	}
	c.assertIDToken(t, out.IDToken, agentAudience)
}

// testAgentGcloud drives gcloud with an empty configuration directory: it detects GCE by
// reading numeric-project-id from GCE_METADATA_ROOT and uses the metadata credentials.
func testAgentGcloud(t *testing.T, c *agentChain) {
	bin := requireGcloud(t)
	env := c.gceEnv(t, "CLOUDSDK_CONFIG="+t.TempDir(), "CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1", "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true", "CLOUDSDK_SURVEY_DISABLE_PROMPTS=1")
	stdout, stderr, err := runTool(t, 90*time.Second, t.TempDir(), env, bin, "auth", "print-access-token", "--verbosity=error")
	if err != nil {
		t.Fatalf("gcloud auth print-access-token against the agent's metadata server: %v\n%s", err, stderr)
	}
	tok := strings.TrimSpace(stdout)
	c.f.assertServiceAccount(t, tok, deployerSA, c.workload(), time.Hour)
	c.assertScope(t, tok, cloudPlatform)
}

// testAgentGoogleTokenFile checks files.googleAccessToken: the bare service account token,
// mode 0600.
func testAgentGoogleTokenFile(t *testing.T, c *agentChain) {
	tok := waitFile(t, c.tokenFile, func(s string) bool { return strings.Count(s, ".") == 2 })
	if strings.TrimSpace(tok) != tok {
		t.Errorf("the token file has surrounding whitespace")
	}
	c.f.assertServiceAccount(t, tok, deployerSA, c.workload(), time.Hour)
	assertMode0600(t, c.tokenFile)
}

// buildClients starts building Go clients under test/clients (this module, go build) in
// the background; the returned function waits for them and returns their paths by name.
func buildClients(t *testing.T, names ...string) func(t *testing.T) map[string]string {
	t.Helper()
	_, err := exec.LookPath("go")
	requireTool(t, err == nil, "the go tool is not on PATH")
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bins := map[string]string{}
	done := make(chan struct{})
	var buildErr error
	t.Cleanup(func() { <-done }) // before the temp dir is removed
	go func() {
		defer close(done)
		for _, name := range names {
			bin := filepath.Join(dir, name)
			cmd := exec.Command("go", "build", "-mod=readonly", "-o", bin, "./test/clients/"+name)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("building test/clients/%s: %v\n%s", name, err, out)
				return
			}
			bins[name] = bin
		}
	}()
	return func(t *testing.T) map[string]string {
		t.Helper()
		<-done
		if buildErr != nil {
			t.Fatal(buildErr)
		}
		return bins
	}
}
