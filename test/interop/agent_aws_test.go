package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goSDKResult is test/clients/awssdkgo's output (aws-sdk-go-v2's default chain).
type goSDKResult struct {
	AccessKeyID, SecretAccessKey, SessionToken, Source, AccountID, Region, Error string
	CanExpire                                                                    bool
	Expires                                                                      time.Time
}

func runGoSDK(t *testing.T, bin string, env []string, args ...string) (goSDKResult, error) {
	t.Helper()
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), env, bin, args...)
	var res goSDKResult
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &res); jerr != nil {
		t.Fatalf("awssdkgo: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	return res, err
}

// assertGoSDK checks credentials aws-sdk-go-v2 resolved from one of the agent's endpoints
// (source is the SDK's provider name), then signs GetCallerIdentity at keyless with them.
func (c *agentChain) assertGoSDK(t *testing.T, res goSDKResult, err error, source string) {
	t.Helper()
	if err != nil || res.Error != "" {
		t.Fatalf("aws-sdk-go-v2's default chain failed (%v): %s", err, res.Error)
	}
	if res.Source != source {
		t.Errorf("credentials came from %q, want %q", res.Source, source)
	}
	if !strings.HasPrefix(res.AccessKeyID, "ASIA") || len(res.SecretAccessKey) != 40 || res.SessionToken == "" {
		t.Errorf("credentials %q with a %d-char secret and %d-char session token, want a keyless role session",
			res.AccessKeyID, len(res.SecretAccessKey), len(res.SessionToken))
	}
	if d := time.Until(res.Expires); !res.CanExpire || d < 50*time.Minute || d > time.Hour {
		t.Errorf("CanExpire %v, expires in %s: want the role session's hour", res.CanExpire, d)
	}
	assertCallerIdentity(t, c.callerIdentity(t, res.AccessKeyID, res.SecretAccessKey, res.SessionToken), c.role, c.session)
}

// testAgentGoSDKContainer: aws-sdk-go-v2 through AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity's variables).
func testAgentGoSDKContainer(t *testing.T, c *agentChain, bin string) {
	res, err := runGoSDK(t, bin, c.containerEnv(t))
	c.assertGoSDK(t, res, err, "CredentialsEndpointProvider")
	if res.AccountID != awsAccountID {
		t.Errorf("account id %q from the container endpoint, want %s", res.AccountID, awsAccountID)
	}
}

// testAgentContainerWrongToken: the container endpoint refuses a workload whose token file
// holds another token, and the SDK reports the agent's AccessDenied.
func testAgentContainerWrongToken(t *testing.T, c *agentChain, bin string) {
	wrong := filepath.Join(t.TempDir(), "wrong-token")
	if err := os.WriteFile(wrong, []byte("agent-container-token-someone-else"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := runGoSDK(t, bin, c.containerEnv(t, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="+wrong))
	if err == nil || res.AccessKeyID != "" {
		t.Fatalf("aws-sdk-go-v2 resolved %q with a wrong authorization token, want an error", res.AccessKeyID)
	}
	if !strings.Contains(res.Error, "AccessDenied") {
		t.Errorf("the SDK's error does not carry the agent's AccessDenied: %s", res.Error)
	}
}

// testAgentGoSDKIMDS: aws-sdk-go-v2 through AWS_EC2_METADATA_SERVICE_ENDPOINT (IMDSv2, v1
// disabled), the region read from the identity document.
func testAgentGoSDKIMDS(t *testing.T, c *agentChain, bin string) {
	res, err := runGoSDK(t, bin, c.imdsEnv(t), "-imds-region")
	c.assertGoSDK(t, res, err, "EC2RoleProvider")
	if res.Region != awsRegion {
		t.Errorf("region %q from IMDS, want the agent's %s", res.Region, awsRegion)
	}
}

// testAgentAWSCLIContainer: `aws sts get-caller-identity` at keyless, signed with the
// credentials the CLI fetched from the agent's container endpoint.
func testAgentAWSCLIContainer(t *testing.T, c *agentChain) {
	bin, err := exec.LookPath("aws")
	requireTool(t, err == nil, "the aws CLI is not on PATH")
	env := c.containerEnv(t, "AWS_DEFAULT_REGION="+awsRegion, "AWS_ENDPOINT_URL_STS="+c.f.URL)
	stdout, stderr, err := awsCLI(t, bin, env, "sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity with the agent's container credentials: %v\n%s", err, stderr)
	}
	var id callerIdentity
	if err := json.Unmarshal([]byte(stdout), &id); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	assertCallerIdentity(t, id, c.role, c.session)
}

// testAgentBoto3Container: boto3's default chain picks the container provider, then calls
// GetCallerIdentity at keyless.
func testAgentBoto3Container(t *testing.T, c *agentChain) {
	python, err := exec.LookPath("python3")
	requireTool(t, err == nil, "python3 (for boto3) is not on PATH")
	env := c.containerEnv(t, "AWS_DEFAULT_REGION="+awsRegion, "AWS_ENDPOINT_URL_STS="+c.f.URL, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), env, python, testdataAgent(t, "boto3_container.py"))
	var out struct {
		Method      string         `json:"method"`
		AccessKey   string         `json:"access_key"`
		Identity    callerIdentity `json:"identity"`
		Error       string         `json:"error"`
		ImportError string         `json:"import_error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("python: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	requireTool(t, out.ImportError == "", "boto3 does not import: "+out.ImportError)
	if err != nil || out.Error != "" {
		t.Fatalf("boto3 with the agent's container endpoint failed (%v): %s\nstderr: %s", err, out.Error, stderr)
	}
	if out.Method != "container-role" {
		t.Errorf("boto3 credential method %q, want container-role", out.Method)
	}
	if !strings.HasPrefix(out.AccessKey, "ASIA") {
		t.Errorf("access key %q, want a role session's ASIA key", out.AccessKey)
	}
	assertCallerIdentity(t, out.Identity, c.role, c.session)
}

// testAgentAWSCredentialsFile: files.awsCredentials used by awscli through
// AWS_SHARED_CREDENTIALS_FILE, nothing else configured.
func testAgentAWSCredentialsFile(t *testing.T, c *agentChain) {
	bin, err := exec.LookPath("aws")
	requireTool(t, err == nil, "the aws CLI is not on PATH")
	waitFile(t, c.awsFile, func(s string) bool { return strings.Contains(s, "aws_session_token = ") })
	assertMode0600(t, c.awsFile)
	env := awsEnv(t, "AWS_SHARED_CREDENTIALS_FILE="+c.awsFile, "AWS_DEFAULT_REGION="+awsRegion, "AWS_ENDPOINT_URL_STS="+c.f.URL)
	stdout, stderr, err := awsCLI(t, bin, env, "sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity with the agent's credentials file: %v\n%s", err, stderr)
	}
	var id callerIdentity
	if err := json.Unmarshal([]byte(stdout), &id); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	assertCallerIdentity(t, id, c.role, c.session)
}

// testAgentGALOverIMDS: google-auth-library's aws credential source with metadata URLs
// at the agent's IMDSv2 and no AWS variables: it reads the region, role and keys from
// the agent, signs GetCallerIdentity, exchanges it at keyless and impersonates deployer.
func testAgentGALOverIMDS(t *testing.T, c *agentChain) {
	nodeBin := requireNode(t)
	imds := "http://" + c.agent.addr(t, "imds")
	cfg := map[string]any{
		"universe_domain": "googleapis.com", "type": "external_account",
		"audience": stsAudience(awsProvider), "subject_token_type": awsSubjectType,
		"token_url": c.f.URL + "/v1/token", "service_account_impersonation_url": impersonationURL(c.f.URL, deployerSA),
		"credential_source": map[string]any{
			"environment_id":                 "aws1",
			"region_url":                     imds + "/latest/meta-data/placement/availability-zone",
			"url":                            imds + "/latest/meta-data/iam/security-credentials",
			"imdsv2_session_token_url":       imds + "/latest/api/token",
			"regional_cred_verification_url": awsVerifyURL,
		},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "aws-imds-credential-config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range toolEnv(t) {
		if !strings.HasPrefix(strings.ToUpper(kv), "AWS_") {
			env = append(env, kv)
		}
	}
	tok, errText := nodeGoogleToken(t, nodeBin, path, env)
	if errText != "" {
		t.Fatalf("google-auth-library with the agent's IMDSv2 as its aws source: %s", errText)
	}
	c.f.assertServiceAccount(t, tok, deployerSA, c.workload(), time.Hour)
}

func assertMode0600(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
}

// agentDecision finds the last keyless decision id in the agent's log (the agent logs a
// failed refresh with the server's error, which carries it).
func (c *agentChain) agentDecision(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(c.agent.stderr)
	if err != nil {
		t.Fatal(err)
	}
	m := decisionRE.FindAllStringSubmatch(string(b), -1)
	if m == nil {
		t.Fatalf("the agent logged no keyless decision id:\n%s", b)
	}
	return fmt.Sprintf("(decision %s)", m[len(m)-1][1])
}
