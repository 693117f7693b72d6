package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	kjose "github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// The federation every test serves (see federationConfig).
const (
	projectID      = "interop-project"
	projectNumber  = "210987654321"
	poolID         = "interop-pool"
	discProvider   = "disc-provider"   // keys discovered over TLS
	pinnedProvider = "pinned-provider" // keys pinned in oidc.jwksJson
	pinnedAudience = "interop-pinned"  // the pinned provider's allowedAudiences
	pinnedSubject  = "pinned-workload" // bound to deployerSA by its principal:// URI
	acmeSubject    = "repo:acme/app:ref:refs/heads/main"
	deployerSA     = "deployer@" + projectID + ".iam.gserviceaccount.com"
	nobodySA       = "nobody@" + projectID + ".iam.gserviceaccount.com" // no bindings
	cloudPlatform  = "https://www.googleapis.com/auth/cloud-platform"

	// requiredEnv turns a missing external client (node, gcloud) from a skip into a
	// failure; CI sets it.
	requiredEnv = "KEYLESS_INTEROP_REQUIRED"
)

// keylessBin is the binary TestMain builds; read-only once tests run.
var keylessBin string

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "keyless-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	keylessBin = filepath.Join(dir, "keyless")
	build := exec.Command("go", "build", "-o", keylessBin, "./cmd/keyless")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "interop: building keyless:", err)
		return 1
	}
	// x/oauth2's executable source reads this at token time. It is process-wide, so it
	// is set once here instead of with t.Setenv (which forbids t.Parallel).
	if err := os.Setenv("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1"); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	return m.Run()
}

// moduleRoot finds the keyless module above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module github.com/keylessdev/keyless\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the keyless module root above the test directory")
		}
		dir = parent
	}
}

// keyless is a running `keyless serve` process.
type keyless struct {
	URL string
}

// startKeyless runs `keyless serve` with configYAML on a free loopback port and stops it
// when the test ends. Its stderr and audit log are printed if the test failed.
func startKeyless(t *testing.T, configYAML string) *keyless {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "keyless.yaml")
	stderrPath, auditPath := filepath.Join(dir, "stderr.log"), filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(cfgPath, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(stderrPath)
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(keylessBin, "serve", "--config", cfgPath, "--data", filepath.Join(dir, "data"),
		"--addr", "127.0.0.1:0", "--audit-log", auditPath)
	cmd.Stdout, cmd.Stderr = outW, errf
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		t.Fatal(err)
	}
	outW.Close()
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("keyless did not stop within 10s of SIGTERM")
		}
		if t.Failed() {
			logFile(t, "keyless stderr", stderrPath)
			logFile(t, "keyless audit log", auditPath)
		}
	})

	lines := make(chan string, 1)
	go func() {
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		for first := true; sc.Scan(); first = false {
			if first {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		url, found := strings.CutPrefix(line, "keyless listening on ")
		if !ok || !found || !strings.HasPrefix(url, "http://127.0.0.1:") {
			<-done
			t.Fatalf("keyless serve printed %q, want \"keyless listening on http://127.0.0.1:PORT\" (exit: %v)", line, waitErr)
		}
		return &keyless{URL: url}
	case <-done:
		t.Fatalf("keyless serve exited before listening: %v", waitErr)
	case <-time.After(30 * time.Second):
		t.Fatal("keyless serve did not print its listening line within 30s")
	}
	return nil
}

func logFile(t *testing.T, what, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s: %v", what, err)
		return
	}
	t.Logf("%s:\n%s", what, b)
}

// federation is a keyless server with two trusted OIDC issuers.
type federation struct {
	*keyless
	disc   *testissuer.Issuer // RS256, keyless discovers its JWKS over TLS
	pinned *testissuer.Issuer // ES256, keys pinned; its TLS certificate is not trusted
}

func startFederation(t *testing.T) *federation {
	t.Helper()
	disc, err := testissuer.Start(testissuer.Options{Alg: "RS256", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(disc.Close)
	pinned, err := testissuer.Start(testissuer.Options{Alg: "ES256", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pinned.Close)
	caFile := filepath.Join(t.TempDir(), "issuer-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: disc.Certificate()}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &federation{keyless: startKeyless(t, federationConfig(caFile, disc, pinned)), disc: disc, pinned: pinned}
}

// federationConfig is the YAML a user would write: a pool with a discovered and a pinned
// OIDC provider, a service account bound to one workload of each, and one bound to
// nobody.
func federationConfig(caFile string, disc, pinned *testissuer.Issuer) string {
	return fmt.Sprintf(`# keyless interop test federation
server:
  allowPrivateIssuers: true   # the issuers listen on 127.0.0.1
  issuerCAFile: %[1]s
google:
  projects:
  - projectId: %[2]s
    projectNumber: "%[3]s"
    workloadIdentityPools:
    - workloadIdentityPoolId: %[4]s
      displayName: Interop pool
      providers:
      - workloadIdentityPoolProviderId: %[5]s
        attributeMapping:
          google.subject: assertion.sub
          attribute.repository: assertion.repository
        attributeCondition: "assertion.repository_owner == 'acme'"
        oidc:
          issuerUri: %[6]s
      - workloadIdentityPoolProviderId: %[7]s
        attributeMapping:
          google.subject: assertion.sub
          attribute.team: assertion.team
        attributeCondition: "assertion.team == 'platform'"
        oidc:
          issuerUri: %[8]s
          allowedAudiences: [%[9]s]
          jwksJson: %[10]s
    serviceAccounts:
    - accountId: deployer
      iamPolicy:
        bindings:
        - role: roles/iam.workloadIdentityUser
          members:
          - %[11]s
          - %[12]s
        - role: roles/iam.serviceAccountTokenCreator   # signBlob / signJwt (gcloud iam service-accounts sign-*)
          members:
          - %[12]s
    - accountId: nobody
`, q(caFile), projectID, projectNumber, poolID, discProvider, q(disc.URL), pinnedProvider, q(pinned.URL),
		q(pinnedAudience), q(pinned.JWKS()), q(principalSet()+"/attribute.repository/acme/app"), q(principal(pinnedSubject)))
}

// q quotes s as a YAML double-quoted scalar (JSON strings are valid YAML).
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func providerResource(provider string) string {
	return "projects/" + projectNumber + "/locations/global/workloadIdentityPools/" + poolID + "/providers/" + provider
}

// stsAudience is the audience clients send to /v1/token (gcloud's literal form).
func stsAudience(provider string) string { return "//iam.googleapis.com/" + providerResource(provider) }

func principalSet() string {
	return "principalSet://iam.googleapis.com/projects/" + projectNumber + "/locations/global/workloadIdentityPools/" + poolID
}

func principal(subject string) string {
	return "principal://iam.googleapis.com/projects/" + projectNumber + "/locations/global/workloadIdentityPools/" + poolID + "/subject/" + subject
}

func impersonationURL(base, email string) string {
	return base + "/v1/projects/-/serviceAccounts/" + email + ":generateAccessToken"
}

// workload is a credential of one of the federation's providers.
type workload struct {
	provider  string
	token     string
	principal string // the principal:// keyless must name for it
}

// acme is a GitHub-like workload of the discovered provider that the condition admits
// and the deployer binding matches (attribute.repository/acme/app).
func (f *federation) acme(t *testing.T) workload {
	return f.discWorkload(t, acmeSubject, "acme")
}

// discWorkload mints a token of the discovered provider with its default audience.
func (f *federation) discWorkload(t *testing.T, sub, owner string) workload {
	t.Helper()
	tok, err := f.disc.Mint(map[string]any{
		"aud": "https://iam.googleapis.com/" + providerResource(discProvider), "sub": sub,
		"repository": owner + "/app", "repository_owner": owner,
	})
	if err != nil {
		t.Fatal(err)
	}
	return workload{provider: discProvider, token: tok, principal: principal(sub)}
}

// pinnedWorkload mints a token of the pinned provider, bound to deployer by principal.
func (f *federation) pinnedWorkload(t *testing.T) workload {
	t.Helper()
	tok, err := f.pinned.Mint(map[string]any{"aud": pinnedAudience, "sub": pinnedSubject, "team": "platform"})
	if err != nil {
		t.Fatal(err)
	}
	return workload{provider: pinnedProvider, token: tok, principal: principal(pinnedSubject)}
}

// credSpec describes a credential configuration: one of gcloud's generated files in
// testdata/credcfg, pointed at the server and at a test-controlled token source.
type credSpec struct {
	template    string // file name in testdata/credcfg
	workload    workload
	source      sourceKind
	impersonate string // service account email; "" uses the federated token itself
}

type sourceKind string

const (
	sourceFile       sourceKind = "file"
	sourceURL        sourceKind = "url"
	sourceExecutable sourceKind = "executable"
)

// credConfig writes the configuration and returns its path. Everything gcloud wrote is
// kept except the URLs and paths, which point at loopback and the test's files.
func (f *federation) credConfig(t *testing.T, spec credSpec) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "credcfg", spec.template))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["audience"] = stsAudience(spec.workload.provider)
	cfg["token_url"] = f.URL + "/v1/token"
	if spec.impersonate != "" {
		cfg["service_account_impersonation_url"] = impersonationURL(f.URL, spec.impersonate)
		delete(cfg, "token_info_url")
	} else {
		delete(cfg, "service_account_impersonation_url")
		delete(cfg, "service_account_impersonation")
		cfg["token_info_url"] = f.URL + "/v1/introspect"
	}
	cs, ok := cfg["credential_source"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no credential_source object", spec.template)
	}
	dir := t.TempDir()
	switch spec.source {
	case sourceFile:
		if _, ok := cs["file"]; !ok {
			t.Fatalf("%s is not a file-sourced config", spec.template)
		}
		cs["file"] = writeSubjectFile(t, dir, cs, spec.workload.token)
	case sourceURL:
		if _, ok := cs["url"]; !ok {
			t.Fatalf("%s is not a url-sourced config", spec.template)
		}
		cs["url"] = serveSubjectToken(t, cs, spec.workload.token)
	case sourceExecutable:
		ex, ok := cs["executable"].(map[string]any)
		if !ok {
			t.Fatalf("%s is not an executable-sourced config", spec.template)
		}
		ex["command"] = writeExecutable(t, dir, spec.workload.token, cfg["audience"].(string))
		ex["output_file"] = filepath.Join(dir, "cache", "executable-response.json") // absent: run the command
	default:
		t.Fatalf("unknown source %q", spec.source)
	}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "credential-config.json")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonField returns subject_token_field_name when the source's format is json.
func jsonField(t *testing.T, cs map[string]any) string {
	format, _ := cs["format"].(map[string]any)
	if format == nil || format["type"] != "json" {
		return ""
	}
	field, _ := format["subject_token_field_name"].(string)
	if field == "" {
		t.Fatal("json format without subject_token_field_name")
	}
	return field
}

// subjectBody renders the token as the source's format says (text ends in a newline,
// as files written by platforms usually do).
func subjectBody(t *testing.T, cs map[string]any, token string) []byte {
	if field := jsonField(t, cs); field != "" {
		b, err := json.Marshal(map[string]string{field: token})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return []byte(token + "\n")
}

func writeSubjectFile(t *testing.T, dir string, cs map[string]any, token string) string {
	path := filepath.Join(dir, "subject-token")
	if err := os.WriteFile(path, subjectBody(t, cs, token), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveSubjectToken serves the token on loopback only to GETs that carry every header the
// configuration declares, like a metadata endpoint would.
func serveSubjectToken(t *testing.T, cs map[string]any, token string) string {
	headers, _ := cs["headers"].(map[string]any)
	if len(headers) == 0 {
		t.Fatal("url source without headers: the test would not check header forwarding")
	}
	body := subjectBody(t, cs, token)
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		for k, v := range headers {
			if got := r.Header.Get(k); got != v {
				http.Error(w, fmt.Sprintf("header %s is %q, want %q", k, got, v), http.StatusForbidden)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	return srv + "/subject-token"
}

// writeExecutable writes a script that prints Google's executable-source response, after
// checking the environment the client must pass it.
func writeExecutable(t *testing.T, dir, token, audience string) string {
	resp, err := json.Marshal(map[string]any{
		"version": 1, "success": true, "token_type": "urn:ietf:params:oauth:token-type:jwt",
		"id_token": token, "expiration_time": time.Now().Add(10 * time.Minute).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	respPath := filepath.Join(dir, "executable-response.json")
	if err := os.WriteFile(respPath, resp, 0o600); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
if [ "$GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE" != %[1]s ] || [ "$GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE" != "urn:ietf:params:oauth:token-type:jwt" ]; then
  echo '{"version": 1, "success": false, "code": "400", "message": "unexpected GOOGLE_EXTERNAL_ACCOUNT_* environment"}'
  exit 1
fi
exec cat %[2]s
`, shellQuote(audience), shellQuote(respPath))
	path := filepath.Join(dir, "get-token")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(path, " \t\n") {
		t.Skipf("temp path %q has whitespace; executable commands are split on whitespace", path)
	}
	return path
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// newLoopbackServer serves h on 127.0.0.1 until the test ends and returns its URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// claims are a verified keyless JWT's header type and payload.
type claims struct {
	typ string
	m   map[string]any
}

func (c claims) str(name string) string {
	s, _ := c.m[name].(string)
	return s
}

func (c claims) num(t *testing.T, name string) int64 {
	t.Helper()
	n, ok := c.m[name].(json.Number)
	if !ok {
		t.Fatalf("claim %s = %v, want a number", name, c.m[name])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %s: %v", name, err)
	}
	return v
}

// actSub is act.sub: who acted to obtain the token.
func (c claims) actSub() string {
	act, _ := c.m["act"].(map[string]any)
	s, _ := act["sub"].(string)
	return s
}

func (c claims) keyless(name string) string {
	k, _ := c.m["keyless"].(map[string]any)
	s, _ := k[name].(string)
	return s
}

// verify checks token against the keys keyless publishes through its discovery document
// (signature, iss, exp) and returns its claims.
func (k *keyless) verify(t *testing.T, token string) claims {
	t.Helper()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, k.URL+"/.well-known/openid-configuration", &disc)
	if disc.Issuer != k.URL {
		t.Fatalf("discovery issuer %q, want %q", disc.Issuer, k.URL)
	}
	var set jose.JSONWebKeySet
	getJSON(t, disc.JWKSURI, &set)
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("token is not a JWS keyless could have signed: %v", err)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("token has %d signatures", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in keyless's JWKS, want 1", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature does not verify with keyless's JWKS: %v", err)
	}
	c := claims{m: map[string]any{}}
	c.typ, _ = h.ExtraHeaders[jose.HeaderType].(string)
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&c.m); err != nil {
		t.Fatal(err)
	}
	if iss := c.str("iss"); iss != k.URL {
		t.Errorf("iss %q, want %q", iss, k.URL)
	}
	if exp := c.num(t, "exp"); exp <= time.Now().Unix() {
		t.Errorf("token expired at %d", exp)
	}
	if c.str("jti") == "" {
		t.Error("token has no jti")
	}
	return c
}

var uniqueIDRe = regexp.MustCompile(`^[0-9]{21}$`)

// assertFederated checks a token from /v1/token: a keyless access token for the
// workload's principal.
func (k *keyless) assertFederated(t *testing.T, token string, w workload) {
	t.Helper()
	c := k.verify(t, token)
	if c.typ != "at+jwt" {
		t.Errorf("typ %q, want at+jwt", c.typ)
	}
	if got := c.str("sub"); got != w.principal {
		t.Errorf("sub %q, want %q", got, w.principal)
	}
	if got := c.str("aud"); got != stsAudience(w.provider) {
		t.Errorf("aud %q, want %q", got, stsAudience(w.provider))
	}
	if got := c.keyless("kind"); got != "federated" {
		t.Errorf("keyless.kind %q, want federated", got)
	}
	if c.m["email"] != nil || c.m["act"] != nil {
		t.Errorf("federated token carries email/act: %v / %v", c.m["email"], c.m["act"])
	}
}

// assertServiceAccount checks a token from generateAccessToken: the service account's,
// with act naming the federated principal, valid for lifetime.
func (k *keyless) assertServiceAccount(t *testing.T, token, email string, w workload, lifetime time.Duration) {
	t.Helper()
	c := k.verify(t, token)
	if c.typ != "at+jwt" {
		t.Errorf("typ %q, want at+jwt", c.typ)
	}
	if got := c.str("email"); got != email {
		t.Errorf("email %q, want %q", got, email)
	}
	if sub := c.str("sub"); !uniqueIDRe.MatchString(sub) {
		t.Errorf("sub %q, want the service account's 21-digit unique id", sub)
	}
	if got := c.actSub(); got != w.principal {
		t.Errorf("act.sub %q, want %q", got, w.principal)
	}
	if got := c.keyless("kind"); got != "service_account" {
		t.Errorf("keyless.kind %q, want service_account", got)
	}
	if got := time.Duration(c.num(t, "exp")-c.num(t, "iat")) * time.Second; got != lifetime {
		t.Errorf("lifetime %s, want %s", got, lifetime)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

// decisionRE finds the decision id keyless appends to every error description.
var decisionRE = regexp.MustCompile(`\(decision ([A-Za-z0-9._~-]+)\)`)

// assertDenied checks that text (a client's error) carries a decision id whose audit
// event is a denial with a failed trace step named stage.
func (k *keyless) assertDenied(t *testing.T, text, stage string) {
	t.Helper()
	m := decisionRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no \"(decision ID)\" in the client's error: %s", text)
	}
	var ev struct {
		Outcome string          `json:"outcome"`
		Trace   json.RawMessage `json:"trace"`
	}
	getJSON(t, k.URL+"/v1/decisions/"+m[1], &ev)
	if ev.Outcome != "deny" {
		t.Errorf("decision %s outcome %q, want deny", m[1], ev.Outcome)
	}
	failed, err := failedStages(ev.Trace)
	if err != nil {
		t.Fatalf("decision %s: trace: %v (%s)", m[1], err, ev.Trace)
	}
	if !slices.Contains(failed, stage) {
		t.Errorf("decision %s: failed stages %v, want %q", m[1], failed, stage)
	}
}

// failedStages lists the stages of a trace ({"steps":[{stage, ok}]}) that failed.
func failedStages(raw json.RawMessage) ([]string, error) {
	var tr struct {
		Steps []struct {
			Stage string `json:"stage"`
			OK    bool   `json:"ok"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		return nil, err
	}
	if len(tr.Steps) == 0 {
		return nil, errors.New("no steps")
	}
	var out []string
	for _, s := range tr.Steps {
		if !s.OK {
			out = append(out, s.Stage)
		}
	}
	return out, nil
}

// requireTool skips (or, with KEYLESS_INTEROP_REQUIRED set, fails) when an external
// client is unavailable.
func requireTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv(requiredEnv) != "" {
		t.Fatalf("%s, and %s is set", what, requiredEnv)
	}
	t.Skipf("%s (set %s to make this a failure)", what, requiredEnv)
}

// toolEnv is the environment for external clients: no proxies, no ambient Google
// credentials or gcloud settings, HOME in a temp dir, and metadata-server probes sent
// to a closed loopback port so nothing can wait on the network.
func toolEnv(t *testing.T, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch uk := strings.ToUpper(k); {
		case strings.HasSuffix(uk, "_PROXY"), strings.HasPrefix(uk, "CLOUDSDK_"), strings.HasPrefix(uk, "GCE_METADATA"),
			strings.HasPrefix(uk, "GOOGLE_"), uk == "HOME":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+t.TempDir(), "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"GCE_METADATA_HOST=127.0.0.1:9", "GCE_METADATA_IP=127.0.0.1:9", "NO_GCE_CHECK=True")
	return append(env, extra...)
}

// runTool runs an external client with a deadline and returns its stdout and stderr.
func runTool(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %s: %w", name, timeout, err)
	}
	return stdout.String(), stderr.String(), err
}

// serviceAccountKeys fetches an account's published keys (what signBlob/signJwt use).
func (k *keyless) serviceAccountKeys(t *testing.T, email string) *kjose.KeySet {
	t.Helper()
	var raw json.RawMessage
	getJSON(t, k.URL+"/service_accounts/v1/metadata/jwk/"+email, &raw)
	set, dropped, err := kjose.ParseKeySet(raw)
	if err != nil || len(dropped) > 0 || len(set.Keys) == 0 {
		t.Fatalf("%s keys: %v %v %s", email, err, dropped, raw)
	}
	return set
}
