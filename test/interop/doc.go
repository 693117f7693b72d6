// Package interop proves keyless's Google and AWS dialects with unmodified real clients.
//
// The tests build the keyless binary once (TestMain), then each test starts its own
// `keyless serve` process on 127.0.0.1:0 with a fresh data directory and a federation
// of two loopback OIDC issuers: one whose keys keyless discovers over TLS (trusted through
// server.issuerCAFile), and one whose keys are pinned with oidc.jwksJson (its TLS
// certificate is deliberately not trusted, so only pinning can work).
//
// The clients are driven exactly as users drive them, from credential configuration
// files as gcloud writes them (testdata/credcfg) with the URLs pointed at the server:
//
//   - golang.org/x/oauth2/google external accounts (file, url and executable sources);
//   - github.com/coreos/go-oidc verifying ID tokens through keyless's own discovery;
//   - google-auth-library from npm (node/, pinned in package-lock.json);
//   - the gcloud CLI (`auth login --cred-file`, `auth print-access-token`);
//   - the Python google-auth vendored in the Cloud SDK;
//   - on the AWS side (aws_*_test.go): awscli and boto3 (AssumeRoleWithWebIdentity, explicit
//     and through the web-identity credential provider with AWS_ENDPOINT_URL_STS, then a
//     SigV4-signed GetCallerIdentity, and presigned URLs), @aws-sdk/client-sts with
//     @aws-sdk/credential-providers (node/aws-sts.js), and the three Google clients above
//     with an "aws" credential source fed keyless-issued AWS credentials (the aws4_request
//     exchange, then impersonation);
//   - keyless agent (agent_*_test.go): the chain web identity → AWS role at keyless →
//     aws4_request → service account, served to Node, Python and Go Google auth libraries
//     and gcloud through the GCE metadata server, to aws-sdk-go-v2, awscli and boto3
//     through IMDSv2, the container endpoint and the credentials file, and to
//     google-auth-library's AWS credential source reading the agent's IMDSv2.
//
// Every token a client obtains is verified against keyless's JWKS and checked for the
// subject it must name; every denial is looked up at /v1/decisions/{id} to check that
// the audit trace names the failed stage.
//
// Node, gcloud, Python, awscli and boto3 are external tools: when one is missing the test skips, unless
// KEYLESS_INTEROP_REQUIRED is set (CI), in which case it fails. Nothing leaves loopback.
package interop
