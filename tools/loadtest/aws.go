package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/keylessdev/keyless/internal/keylesstest"
)

// The AWS side of the load test: sts:AssumeRoleWithWebIdentity bodies as aws-sdk-go-v2
// sends them, and Google's serialized GetCallerIdentity (aws4_request) subject tokens
// as golang.org/x/oauth2/google/externalaccount builds them.
const (
	// gciURL is what externalaccount signs for region us-east-1: params in the query,
	// empty body, never sent to AWS.
	gciURL            = "https://sts.us-east-1.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
	gciRegion         = "us-east-1"
	aws4TokenType     = "urn:ietf:params:aws:token-type:aws4_request"
	maxAWSCredentials = 8
	// signSpread bounds how far back the pool's x-amz-date values go: with runs of at
	// most maxDuration the oldest is still well inside SigV4's 15-minute window.
	signSpread = 4 * time.Minute
)

// emptySHA256 is the SigV4 payload hash of an empty body.
var emptySHA256 = hex.EncodeToString(func() []byte { h := sha256.Sum256(nil); return h[:] }())

// awsClaims is a web identity token for the test role: githubClaims with aud
// sts.amazonaws.com.
func awsClaims(i int) map[string]any {
	c := githubClaims(i)
	c["aud"] = keylesstest.AWSClientID
	return c
}

// assumeRoleBody is the form aws-sdk-go-v2 posts for AssumeRoleWithWebIdentity (keys
// sorted, no DurationSeconds: the web identity provider leaves it out by default).
func assumeRoleBody(token string, i int) []byte {
	return []byte(url.Values{
		"Action":           {"AssumeRoleWithWebIdentity"},
		"RoleArn":          {keylesstest.AWSRoleARN()},
		"RoleSessionName":  {"loadtest-" + strconv.Itoa(i)},
		"Version":          {"2011-06-15"},
		"WebIdentityToken": {token},
	}.Encode())
}

// awsCreds are keyless-issued AWS session credentials.
type awsCreds struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
}

// parseAssumeRole reads the credentials of an AssumeRoleWithWebIdentity answer.
func parseAssumeRole(b []byte) (awsCreds, error) {
	var doc struct {
		XMLName xml.Name `xml:"AssumeRoleWithWebIdentityResponse"`
		Result  struct {
			Credentials awsCreds `xml:"Credentials"`
		} `xml:"AssumeRoleWithWebIdentityResult"`
	}
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		return awsCreds{}, fmt.Errorf("AssumeRoleWithWebIdentity answer: %w", err)
	}
	c := doc.Result.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		return awsCreds{}, errors.New("AssumeRoleWithWebIdentity answer lacks credentials")
	}
	return c, nil
}

// extractSessionToken is the assume-role plan's "minted token".
func extractSessionToken(b []byte) (string, error) {
	c, err := parseAssumeRole(b)
	return c.SessionToken, err
}

// signGCI signs GetCallerIdentity with c at the given time, bound to audience, and
// serializes it as an aws4_request subject token: the query-escaped JSON
// {url, method, headers[{key, value}]} with the headers sorted by key. It also returns
// the signed request (for the SigV4 floor).
func signGCI(ctx context.Context, s *v4.Signer, c awsCreds, audience string, at time.Time) (string, *http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gciURL, nil)
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("X-Goog-Cloud-Target-Resource", audience)
	ac := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	if err := s.SignHTTP(ctx, ac, req, emptySHA256, "sts", gciRegion, at); err != nil {
		return "", nil, err
	}
	type field struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	doc := struct {
		URL     string  `json:"url"`
		Method  string  `json:"method"`
		Headers []field `json:"headers"`
	}{URL: gciURL, Method: http.MethodPost, Headers: []field{
		{"Authorization", req.Header.Get("Authorization")},
		{"Host", req.URL.Host},
		{"X-Amz-Date", req.Header.Get("X-Amz-Date")},
		{"X-Amz-Security-Token", req.Header.Get("X-Amz-Security-Token")},
		{"X-Goog-Cloud-Target-Resource", audience},
	}}
	j, err := json.Marshal(doc)
	if err != nil {
		return "", nil, err
	}
	return url.QueryEscape(string(j)), req, nil
}

// aws4Body is the token-exchange form externalaccount posts with an AWS subject token.
func aws4Body(subjectToken string) []byte {
	v := keylesstest.STSForm(subjectToken)
	v.Set("audience", keylesstest.AWSAudience())
	v.Set("subject_token_type", aws4TokenType)
	return []byte(v.Encode())
}

// aws4Pool signs n subject tokens with creds (round robin), x-amz-date spread over the
// last signSpread so that the bodies are distinct. The first request is returned for
// the floor.
func aws4Pool(ctx context.Context, creds []awsCreds, n int, now time.Time) ([][]byte, *http.Request, error) {
	if len(creds) == 0 {
		return nil, nil, errors.New("no AWS credentials to sign with")
	}
	s := v4.NewSigner()
	var first *http.Request
	bodies := make([][]byte, 0, n)
	steps := int(signSpread / time.Second)
	for i := range n {
		at := now.Add(-time.Duration((i/len(creds))%steps) * time.Second)
		tok, req, err := signGCI(ctx, s, creds[i%len(creds)], keylesstest.AWSAudience(), at)
		if err != nil {
			return nil, nil, fmt.Errorf("sign GetCallerIdentity: %w", err)
		}
		if first == nil {
			first = req
		}
		bodies = append(bodies, aws4Body(tok))
	}
	return bodies, first, nil
}
