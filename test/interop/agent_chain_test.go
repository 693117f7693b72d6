package interop

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAgent runs `keyless agent` (the built binary) against `keyless serve` with the AWS
// federation: the agent assumes ci-deployer with a web identity token file, feeds those
// credentials to an aws credential source (aws4_request exchange at keyless) and
// impersonates deployer. Unmodified clients then take their credentials from the agent's
// endpoints and files. One server and one agent serve every subtest: the clients only
// read, and each checks the credential it got against keyless (JWKS, GetCallerIdentity).
func TestAgent(t *testing.T) {
	t.Parallel()
	f := startAWSFederation(t)
	c := startAgentChain(t, f, awsRole, "agent-chain")
	// After every client ran (parallel subtests end before the parent's cleanups).
	t.Cleanup(func() { c.assertLogClean(t) })

	// The Go clients are built once, concurrently with the first subtests.
	bins := buildClients(t, "gcemetago", "awssdkgo")

	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"gce/google-auth-library", func(t *testing.T) { testAgentNode(t, c) }},
		{"gce/python google-auth", func(t *testing.T) { testAgentPython(t, c) }},
		{"gce/go metadata and oauth2", func(t *testing.T) { testAgentGo(t, c, bins(t)["gcemetago"]) }},
		{"gce/gcloud", func(t *testing.T) { testAgentGcloud(t, c) }},
		{"file/google access token", func(t *testing.T) { testAgentGoogleTokenFile(t, c) }},
		{"container/aws-sdk-go-v2", func(t *testing.T) { testAgentGoSDKContainer(t, c, bins(t)["awssdkgo"]) }},
		{"imds/aws-sdk-go-v2", func(t *testing.T) { testAgentGoSDKIMDS(t, c, bins(t)["awssdkgo"]) }},
		{"container/wrong authorization token", func(t *testing.T) { testAgentContainerWrongToken(t, c, bins(t)["awssdkgo"]) }},
		{"container/awscli", func(t *testing.T) { testAgentAWSCLIContainer(t, c) }},
		{"container/boto3", func(t *testing.T) { testAgentBoto3Container(t, c) }},
		{"file/awscli credentials", func(t *testing.T) { testAgentAWSCredentialsFile(t, c) }},
		{"imds/google-auth-library aws source", func(t *testing.T) { testAgentGALOverIMDS(t, c) }},
		{"status", func(t *testing.T) { testAgentStatus(t, c) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

// TestAgentRoleNotBound runs the agent with ci-reader, a role keyless's AWS account trusts
// but the Google pool does not bind to deployer: the AWS endpoints serve its session,
// while the metadata server's token fails and keyless's audit names the authorize stage.
// Once the agent is stopped, clients fail instead of finding credentials elsewhere.
func TestAgentRoleNotBound(t *testing.T) {
	t.Parallel()
	nodeBin := requireNode(t)
	f := startAWSFederation(t)
	c := startAgentChain(t, f, awsReaderRole, "agent-reader")
	sdk := buildClients(t, "awssdkgo")(t)["awssdkgo"]

	res, err := runGoSDK(t, sdk, c.containerEnv(t))
	c.assertGoSDK(t, res, err, "CredentialsEndpointProvider")

	modules, err := filepath.Abs(filepath.Join("node", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), c.gceEnv(t, "NODE_PATH="+modules), nodeBin,
		testdataAgent(t, "google_auth_gce.js"), agentAudience)
	var out struct {
		Token string `json:"token"`
		Error string `json:"error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("node: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	if err == nil || out.Error == "" {
		t.Fatalf("google-auth-library got a token (%d bytes) for an unbound role session, want an error", len(out.Token))
	}
	// The workload sees the agent's fixed 403 text (SDKs do not retry a 403); the cause is
	// in the agent's log and the audit trail.
	if !strings.Contains(out.Error, "the keyless agent may not obtain an access token for service account "+deployerSA) {
		t.Errorf("google-auth-library's error does not carry the agent's message: %s", out.Error)
	}
	f.assertDenied(t, c.agentDecision(t), "authorize")

	if err := c.agent.stop(); err != nil {
		t.Errorf("keyless agent exited with %v after SIGTERM, want a clean exit", err)
	}
	res, err = runGoSDK(t, sdk, c.containerEnv(t))
	if err == nil || res.Error == "" || res.AccessKeyID != "" {
		t.Errorf("aws-sdk-go-v2 resolved %q with the agent stopped, want an error", res.AccessKeyID)
	}
}

// testAgentStatus reads the agent's /status: healthy, with both pipelines valid (polled:
// the first fetches may still be under way).
func testAgentStatus(t *testing.T, c *agentChain) {
	type status struct {
		Healthy   bool `json:"healthy"`
		Pipelines []struct {
			Pipeline string `json:"pipeline"`
			Valid    bool   `json:"valid"`
		} `json:"pipelines"`
	}
	var st status
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, body := httpGet(t, "http://"+c.agent.addr(t, "status")+"/status")
		st = status{}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/status: %d %v in %s", code, err, body)
		}
		valid := map[string]bool{}
		for _, p := range st.Pipelines {
			valid[p.Pipeline] = p.Valid
		}
		if code == 200 && st.Healthy && valid["aws-role"] && valid["google-access-token"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent /status %d: healthy %v, pipelines %+v; want 200, healthy, aws-role and google-access-token valid", code, st.Healthy, st.Pipelines)
		}
	}
}
