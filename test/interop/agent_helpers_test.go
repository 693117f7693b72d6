package interop

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// agentProc is a running `keyless agent` process.
type agentProc struct {
	addrs  map[string]string // endpoint name → 127.0.0.1:PORT, from the ready line
	stderr string            // path of its log
	stop   func() error      // SIGTERM, wait; the exit error (nil for a clean exit)
}

// agentReadyRE is the line `keyless agent` prints once every endpoint listens.
var agentReadyRE = regexp.MustCompile(`^keyless agent serving((?: [A-Za-z]+=127\.0\.0\.1:[0-9]+)+)$`)

// startAgent runs `keyless agent --config` with configYAML and returns once it printed its
// ready line. It is stopped (SIGTERM) when the test ends and must then exit cleanly; its
// log is printed if the test failed.
func startAgent(t *testing.T, configYAML string) *agentProc {
	t.Helper()
	dir := t.TempDir()
	cfgPath, stderrPath := filepath.Join(dir, "agent.yaml"), filepath.Join(dir, "agent-stderr.log")
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
	cmd := exec.Command(keylessBin, "agent", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = outW, errf
	// Nothing ambient: the agent reads only its configuration.
	cmd.Env = awsEnv(t)
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		t.Fatal(err)
	}
	outW.Close()
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	stopped := false
	stop := func() error {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Errorf("keyless agent did not stop within 10s of SIGTERM")
			}
		}
		return waitErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("keyless agent exited with %v after SIGTERM, want a clean exit", err)
		}
		if t.Failed() {
			logFile(t, "keyless agent stderr", stderrPath)
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
		m := agentReadyRE.FindStringSubmatch(line)
		if !ok || m == nil {
			<-done
			logFile(t, "keyless agent stderr", stderrPath)
			t.Fatalf("keyless agent printed %q, want \"keyless agent serving NAME=127.0.0.1:PORT ...\" (exit: %v)", line, waitErr)
		}
		a := &agentProc{addrs: map[string]string{}, stderr: stderrPath, stop: stop}
		for _, ep := range strings.Fields(m[1]) {
			name, addr, _ := strings.Cut(ep, "=")
			a.addrs[name] = addr
		}
		return a
	case <-done:
		logFile(t, "keyless agent stderr", stderrPath)
		t.Fatalf("keyless agent exited before serving: %v", waitErr)
	case <-time.After(30 * time.Second):
		t.Fatal("keyless agent did not print its ready line within 30s")
	}
	return nil
}

// addr returns an endpoint's address, failing if the agent did not report it.
func (a *agentProc) addr(t *testing.T, name string) string {
	t.Helper()
	addr, ok := a.addrs[name]
	if !ok {
		t.Fatalf("the agent's ready line names no %s endpoint (it named %v)", name, a.addrs)
	}
	return addr
}

// agentChain is a keyless server with the AWS federation and a `keyless agent` configured
// for the chain: a web identity token file → AssumeRoleWithWebIdentity at keyless → the
// agent's own AWS credentials feed an aws credential source (aws4_request exchange at
// keyless) → impersonation of deployer.
type agentChain struct {
	f         *awsFederation
	agent     *agentProc
	role      string // the assumed role's name
	session   string // the agent's role session name
	authFile  string // the container endpoint's authorization token file
	awsFile   string // files.awsCredentials
	tokenFile string // files.googleAccessToken
	webToken  string // aws.webIdentityTokenFile
}

// workload is the role session as the Google aws provider names it (act.sub of every
// service account token the agent serves).
func (c *agentChain) workload() workload { return awsWorkload(c.role, c.session) }

// startAgentChain starts an agent for role with session name session against f.
func startAgentChain(t *testing.T, f *awsFederation, role, session string) *agentChain {
	t.Helper()
	dir := t.TempDir()
	c := &agentChain{f: f, role: role, session: session, authFile: filepath.Join(dir, "container-auth-token"),
		awsFile: filepath.Join(dir, "aws-credentials"), tokenFile: filepath.Join(dir, "google-access-token")}
	if err := os.WriteFile(c.authFile, []byte("agent-container-token-"+session), 0o600); err != nil {
		t.Fatal(err)
	}
	c.webToken = writeToken(t, f.webToken(t, "acme", "app"))
	cfg := `# keyless agent interop test: the AWS → Google chain
google:
  credentialConfig: ` + q(f.googleAWSConfig(t, deployerSA)) + `
  projectId: ` + projectID + `
  projectNumber: "` + projectNumber + `"
aws:
  roleArn: ` + awsRoleARN(role) + `
  webIdentityTokenFile: ` + q(c.webToken) + `
  stsEndpoint: ` + f.URL + `
  region: ` + awsRegion + `
  roleSessionName: ` + session + `
serve:
  gceMetadata: 127.0.0.1:0
  imds: 127.0.0.1:0
  containerCredentials: 127.0.0.1:0
  containerAuthorizationTokenFile: ` + q(c.authFile) + `
  status: 127.0.0.1:0
files:
  awsCredentials: ` + q(c.awsFile) + `
  googleAccessToken: ` + q(c.tokenFile) + `
`
	c.agent = startAgent(t, cfg)
	return c
}

// assertLogClean fails if the agent's log holds any secret it handled: the web identity
// token, the container authorization token, the role session's secret key and session
// token, or the Google access token (the last two read from the files the agent wrote).
func (c *agentChain) assertLogClean(t *testing.T) {
	t.Helper()
	log, err := os.ReadFile(c.agent.stderr)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	for name, path := range map[string]string{"web identity token": c.webToken, "container authorization token": c.authFile,
		"google access token": c.tokenFile} {
		if b, err := os.ReadFile(path); err == nil {
			secrets[name] = strings.TrimSpace(string(b))
		}
	}
	if b, err := os.ReadFile(c.awsFile); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, " = "); ok && (k == "aws_secret_access_key" || k == "aws_session_token") {
				secrets[k] = v
			}
		}
	}
	if len(secrets) < 5 {
		t.Errorf("only %d of the 5 secrets could be read to check the agent's log", len(secrets))
	}
	for name, s := range secrets {
		if len(s) < 16 {
			t.Errorf("%s is too short (%d bytes) to check for", name, len(s))
		} else if strings.Contains(string(log), s) {
			t.Errorf("the agent's log contains the %s", name)
		}
	}
}

// gceEnv points every Google client at the agent's metadata server: Go, Python and Node
// read GCE_METADATA_HOST, Python probes GCE_METADATA_IP and Node prefers it, gcloud reads
// GCE_METADATA_ROOT. NO_GCE_CHECK (set by toolEnv) would stop Python's residency check.
func (c *agentChain) gceEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	addr := c.agent.addr(t, "gceMetadata")
	var env []string
	for _, kv := range toolEnv(t) {
		k, _, _ := strings.Cut(kv, "=")
		if uk := strings.ToUpper(k); strings.HasPrefix(uk, "GCE_METADATA") || uk == "NO_GCE_CHECK" || uk == "NODE_PATH" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GCE_METADATA_HOST="+addr, "GCE_METADATA_IP="+addr, "GCE_METADATA_ROOT="+addr)
	return append(env, extra...)
}

// containerEnv points AWS clients at the agent's container credentials endpoint with its
// authorization token file; IMDS stays disabled (awsEnv), so nothing else can answer.
func (c *agentChain) containerEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	env := awsEnv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://"+c.agent.addr(t, "containerCredentials")+"/v1/credentials",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="+c.authFile)
	return append(env, extra...)
}

// imdsEnv points AWS clients at the agent's IMDSv2 and nothing else.
func (c *agentChain) imdsEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range awsEnv(t) {
		if !strings.HasPrefix(kv, "AWS_EC2_METADATA_DISABLED=") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"+c.agent.addr(t, "imds"), "AWS_EC2_METADATA_V1_DISABLED=true")
	return append(env, extra...)
}

// callerIdentity calls GetCallerIdentity at keyless with the given credentials (the
// proof that credentials a client resolved are the agent's role session and sign).
func (c *agentChain) callerIdentity(t *testing.T, keyID, secret, session string) callerIdentity {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := sts.New(sts.Options{Region: "eu-west-1", BaseEndpoint: aws.String(c.f.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, session)})
	out, err := cl.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity at keyless with the client's credentials: %v", err)
	}
	return callerIdentity{Arn: aws.ToString(out.Arn), Account: aws.ToString(out.Account), UserID: aws.ToString(out.UserId)}
}

// waitFile waits until path exists and ok accepts its content.
func waitFile(t *testing.T, path string, ok func(string) bool) string {
	t.Helper()
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err == nil {
			last = string(b)
			if ok(last) {
				return last
			}
		}
	}
	t.Fatalf("%s did not get the expected content within 15s; last content %d bytes", path, len(last))
	return ""
}

// testdataAgent is the absolute path of a script in testdata/agent.
func testdataAgent(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "agent", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
