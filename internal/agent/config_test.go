package agent

import (
	"strings"
	"testing"
)

func TestConfigProblems(t *testing.T) {
	t.Parallel()
	valid := `
google:
  credentialConfig: /etc/keyless/gcp.json
  projectId: acme-prod
  projectNumber: "481516234200"
aws:
  roleArn: arn:aws:iam::210987654321:role/s3-writer
  webIdentityTokenFile: /var/run/secrets/aws/token
  stsEndpoint: https://keyless.internal
  region: us-east-1
  roleSessionName: checkout
serve:
  gceMetadata: 127.0.0.1:8181
  imds: 127.0.0.1:8182
  containerCredentials: 127.0.0.1:8183
  containerAuthorizationTokenFile: /var/run/keyless/ecs-token
`
	if _, err := ParseConfig([]byte(valid), "agent.yaml"); err != nil {
		t.Fatalf("the issue's example config: %v", err)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"typo":                       {"google:\n  credentialConfg: x\n", `agent.yaml:2`},
		"no pipeline":                {"serve: {}\n", "at least one pipeline"},
		"not loopback":               {strings.Replace(valid, "127.0.0.1:8181", "0.0.0.0:8181", 1), "not a loopback address"},
		"bad role":                   {strings.Replace(valid, "arn:aws:iam::210987654321:role/s3-writer", "s3-writer", 1), "not an IAM role ARN"},
		"http sts":                   {strings.Replace(valid, "https://keyless.internal", "http://keyless.internal", 1), "must be https"},
		"session name":               {strings.Replace(valid, "roleSessionName: checkout", "roleSessionName: a b", 1), "roleSessionName"},
		"container token":            {strings.Replace(valid, "  containerAuthorizationTokenFile: /var/run/keyless/ecs-token\n", "", 1), "containerAuthorizationTokenFile"},
		"imds without aws":           {"google:\n  credentialConfig: x\nserve:\n  imds: 127.0.0.1:1\n", "need the aws pipeline"},
		"duration":                   {strings.Replace(valid, "region: us-east-1", "region: us-east-1\n  durationSeconds: 60", 1), "outside 900..43200"},
		"project number":             {strings.Replace(valid, `"481516234200"`, `"acme"`, 1), "not a project number"},
		"relative executable":        {strings.Replace(valid, "  webIdentityTokenFile: /var/run/secrets/aws/token\n", "  webIdentityExecutable: {command: get-token --aws}\n", 1), "absolute program path"},
		"json without field":         {strings.Replace(valid, "  webIdentityTokenFile: /var/run/secrets/aws/token\n", "  webIdentityUrl: {url: \"http://127.0.0.1:9/t\", format: {type: json}}\n", 1), "subjectTokenFieldName"},
		"two identities":             {strings.Replace(valid, "  region: us-east-1", "  region: us-east-1\n  webIdentityFromGoogle: {audience: sts.amazonaws.com}", 1), "not both"},
		"no identity":                {strings.Replace(valid, "  webIdentityTokenFile: /var/run/secrets/aws/token\n", "", 1), "webIdentityTokenFile"},
		"from google without google": {"aws:\n  roleArn: arn:aws:iam::1:role/r\n  webIdentityFromGoogle: {audience: a}\n  region: r\n", "needs the google pipeline"},
		"from google without audience": {strings.Replace(strings.Replace(valid, "  webIdentityTokenFile: /var/run/secrets/aws/token\n", "", 1),
			"  region: us-east-1", "  region: us-east-1\n  webIdentityFromGoogle: {}", 1), "audience"},
	} {
		_, err := ParseConfig([]byte(tc.yaml), "agent.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestImpersonatedEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken": "sa@p.iam.gserviceaccount.com",
		"http://127.0.0.1:8080/v1/projects/-/serviceAccounts/sa%40p.iam.gserviceaccount.com:generateAccessToken":               "sa@p.iam.gserviceaccount.com",
		"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateIdToken":     "",
		"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/:generateAccessToken":                             "",
	} {
		got, err := impersonatedEmail(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
}
