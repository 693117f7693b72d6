package interop

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keylessdev/keyless/internal/testissuer"
)

// The AWS side of the cross-cloud federation (see awsFederationConfig). The account id
// differs from the Google project number on purpose, so that mixing the two up fails.
const (
	awsAccountID   = "444455556666"
	otherAccountID = "777788889999"      // trusts the same issuer; not trusted by the Google pool
	awsProvider    = "aws-provider"      // the Google pool's aws provider
	awsRole        = "ci-deployer"       // bound to deployerSA through attribute.aws_role
	awsReaderRole  = "ci-reader"         // trusted like ci-deployer, bound to nothing
	awsClientID    = "sts.amazonaws.com" // the audience AWS web identity tokens carry
	awsRegion      = "us-east-1"
	awsVerifyURL   = "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
	awsSubjectType = "urn:ietf:params:aws:token-type:aws4_request"
)

func awsRoleARN(role string) string { return "arn:aws:iam::" + awsAccountID + ":role/ci/" + role }

func awsAssumedRoleARN(role, session string) string {
	return "arn:aws:sts::" + awsAccountID + ":assumed-role/" + role + "/" + session
}

// otherRoleARN is ci-deployer of the other account.
func otherRoleARN() string { return "arn:aws:iam::" + otherAccountID + ":role/ci/" + awsRole }

// awsWorkload is a role session as the Google aws provider names it (google.subject is
// assertion.arn under Google's default AWS mapping).
func awsWorkload(role, session string) workload {
	return workload{provider: awsProvider, principal: principal(awsAssumedRoleARN(role, session))}
}

// awsFederation is a keyless server whose AWS account trusts a loopback OIDC issuer (keys
// discovered over TLS) and whose Google pool trusts that account's role sessions.
type awsFederation struct {
	*keyless
	issuer *testissuer.Issuer
}

func startAWSFederation(t *testing.T) *awsFederation {
	t.Helper()
	is, err := testissuer.Start(testissuer.Options{Alg: "RS256", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	caFile := filepath.Join(t.TempDir(), "issuer-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.Certificate()}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &awsFederation{keyless: startKeyless(t, awsFederationConfig(caFile, is)), issuer: is}
}

// awsFederationConfig is the YAML a user would write: an IAM OIDC provider for the
// issuer, two roles under /ci/ whose trust policy admits tokens of repo:acme/* except
// repo:acme/forbidden (an explicit Deny), and a Google aws provider for the account whose
// ci-deployer sessions may impersonate deployer. The trust policy is written once as a
// YAML mapping and once as a JSON string (both forms are accepted). A second account
// trusts the same issuer with a ci-deployer role of its own, which the pool does not trust.
func awsFederationConfig(caFile string, is *testissuer.Issuer) string {
	host := strings.TrimPrefix(is.URL, "https://")
	trustOf := func(account string) string {
		fed := `{"Federated":"arn:aws:iam::` + account + `:oidc-provider/` + host + `"}`
		return `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"AcmeRepos","Effect":"Allow","Principal":` + fed + `,"Action":"sts:AssumeRoleWithWebIdentity",` +
			`"Condition":{"StringEquals":{"` + host + `:aud":"` + awsClientID + `"},"StringLike":{"` + host + `:sub":"repo:acme/*"}}},` +
			`{"Sid":"NotForbidden","Effect":"Deny","Principal":` + fed + `,"Action":"sts:AssumeRoleWithWebIdentity",` +
			`"Condition":{"StringLike":{"` + host + `:sub":"repo:acme/forbidden:*"}}}]}`
	}
	trust := trustOf(awsAccountID)
	return fmt.Sprintf(`# keyless interop test: AWS web identity and the AWS → Google chain
server:
  allowPrivateIssuers: true   # the issuer listens on 127.0.0.1
  issuerCAFile: %[1]s
aws:
  accounts:
  - accountId: "%[2]s"
    openIDConnectProviders:
    - url: %[3]s
      clientIDList: [%[4]s]
    roles:
    - roleName: %[5]s
      path: /ci/
      maxSessionDuration: 7200
      assumeRolePolicyDocument: %[6]s
    - roleName: %[7]s
      path: /ci/
      assumeRolePolicyDocument: %[8]s
  - accountId: "%[14]s"
    openIDConnectProviders:
    - url: %[3]s
      clientIDList: [%[4]s]
    roles:
    - roleName: %[5]s
      path: /ci/
      assumeRolePolicyDocument: %[15]s
google:
  projects:
  - projectId: %[9]s
    projectNumber: "%[10]s"
    workloadIdentityPools:
    - workloadIdentityPoolId: %[11]s
      providers:
      - workloadIdentityPoolProviderId: %[12]s
        aws:
          accountId: "%[2]s"
    serviceAccounts:
    - accountId: deployer
      iamPolicy:
        bindings:
        - role: roles/iam.workloadIdentityUser
          members:
          - %[13]s
`, q(caFile), awsAccountID, q(is.URL), awsClientID, awsRole, trust, awsReaderRole, q(trust),
		projectID, projectNumber, poolID, awsProvider,
		q(principalSet()+"/attribute.aws_role/arn:aws:sts::"+awsAccountID+":assumed-role/"+awsRole),
		otherAccountID, trustOf(otherAccountID))
}

// webToken mints a GitHub-shaped web identity token for AWS: aud sts.amazonaws.com,
// sub repo:<owner>/<repo>:ref:refs/heads/main.
func (f *awsFederation) webToken(t *testing.T, owner, repo string) string {
	t.Helper()
	tok, err := f.issuer.Mint(map[string]any{
		"aud": awsClientID, "sub": "repo:" + owner + "/" + repo + ":ref:refs/heads/main",
		"repository": owner + "/" + repo, "repository_owner": owner,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// writeToken writes a web identity token file (as IRSA or a CI runner would).
func writeToken(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "web-identity-token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// awsCreds are role session credentials keyless issued.
type awsCreds struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// assume obtains credentials for a role of awsAccountID with aws-sdk-go-v2 (the test's
// own client; the external clients under test get theirs themselves).
func (f *awsFederation) assume(t *testing.T, role, session string) awsCreds {
	t.Helper()
	return f.assumeARN(t, awsRoleARN(role), awsAssumedRoleARN(role, session), session)
}

func (f *awsFederation) assumeARN(t *testing.T, roleARN, wantARN, session string) awsCreds {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := sts.New(sts.Options{Region: awsRegion, BaseEndpoint: aws.String(f.URL), RetryMaxAttempts: 1})
	out, err := c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session),
		WebIdentityToken: aws.String(f.webToken(t, "acme", "app")),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity %s: %v", roleARN, err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != wantARN {
		t.Fatalf("assumed role ARN %q, want %q", got, wantARN)
	}
	cr := out.Credentials
	return awsCreds{aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)}
}

// env is the AWS SDKs' environment form of the credentials.
func (c awsCreds) env(region string) []string {
	return []string{"AWS_REGION=" + region, "AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey, "AWS_SESSION_TOKEN=" + c.SessionToken}
}

// awsEnv is toolEnv without any ambient AWS configuration: no AWS_* variables from the
// caller, config and credentials files that do not exist, and IMDS off.
// Note for callers: botocore (awscli v1, boto3) reads the region from AWS_DEFAULT_REGION
// only; the SDKs for Go and JavaScript and the Google libraries read AWS_REGION first.
func awsEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range toolEnv(t) {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(strings.ToUpper(k), "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	dir := t.TempDir()
	env = append(env, "AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true")
	return append(env, extra...)
}

// awsDecisionRE finds the decision id keyless appends to every AWS error message.
var awsDecisionRE = regexp.MustCompile(`\(keyless decision ([A-Za-z0-9._~-]+)\)`)

// assertAWSDenied checks that text (a client's error) names the AWS error code and carries
// a decision id whose audit event is a denial failed at stage.
func (k *keyless) assertAWSDenied(t *testing.T, text, code, stage string) {
	t.Helper()
	if !strings.Contains(text, code) {
		t.Errorf("client error does not name %s: %s", code, text)
	}
	m := awsDecisionRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no \"(keyless decision ID)\" in the client's error: %s", text)
	}
	k.assertDenied(t, "(decision "+m[1]+")", stage)
}

// googleAWSConfig writes a credential configuration as `gcloud iam
// workload-identity-pools create-cred-config --aws` writes it, pointed at keyless and
// without metadata URLs: the clients take the region and keys from the environment.
func (k *keyless) googleAWSConfig(t *testing.T, impersonate string) string {
	t.Helper()
	cfg := fmt.Sprintf(`{
  "universe_domain": "googleapis.com",
  "type": "external_account",
  "audience": %s,
  "subject_token_type": %q,
  "token_url": %q,
  "credential_source": {
    "environment_id": "aws1",
    "regional_cred_verification_url": %q
  }`, q(stsAudience(awsProvider)), awsSubjectType, k.URL+"/v1/token", awsVerifyURL)
	if impersonate != "" {
		cfg += fmt.Sprintf(",\n  \"service_account_impersonation_url\": %q", impersonationURL(k.URL, impersonate))
	}
	path := filepath.Join(t.TempDir(), "aws-credential-config.json")
	if err := os.WriteFile(path, []byte(cfg+"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
