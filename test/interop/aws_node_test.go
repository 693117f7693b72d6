package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeAWSSDKVersion is @aws-sdk/client-sts and @aws-sdk/credential-providers as pinned
// in node/package-lock.json.
const nodeAWSSDKVersion = "3.1169.0"

// requireNodeAWS finds node and the npm-installed AWS SDK for JavaScript v3.
func requireNodeAWS(t *testing.T) string {
	t.Helper()
	nodeBin := requireNode(t)
	for _, pkg := range []string{"client-sts", "credential-providers"} {
		raw, err := os.ReadFile(filepath.Join("node", "node_modules", "@aws-sdk", pkg, "package.json"))
		requireTool(t, err == nil, "@aws-sdk/"+pkg+" is not installed (run `npm ci` in test/interop/node)")
		var meta struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil || meta.Version != nodeAWSSDKVersion {
			t.Fatalf("node_modules has @aws-sdk/%s %q, package-lock.json pins %s: run `npm ci` in test/interop/node", pkg, meta.Version, nodeAWSSDKVersion)
		}
	}
	return nodeBin
}

// nodeAWSResult is node/aws-sts.js's output.
type nodeAWSResult struct {
	Credentials struct {
		AccessKeyID     string    `json:"accessKeyId"`
		SecretLength    int       `json:"secretLength"`
		HasSessionToken bool      `json:"hasSessionToken"`
		Expiration      time.Time `json:"expiration"`
		AccountID       string    `json:"accountId"`
	} `json:"credentials"`
	Identity callerIdentity `json:"identity"`
	Error    string         `json:"error"`
	Name     string         `json:"name"`
}

func nodeAWS(t *testing.T, nodeBin string, env []string, args ...string) nodeAWSResult {
	t.Helper()
	stdout, stderr, err := runTool(t, 60*time.Second, "node", env, nodeBin, append([]string{"aws-sts.js"}, args...)...)
	var out nodeAWSResult
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("node: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	if (err == nil) != (out.Error == "") {
		t.Fatalf("node exit %v with output %s (stderr %s)", err, stdout, stderr)
	}
	return out
}

func TestAWSNodeSDK(t *testing.T) {
	t.Parallel()
	nodeBin := requireNodeAWS(t)
	f := startAWSFederation(t)

	check := func(t *testing.T, out nodeAWSResult, session string, lifetime time.Duration, start time.Time) {
		t.Helper()
		if out.Error != "" {
			t.Fatalf("aws-sdk-js: %s: %s", out.Name, out.Error)
		}
		c := out.Credentials
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") || c.SecretLength != 40 || !c.HasSessionToken {
			t.Errorf("credentials %+v", c)
		}
		if c.AccountID != awsAccountID {
			t.Errorf("the SDK read account %q from the assumed-role ARN, want %s", c.AccountID, awsAccountID)
		}
		if d := c.Expiration.Sub(start); d < lifetime-time.Minute || d > lifetime+time.Minute {
			t.Errorf("expires in %s, want %s", d, lifetime)
		}
		assertCallerIdentity(t, out.Identity, awsRole, session)
	}

	t.Run("fromTokenFile via the environment", func(t *testing.T) {
		t.Parallel()
		env := awsEnv(t, "AWS_REGION="+awsRegion, "AWS_ENDPOINT_URL_STS="+f.URL,
			"AWS_WEB_IDENTITY_TOKEN_FILE="+writeToken(t, f.webToken(t, "acme", "app")),
			"AWS_ROLE_ARN="+awsRoleARN(awsRole), "AWS_ROLE_SESSION_NAME=js-env")
		start := time.Now()
		check(t, nodeAWS(t, nodeBin, env, "token-file", f.URL), "js-env", time.Hour, start)
	})

	t.Run("fromWebToken with a client config", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		out := nodeAWS(t, nodeBin, awsEnv(t, "AWS_REGION=ap-southeast-2"), "web-token", f.URL,
			awsRoleARN(awsRole), "js-direct", writeToken(t, f.webToken(t, "acme", "app")), "900")
		check(t, out, "js-direct", 15*time.Minute, start)
	})

	t.Run("trust policy denies", func(t *testing.T) {
		t.Parallel()
		out := nodeAWS(t, nodeBin, awsEnv(t, "AWS_REGION="+awsRegion), "web-token", f.URL,
			awsRoleARN(awsRole), "js-denied", writeToken(t, f.webToken(t, "acme", "forbidden")), "900")
		if out.Error == "" {
			t.Fatalf("aws-sdk-js got an identity: %+v", out.Identity)
		}
		if out.Name != "AccessDenied" {
			t.Errorf("error name %q, want AccessDenied", out.Name)
		}
		f.assertAWSDenied(t, out.Name+": "+out.Error, "AccessDenied", "trust_policy")
	})
}

// nodeGoogleToken runs node/gettoken.js (google-auth-library) on a credential
// configuration with extra environment (the AWS keys and region of the aws source).
func nodeGoogleToken(t *testing.T, nodeBin, cfgPath string, env []string) (token, errText string) {
	t.Helper()
	stdout, stderr, err := runTool(t, 60*time.Second, "node", env, nodeBin, "gettoken.js", "keyFile", cfgPath)
	var out struct {
		Token string `json:"token"`
		Error string `json:"error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("node: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	if (err == nil) != (out.Error == "") {
		t.Fatalf("node exit %v with output %s (stderr %s)", err, stdout, stderr)
	}
	return out.Token, out.Error
}

// google-auth-library's aws credential source, fed role session credentials keyless
// issued: it signs GetCallerIdentity for sts.<region>.amazonaws.com and exchanges the
// serialized request at /v1/token.
func TestAWSNodeGoogleAuthLibrary(t *testing.T) {
	t.Parallel()
	nodeBin := requireNode(t)
	f := startAWSFederation(t)

	t.Run("impersonate", func(t *testing.T) {
		t.Parallel()
		creds := f.assume(t, awsRole, "gal-chain")
		tok, errText := nodeGoogleToken(t, nodeBin, f.googleAWSConfig(t, deployerSA), awsEnv(t, creds.env(awsRegion)...))
		if errText != "" {
			t.Fatalf("google-auth-library: %s", errText)
		}
		f.assertServiceAccount(t, tok, deployerSA, awsWorkload(awsRole, "gal-chain"), time.Hour)
	})

	t.Run("federated", func(t *testing.T) {
		t.Parallel()
		creds := f.assume(t, awsReaderRole, "gal-fed")
		tok, errText := nodeGoogleToken(t, nodeBin, f.googleAWSConfig(t, ""), awsEnv(t, creds.env("eu-central-1")...))
		if errText != "" {
			t.Fatalf("google-auth-library: %s", errText)
		}
		f.assertFederated(t, tok, awsWorkload(awsReaderRole, "gal-fed"))
	})

	// ci-reader's sessions federate, but only ci-deployer's role is bound to deployer.
	t.Run("other role not bound", func(t *testing.T) {
		t.Parallel()
		creds := f.assume(t, awsReaderRole, "gal-reader")
		tok, errText := nodeGoogleToken(t, nodeBin, f.googleAWSConfig(t, deployerSA), awsEnv(t, creds.env(awsRegion)...))
		if errText == "" {
			t.Fatalf("got a token (%d bytes), want an error", len(tok))
		}
		// google-auth-library reports the message only, not the status.
		if !strings.Contains(errText, "iam.serviceAccounts.getAccessToken") {
			t.Errorf("error lacks the permission: %s", errText)
		}
		f.assertDenied(t, errText, "authorize")
	})
}
