package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/agent"
	"github.com/keylessdev/keyless/internal/agent/refresh"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// chainFixture is a keyless server with the AWS federation and an agent configured for
// the seed articles' chain: a web identity token file → AWS role credentials (keyless's
// AWS dialect) → those credentials federate into the Google dialect (aws4_request) and
// impersonate the deployer service account.
type chainFixture struct {
	f         *keylesstest.Fixture
	a         *agent.Agent
	dir       string
	authToken string
}

func startChain(t *testing.T) *chainFixture {
	t.Helper()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) })
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := write("web-identity-token", f.AWSToken(t, "app", nil))
	cred, _ := json.Marshal(map[string]any{
		"type": "external_account", "audience": keylesstest.AWSAudience(),
		"subject_token_type": "urn:ietf:params:aws:token-type:aws4_request", "token_url": f.URL + "/v1/token",
		"service_account_impersonation_url": f.URL + "/v1/projects/-/serviceAccounts/" + keylesstest.SAEmail + ":generateAccessToken",
		"credential_source": map[string]any{"environment_id": "aws1",
			"regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"},
	})
	credPath := write("gcp.json", string(cred))
	authToken := "container-auth-token-0123456789"
	authPath := write("ecs-token", authToken)
	cfgYAML := `
google:
  credentialConfig: ` + credPath + `
  projectId: ` + keylesstest.ProjectID + `
  projectNumber: "` + keylesstest.ProjectNumber + `"
aws:
  roleArn: ` + keylesstest.AWSRoleARN() + `
  webIdentityTokenFile: ` + tokenFile + `
  stsEndpoint: ` + f.URL + `
  region: us-east-1
  roleSessionName: checkout
serve:
  gceMetadata: 127.0.0.1:0
  imds: 127.0.0.1:0
  containerCredentials: 127.0.0.1:0
  containerAuthorizationTokenFile: ` + authPath + `
  status: 127.0.0.1:0
files:
  googleAccessToken: ` + filepath.Join(dir, "gcp-token") + `
  awsCredentials: ` + filepath.Join(dir, "aws-credentials") + `
  awsConfig: ` + filepath.Join(dir, "aws-config") + `
  awsProfile: checkout
`
	return &chainFixture{f: f, a: runAgentYAML(t, cfgYAML), dir: dir, authToken: authToken}
}

// runAgentYAML parses cfgYAML and runs the agent until the test ends.
func runAgentYAML(t *testing.T, cfgYAML string) *agent.Agent {
	t.Helper()
	cfg, err := agent.ParseConfig([]byte(cfgYAML), "agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return runAgent(t, cfg, refresh.Options{}, nil)
}

func (c *chainFixture) get(t *testing.T, endpoint, path string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+c.a.Addrs[endpoint]+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAgentServesTheChain(t *testing.T) {
	t.Parallel()
	c := startChain(t)
	google := map[string]string{"Metadata-Flavor": "Google"}

	// GCE metadata: the deployer's token, minted through the whole chain.
	code, body := c.get(t, "gceMetadata", "/computeMetadata/v1/instance/service-accounts/default/token", google)
	if code != 200 {
		t.Fatalf("token: %d %s", code, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.ExpiresIn < 3000 {
		t.Fatalf("token answer %s", body)
	}
	p, err := jose.ParseCompact(tok.AccessToken, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verify(c.f.Keys.PublicKeys(), []string{"ES256"}); err != nil || p.Claims["email"] != keylesstest.SAEmail {
		t.Fatalf("token for %v: %v", p.Claims["email"], err)
	}
	act, _ := p.Claims["act"].(map[string]any)
	if sub, _ := act["sub"].(string); !strings.HasSuffix(sub, "/subject/arn:aws:sts::"+keylesstest.AWSAccountID+":assumed-role/"+keylesstest.AWSRoleName+"/checkout") {
		t.Errorf("the service account token acts for %v, want the AWS role session", act["sub"])
	}
	if code, body := c.get(t, "gceMetadata", "/computeMetadata/v1/instance/service-accounts/default/email", google); code != 200 || string(body) != keylesstest.SAEmail {
		t.Errorf("email: %d %s", code, body)
	}
	if code, body := c.get(t, "gceMetadata", "/computeMetadata/v1/project/project-id", google); code != 200 || string(body) != keylesstest.ProjectID {
		t.Errorf("project: %d %s", code, body)
	}

	// IMDSv2: the same AWS session the chain used.
	req, _ := http.NewRequest(http.MethodPut, "http://"+c.a.Addrs["imds"]+"/latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	imdsTok, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, body = c.get(t, "imds", "/latest/meta-data/iam/security-credentials/"+keylesstest.AWSRoleName, map[string]string{"X-aws-ec2-metadata-token": string(imdsTok)})
	var creds struct{ Code, AccessKeyId, SecretAccessKey, Token, Expiration string }
	if code != 200 || json.Unmarshal(body, &creds) != nil || creds.Code != "Success" || !strings.HasPrefix(creds.AccessKeyId, "ASIA") {
		t.Fatalf("imds credentials: %d %s", code, body)
	}

	// Container credentials: the token from the file is required.
	code, body = c.get(t, "containerCredentials", "/v1/credentials", map[string]string{"Authorization": c.authToken})
	var cc struct{ AccessKeyId string }
	if code != 200 || json.Unmarshal(body, &cc) != nil || cc.AccessKeyId != creds.AccessKeyId {
		t.Fatalf("container credentials: %d %s", code, body)
	}
	if code, _ := c.get(t, "containerCredentials", "/v1/credentials", map[string]string{"Authorization": "wrong"}); code != 403 {
		t.Errorf("wrong container token: %d", code)
	}

	// Files, written with 0600.
	waitFor(t, func() bool {
		b, err := os.ReadFile(filepath.Join(c.dir, "aws-credentials"))
		return err == nil && strings.Contains(string(b), "aws_access_key_id = "+creds.AccessKeyId)
	})
	waitFor(t, func() bool {
		b, err := os.ReadFile(filepath.Join(c.dir, "gcp-token"))
		return err == nil && strings.Count(string(b), ".") == 2
	})
	if b, err := os.ReadFile(filepath.Join(c.dir, "aws-config")); err != nil || !strings.Contains(string(b), "[profile checkout]\nregion = us-east-1\n") {
		t.Errorf("aws config file: %q %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(c.dir, "aws-credentials")); !strings.Contains(string(b), "[checkout]\n") {
		t.Errorf("aws credentials profile: %q", b)
	}
	for _, name := range []string{"aws-credentials", "gcp-token", "aws-config"} {
		if st, err := os.Stat(filepath.Join(c.dir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st.Mode(), err)
		}
	}

	// Status and metrics.
	code, body = c.get(t, "status", "/status", nil)
	var st struct {
		Healthy   bool `json:"healthy"`
		Pipelines []struct {
			Pipeline  string `json:"pipeline"`
			Valid     bool   `json:"valid"`
			Refreshes int64  `json:"refreshes"`
		} `json:"pipelines"`
	}
	if code != 200 || json.Unmarshal(body, &st) != nil || !st.Healthy || len(st.Pipelines) < 2 {
		t.Fatalf("status: %d %s", code, body)
	}
	code, body = c.get(t, "status", "/metrics", nil)
	if code != 200 || !strings.Contains(string(body), `keyless_agent_credential_valid{key="",pipeline="aws-role"} 1`) {
		t.Errorf("metrics: %d %s", code, body)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// A refused exchange reaches metadata clients as 403 (not retried by SDKs), not 500.
func TestAgentDenialIs403(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, nil)
	dir := t.TempDir()
	tokPath := filepath.Join(dir, "token")
	if err := os.WriteFile(tokPath, []byte(f.GitHubToken(t, "evil", "app", nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, _ := json.Marshal(map[string]any{"type": "external_account", "audience": keylesstest.Audience(),
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": f.URL + "/v1/token",
		"credential_source": map[string]any{"file": tokPath}})
	credPath := filepath.Join(dir, "gcp.json")
	if err := os.WriteFile(credPath, cred, 0o600); err != nil {
		t.Fatal(err)
	}
	a := runAgentYAML(t, "google:\n  credentialConfig: "+credPath+"\n  projectId: p\nserve:\n  gceMetadata: 127.0.0.1:0\n")
	c := &chainFixture{a: a}
	code, body := c.get(t, "gceMetadata", "/computeMetadata/v1/instance/service-accounts/default/token", map[string]string{"Metadata-Flavor": "Google"})
	if code != http.StatusForbidden || strings.Contains(string(body), "eyJ") {
		t.Fatalf("denied exchange: %d %s", code, body)
	}
}

// The reverse chain with a keyless-issued identity: a GitHub token federates at keyless A
// into the deployer service account; the agent asks A for an ID token of that account
// (audience sts.amazonaws.com) and uses it as the web identity to assume a role at keyless
// B, whose IAM OIDC provider is keyless A.
func TestAgentWebIdentityFromGoogle(t *testing.T) {
	t.Parallel()
	a := keylesstest.Start(t, nil)
	b := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) {
		c.Server = &config.Server{AllowInsecureHTTPIssuers: true}
		host := strings.TrimPrefix(a.URL, "http://")
		c.AWS = &config.AWS{Accounts: []config.AWSAccount{{
			AccountID:              keylesstest.AWSAccountID,
			OpenIDConnectProviders: []config.OpenIDConnectProvider{{URL: a.URL, ClientIDList: []string{"sts.amazonaws.com"}, JWKSJSON: string(a.Keys.JWKS())}},
			Roles: []config.Role{{RoleName: "from-google", AssumeRolePolicyDocument: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
				"Principal":{"Federated":"arn:aws:iam::` + keylesstest.AWSAccountID + `:oidc-provider/` + host + `"},"Action":"sts:AssumeRoleWithWebIdentity",
				"Condition":{"StringEquals":{"` + host + `:aud":"sts.amazonaws.com","` + host + `:sub":"` + a.Engine.Snapshot().ServiceAccount(keylesstest.SAEmail).UniqueID + `"}}}]}`)}},
		}}}
	})
	dir := t.TempDir()
	tokPath := filepath.Join(dir, "token")
	if err := os.WriteFile(tokPath, []byte(a.GitHubToken(t, "acme", "app", nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, _ := json.Marshal(map[string]any{"type": "external_account", "audience": keylesstest.Audience(),
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": a.URL + "/v1/token",
		"service_account_impersonation_url": a.URL + "/v1/projects/-/serviceAccounts/" + keylesstest.SAEmail + ":generateAccessToken",
		"credential_source":                 map[string]any{"file": tokPath}})
	credPath := filepath.Join(dir, "gcp.json")
	if err := os.WriteFile(credPath, cred, 0o600); err != nil {
		t.Fatal(err)
	}
	ag := runAgentYAML(t, `
google:
  credentialConfig: `+credPath+`
aws:
  roleArn: arn:aws:iam::`+keylesstest.AWSAccountID+`:role/from-google
  webIdentityFromGoogle: {audience: sts.amazonaws.com}
  stsEndpoint: `+b.URL+`
  region: us-east-1
serve:
  containerCredentials: 127.0.0.1:0
  containerAuthorizationTokenFile: `+tokPath+`
`)
	cr, err := ag.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("AWS credentials from a keyless-issued identity: %v", err)
	}
	if !strings.HasPrefix(cr.AccessKeyID, "ASIA") {
		t.Fatalf("credentials %q", cr.AccessKeyID)
	}
}

// The AWS pipeline's web identity from a URL (JSON field, header required) and from an
// executable printing Google's executable-source response.
func TestAgentWebIdentityURLAndExecutable(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) })
	tok := f.AWSToken(t, "app", nil)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "true" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": tok})
	}))
	t.Cleanup(src.Close) // the parallel subtests run after this function returns
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\ncat <<'EOF'\n"+body+"\nEOF\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := script("good.sh", `{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:jwt","id_token":"`+tok+`","expiration_time":`+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`}`)
	bad := script("bad.sh", `{"version":1,"success":false,"code":"401","message":"not in a pod"}`)
	base := "aws:\n  roleArn: " + keylesstest.AWSRoleARN() + "\n  stsEndpoint: " + f.URL + "\n  region: us-east-1\n"
	for name, tc := range map[string]struct{ yaml, wantErr string }{
		"url":             {base + "  webIdentityUrl:\n    url: " + src.URL + "\n    headers: {Metadata: \"true\"}\n    format: {type: json, subjectTokenFieldName: access_token}\n", ""},
		"url no header":   {base + "  webIdentityUrl:\n    url: " + src.URL + "\n    format: {type: json, subjectTokenFieldName: access_token}\n", "status 403"},
		"executable":      {base + "  webIdentityExecutable: {command: " + good + "}\n", ""},
		"executable fail": {base + "  webIdentityExecutable: {command: " + bad + "}\n", "not in a pod"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := runAgentYAML(t, tc.yaml+"serve:\n  status: 127.0.0.1:0\n")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cr, err := a.Retrieve(ctx)
			if tc.wantErr == "" {
				if err != nil || !strings.HasPrefix(cr.AccessKeyID, "ASIA") {
					t.Fatalf("credentials %q, %v", cr.AccessKeyID, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
