package main

import (
	"strings"
	"testing"
)

// FuzzParseAssumeRole: no input panics, and an accepted answer has all three
// credential parts.
func FuzzParseAssumeRole(f *testing.F) {
	f.Add(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
		`<Credentials><AccessKeyId>ASIAAAAAAAAAAAAAAAAA</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>` +
		`</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`)
	f.Add(`<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>`)
	f.Add(`<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseAssumeRole([]byte(s))
		if err == nil && (c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "") {
			t.Fatalf("accepted incomplete credentials %+v", c)
		}
	})
}

// FuzzParseSigV4Auth: no input panics, and an accepted header has a credential scope,
// signed headers and a 32-byte signature.
func FuzzParseSigV4Auth(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=ASIAAAAAAAAAAAAAAAAA/20261123/us-east-1/sts/aws4_request, " +
		"SignedHeaders=host;x-amz-date;x-amz-security-token;x-goog-cloud-target-resource, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseSigV4Auth(h)
		if err == nil && (a.akid == "" || len(a.signedHeaders) == 0 || len(a.signature) != 32) {
			t.Fatalf("accepted incomplete authorization %+v", a)
		}
	})
}
