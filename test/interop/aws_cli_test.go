package interop

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// callerIdentity is GetCallerIdentity's result as every client prints it.
type callerIdentity struct {
	Arn     string `json:"Arn"`
	Account string `json:"Account"`
	UserID  string `json:"UserId"`
}

// assertCallerIdentity checks a role session's identity: the assumed-role ARN, the
// account, and the UserId <RoleId>:<session> with an AROA role id.
func assertCallerIdentity(t *testing.T, got callerIdentity, role, session string) {
	t.Helper()
	if got.Arn != awsAssumedRoleARN(role, session) {
		t.Errorf("Arn %q, want %q", got.Arn, awsAssumedRoleARN(role, session))
	}
	if got.Account != awsAccountID {
		t.Errorf("Account %q, want %q", got.Account, awsAccountID)
	}
	if roleID, s, ok := strings.Cut(got.UserID, ":"); !ok || !strings.HasPrefix(roleID, "AROA") || s != session {
		t.Errorf("UserId %q, want AROA…:%s", got.UserID, session)
	}
}

// awsCLI runs the aws command line with a deadline.
func awsCLI(t *testing.T, bin string, env []string, args ...string) (string, string, error) {
	t.Helper()
	return runTool(t, 60*time.Second, t.TempDir(), env, bin, append(args, "--output", "json")...)
}

func TestAWSCLI(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("aws")
	requireTool(t, err == nil, "the aws CLI is not on PATH")
	f := startAWSFederation(t)

	// The explicit call (no region needed: it is unsigned), then GetCallerIdentity signed
	// with the credentials it printed.
	t.Run("assume-role-with-web-identity", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		stdout, stderr, err := awsCLI(t, bin, awsEnv(t), "sts", "assume-role-with-web-identity",
			"--endpoint-url", f.URL, "--role-arn", awsRoleARN(awsRole), "--role-session-name", "cli-explicit",
			"--web-identity-token", f.webToken(t, "acme", "app"), "--duration-seconds", "7200")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var out struct {
			Credentials struct {
				AccessKeyID     string    `json:"AccessKeyId"`
				SecretAccessKey string    `json:"SecretAccessKey"`
				SessionToken    string    `json:"SessionToken"`
				Expiration      time.Time `json:"Expiration"`
			}
			AssumedRoleUser struct {
				Arn           string `json:"Arn"`
				AssumedRoleID string `json:"AssumedRoleId"`
			}
			SubjectFromWebIdentityToken, Audience, Provider string
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("%v in %s", err, stdout)
		}
		c := out.Credentials
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") || len(c.AccessKeyID) != 20 || len(c.SecretAccessKey) != 40 || c.SessionToken == "" {
			t.Errorf("credentials %q, %d-char secret, %d-char session token", c.AccessKeyID, len(c.SecretAccessKey), len(c.SessionToken))
		}
		if d := c.Expiration.Sub(start); d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
			t.Errorf("expires in %s, want the 2h asked for", d)
		}
		if out.AssumedRoleUser.Arn != awsAssumedRoleARN(awsRole, "cli-explicit") ||
			!strings.HasPrefix(out.AssumedRoleUser.AssumedRoleID, "AROA") || !strings.HasSuffix(out.AssumedRoleUser.AssumedRoleID, ":cli-explicit") {
			t.Errorf("AssumedRoleUser %+v", out.AssumedRoleUser)
		}
		if out.SubjectFromWebIdentityToken != "repo:acme/app:ref:refs/heads/main" || out.Audience != awsClientID {
			t.Errorf("subject %q, audience %q", out.SubjectFromWebIdentityToken, out.Audience)
		}

		creds := awsCreds{c.AccessKeyID, c.SecretAccessKey, c.SessionToken}
		stdout, stderr, err = awsCLI(t, bin, awsEnv(t, append(creds.env("eu-west-1"), "AWS_DEFAULT_REGION=eu-west-1", "AWS_ENDPOINT_URL_STS="+f.URL)...),
			"sts", "get-caller-identity")
		if err != nil {
			t.Fatalf("aws sts get-caller-identity: %v\n%s", err, stderr)
		}
		var id callerIdentity
		if err := json.Unmarshal([]byte(stdout), &id); err != nil {
			t.Fatalf("%v in %s", err, stdout)
		}
		assertCallerIdentity(t, id, awsRole, "cli-explicit")
	})

	// The web identity credential provider (what IRSA and CI runners configure): the CLI
	// assumes the role itself, through AWS_ENDPOINT_URL_STS, before signing.
	t.Run("credential provider", func(t *testing.T) {
		t.Parallel()
		env := awsEnv(t, "AWS_DEFAULT_REGION="+awsRegion, "AWS_ENDPOINT_URL_STS="+f.URL,
			"AWS_WEB_IDENTITY_TOKEN_FILE="+writeToken(t, f.webToken(t, "acme", "app")),
			"AWS_ROLE_ARN="+awsRoleARN(awsRole), "AWS_ROLE_SESSION_NAME=cli-env")
		stdout, stderr, err := awsCLI(t, bin, env, "sts", "get-caller-identity")
		if err != nil {
			t.Fatalf("aws sts get-caller-identity: %v\n%s", err, stderr)
		}
		var id callerIdentity
		if err := json.Unmarshal([]byte(stdout), &id); err != nil {
			t.Fatalf("%v in %s", err, stdout)
		}
		assertCallerIdentity(t, id, awsRole, "cli-env")
	})

	t.Run("explicit deny", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := awsCLI(t, bin, awsEnv(t), "sts", "assume-role-with-web-identity",
			"--endpoint-url", f.URL, "--role-arn", awsRoleARN(awsRole), "--role-session-name", "cli-denied",
			"--web-identity-token", f.webToken(t, "acme", "forbidden"))
		if err == nil {
			t.Fatalf("aws succeeded: %s", stdout)
		}
		f.assertAWSDenied(t, stderr, "AccessDenied", "trust_policy")
	})

	t.Run("credential provider denied", func(t *testing.T) {
		t.Parallel()
		env := awsEnv(t, "AWS_DEFAULT_REGION="+awsRegion, "AWS_ENDPOINT_URL_STS="+f.URL,
			"AWS_WEB_IDENTITY_TOKEN_FILE="+writeToken(t, f.webToken(t, "evil", "app")),
			"AWS_ROLE_ARN="+awsRoleARN(awsRole), "AWS_ROLE_SESSION_NAME=cli-env")
		stdout, stderr, err := awsCLI(t, bin, env, "sts", "get-caller-identity")
		if err == nil {
			t.Fatalf("aws succeeded: %s", stdout)
		}
		f.assertAWSDenied(t, stderr, "AccessDenied", "trust_policy")
	})
}
