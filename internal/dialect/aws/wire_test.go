package aws

import (
	"encoding/xml"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	formCT        = "application/x-www-form-urlencoded"
	formCTCharset = "application/x-www-form-urlencoded; charset=utf-8"
	elidedJWT     = "eyJhbGciOiAiUlMyNTYiLCA...<jwt elided>"
	roleArn       = "arn:aws:iam::123456789012:role/keyless-role"
	readOnlyArn   = "arn:aws:iam::aws:policy/ReadOnlyAccess"
)

// TestParseTranscripts parses every STS request body captured from real
// clients (shared/reference/aws-azure-transcripts) with the Content-Type each
// client sent.
func TestParseTranscripts(t *testing.T) {
	t.Parallel()
	arwwi := func(session string, mod func(*AssumeRoleWithWebIdentityParams)) *AssumeRoleWithWebIdentityParams {
		p := AssumeRoleWithWebIdentityParams{RoleArn: roleArn, RoleSessionName: session, WebIdentityToken: elidedJWT}
		if mod != nil {
			mod(&p)
		}
		return &p
	}
	cases := []struct {
		file, ct string
		want     *AssumeRoleWithWebIdentityParams // nil: GetCallerIdentity
	}{
		{"transcript-01-awscli-arwwi-1.body", formCTCharset, arwwi("cli-session", func(p *AssumeRoleWithWebIdentityParams) {
			p.ProviderId = "www.amazon.com"
			p.PolicyArns = []string{readOnlyArn}
			p.Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
			p.DurationSeconds = 900
		})},
		{"transcript-02-awscli-gci-1.body", formCTCharset, nil},
		{"transcript-03-boto3-env-webidentity-1.body", formCTCharset, arwwi("boto-sess", nil)},
		{"transcript-03-boto3-env-webidentity-2.body", formCTCharset, nil},
		{"transcript-04-go-explicit-webidentity-1.body", formCT, arwwi("go-explicit", func(p *AssumeRoleWithWebIdentityParams) {
			p.Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
			p.DurationSeconds = 900
		})},
		{"transcript-04-go-explicit-webidentity-3.body", formCT, nil},
		{"transcript-05-go-env-webidentity-1.body", formCT, arwwi("go-env", nil)},
		{"transcript-05-go-env-webidentity-2.body", formCT, nil},
		{"transcript-06-js-direct-arwwi-1.body", formCT, arwwi("js-direct", func(p *AssumeRoleWithWebIdentityParams) {
			p.WebIdentityToken = "tok.en.here"
			p.PolicyArns = []string{readOnlyArn}
			p.DurationSeconds = 3600
		})},
		{"transcript-07-js-env-webidentity-1.body", formCT, arwwi("js-env", nil)},
		{"transcript-07-js-env-webidentity-2.body", formCT, nil},
		{"transcript-13-js-imds-1.body", formCT, nil},
	}
	files, _ := filepath.Glob("testdata/transcript-*.body")
	if len(files) != len(cases) {
		t.Fatalf("%d transcript bodies in testdata, %d cases", len(files), len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			req, err := ParseQuery(http.MethodPost, tc.ct, "", body)
			if err != nil {
				t.Fatalf("ParseQuery: %v", err)
			}
			if req.Version != APIVersion {
				t.Errorf("Version = %q", req.Version)
			}
			if tc.want == nil {
				if req.Action != ActionGetCallerIdentity || len(req.Params) != 0 {
					t.Fatalf("got %+v, want bare GetCallerIdentity", req)
				}
				return
			}
			got, err := ParseAssumeRoleWithWebIdentity(req)
			if err != nil {
				t.Fatalf("ParseAssumeRoleWithWebIdentity: %v", err)
			}
			if diff := cmp.Diff(*tc.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseQueryGCIForms covers the two GetCallerIdentity forms that carry the
// parameters in the query string.
func TestParseQueryGCIForms(t *testing.T) {
	t.Parallel()
	// Presigned GET (reference §1.5 form 2).
	presigned := "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIDEXAMPLE%2F20261122%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261122T211445Z" +
		"&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef"
	req, err := ParseQuery(http.MethodGet, "", presigned, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Action: ActionGetCallerIdentity, Version: APIVersion, Params: map[string]string{
		"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "AKIDEXAMPLE/20261122/us-east-1/sts/aws4_request",
		"X-Amz-Date": "20261122T211445Z", "X-Amz-Expires": "60", "X-Amz-SignedHeaders": "host", "X-Amz-Signature": "0123456789abcdef",
	}}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("presigned (-want +got):\n%s", diff)
	}
	// google-auth serialized request (transcript 14): POST, params in the URL, no body, no Content-Type.
	req, err = ParseQuery(http.MethodPost, "", "Action=GetCallerIdentity&Version=2011-06-15", nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.Action != ActionGetCallerIdentity || len(req.Params) != 0 {
		t.Errorf("google form: %+v", req)
	}
	// POST mixing body and query.
	req, err = ParseQuery(http.MethodPost, formCT, "Version=2011-06-15", []byte("Action=GetCallerIdentity&Extra=a+b%2Bc"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Params["Extra"] != "a b+c" {
		t.Errorf("Extra = %q", req.Params["Extra"])
	}
}

func TestParseQueryErrors(t *testing.T) {
	t.Parallel()
	const ok = "Action=GetCallerIdentity&Version=2011-06-15"
	cases := []struct {
		name, method, ct, query, body string
		code                          string
		status                        int
	}{
		{"put", http.MethodPut, formCT, "", ok, CodeMethodNotAllowed, 405},
		{"get with body", http.MethodGet, "", ok, "x=y", CodeInvalidQueryParameter, 400},
		{"json content type", http.MethodPost, "application/x-amz-json-1.1", "", ok, CodeInvalidQueryParameter, 400},
		{"json accept-style", http.MethodPost, "application/json", "", `{"Action":"GetCallerIdentity"}`, CodeInvalidQueryParameter, 400},
		{"bad media type", http.MethodPost, "application/x-www-form-urlencoded; charset", "", ok, CodeInvalidQueryParameter, 400},
		{"latin1 charset", http.MethodPost, "application/x-www-form-urlencoded; charset=iso-8859-1", "", ok, CodeInvalidQueryParameter, 400},
		{"extra ct param", http.MethodPost, "application/x-www-form-urlencoded; boundary=x", "", ok, CodeInvalidQueryParameter, 400},
		{"body without ct", http.MethodPost, "", "", ok, CodeInvalidQueryParameter, 400},
		{"no action", http.MethodPost, formCT, "", "Version=2011-06-15", CodeMissingAction, 400},
		{"empty action", http.MethodPost, formCT, "", "Action=&Version=2011-06-15", CodeMissingAction, 400},
		{"odd action", http.MethodPost, formCT, "", "Action=Get%20Caller&Version=2011-06-15", CodeInvalidAction, 400},
		{"long action", http.MethodPost, formCT, "", "Action=" + strings.Repeat("A", 65) + "&Version=2011-06-15", CodeInvalidAction, 400},
		{"no version", http.MethodPost, formCT, "", "Action=GetCallerIdentity", CodeMissingParameter, 400},
		{"empty version", http.MethodPost, formCT, "", "Action=GetCallerIdentity&Version=", CodeMissingParameter, 400},
		{"wrong version", http.MethodPost, formCT, "", "Action=GetCallerIdentity&Version=2011-06-14", CodeInvalidAction, 400},
		{"repeated in body", http.MethodPost, formCT, "", ok + "&Action=AssumeRoleWithWebIdentity", CodeInvalidQueryParameter, 400},
		{"repeated across query and body", http.MethodPost, formCT, "Action=AssumeRole", ok, CodeInvalidQueryParameter, 400},
		{"repeated empty", http.MethodPost, formCT, "", ok + "&X=&X=", CodeInvalidQueryParameter, 400},
		{"bad escape", http.MethodPost, formCT, "", ok + "&X=%zz", CodeMalformedQueryString, 404},
		{"bad escape in key", http.MethodPost, formCT, "", ok + "&%G1=1", CodeMalformedQueryString, 404},
		{"semicolon", http.MethodPost, formCT, "", ok + ";X=1", CodeMalformedQueryString, 404},
		{"empty name", http.MethodPost, formCT, "", ok + "&=1", CodeMalformedQueryString, 404},
		{"invalid utf8 value", http.MethodPost, formCT, "", ok + "&X=%ff", CodeMalformedQueryString, 404},
		{"invalid utf8 key", http.MethodPost, formCT, "", ok + "&%ff=1", CodeMalformedQueryString, 404},
		{"too many params", http.MethodPost, formCT, "", ok + manyParams(99), CodeInvalidQueryParameter, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseQuery(tc.method, tc.ct, tc.query, []byte(tc.body))
			var e Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want aws.Error", err)
			}
			if e.Code != tc.code || e.HTTPStatus() != tc.status || !e.Sender {
				t.Errorf("got %s/%d sender=%v (%s), want %s/%d", e.Code, e.HTTPStatus(), e.Sender, e.Message, tc.code, tc.status)
			}
			if !errors.Is(err, Error{Code: tc.code}) {
				t.Errorf("errors.Is by code failed")
			}
		})
	}
	// Exactly at the limit is accepted.
	if _, err := ParseQuery(http.MethodPost, formCT, "", []byte(ok+manyParams(98))); err != nil {
		t.Errorf("100 params refused: %v", err)
	}
	// Empty pairs are skipped, not counted as parameters.
	if _, err := ParseQuery(http.MethodPost, formCT, "", []byte("&&"+ok+"&&")); err != nil {
		t.Errorf("empty pairs: %v", err)
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("&P")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString("=1")
	}
	return b.String()
}

func TestParseQueryErrorMessages(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, want string }{
		{"Action=GetCallerIdentity&Version=2011-06-14", "Could not find operation GetCallerIdentity for version 2011-06-14"},
		{"Action=GetCallerIdentity&Version=%0Abad", "Could not find operation GetCallerIdentity for version (invalid)"},
		{"Action=GetCallerIdentity&Version=2011-06-15&X%0A=1&X%0A=2", "The parameter (invalid name) is given more than once."},
		{"Action=GetCallerIdentity&Version=2011-06-15&Role=1&Role=2", "The parameter Role is given more than once."},
	}
	for _, tc := range cases {
		_, err := ParseQuery(http.MethodPost, formCT, "", []byte(tc.body))
		var e Error
		if !errors.As(err, &e) || e.Message != tc.want {
			t.Errorf("%q: got %v, want message %q", tc.body, err, tc.want)
		}
	}
	if got := UnknownActionError(Request{Action: "AssumeRoot", Version: APIVersion}).Message; got != "Could not find operation AssumeRoot for version 2011-06-15" {
		t.Errorf("UnknownActionError = %q", got)
	}
}

// arwwiRequest builds a valid ARWWI request and applies overrides; an override
// value of "\x00" deletes the parameter.
func arwwiRequest(over map[string]string) Request {
	p := map[string]string{"RoleArn": roleArn, "RoleSessionName": "sess", "WebIdentityToken": "a.b.c"}
	for k, v := range over {
		if v == "\x00" {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return Request{Action: ActionAssumeRoleWithWebIdentity, Version: APIVersion, Params: p}
}

func TestParseAssumeRoleWithWebIdentityValidation(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	const pre = "1 validation error detected: "
	cases := []struct {
		name string
		over map[string]string
		code string
		msg  string
	}{
		{"no role arn", map[string]string{"RoleArn": "\x00"}, CodeValidationError,
			pre + "Value null at 'roleArn' failed to satisfy constraint: Member must not be null"},
		{"short role arn", map[string]string{"RoleArn": "arn:aws:iam::1:role"}, CodeValidationError,
			pre + "Value 'arn:aws:iam::1:role' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"long role arn", map[string]string{"RoleArn": "arn:aws:iam::123456789012:role/" + long(2018)}, CodeValidationError,
			pre + "Value 'arn:aws:iam::123456789012:role/" + long(2018) + "' at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"no session", map[string]string{"RoleSessionName": "\x00"}, CodeValidationError,
			pre + "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"},
		{"short session", map[string]string{"RoleSessionName": "x"}, CodeValidationError,
			pre + "Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"long session", map[string]string{"RoleSessionName": long(65)}, CodeValidationError,
			pre + "Value '" + long(65) + "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"session pattern", map[string]string{"RoleSessionName": "a b"}, CodeValidationError,
			pre + `Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"session non-ascii word", map[string]string{"RoleSessionName": "ñame"}, CodeValidationError,
			pre + `Value 'ñame' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"no token", map[string]string{"WebIdentityToken": "\x00"}, CodeValidationError,
			pre + "Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null"},
		{"short token is redacted", map[string]string{"WebIdentityToken": "abc"}, CodeValidationError,
			pre + "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"},
		{"long token is redacted", map[string]string{"WebIdentityToken": long(20001)}, CodeValidationError,
			pre + "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000"},
		{"short provider", map[string]string{"ProviderId": "a.b"}, CodeValidationError,
			pre + "Value 'a.b' at 'providerId' failed to satisfy constraint: Member must have length greater than or equal to 4"},
		{"long provider", map[string]string{"ProviderId": long(2049)}, CodeValidationError,
			pre + "Value '" + long(2049) + "' at 'providerId' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"empty policy", map[string]string{"Policy": ""}, CodeValidationError,
			pre + "Value '' at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long policy", map[string]string{"Policy": long(2049)}, CodeValidationError,
			pre + "Value '" + long(2049) + "' at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"policy chars", map[string]string{"Policy": "{\x01}"}, CodeValidationError,
			pre + "Value '{\x01}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"},
		{"policy above latin1", map[string]string{"Policy": "{\"a\":\"€\"}"}, CodeValidationError,
			pre + "Value '{\"a\":\"€\"}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"},
		{"duration low", map[string]string{"DurationSeconds": "899"}, CodeValidationError,
			pre + "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"duration high", map[string]string{"DurationSeconds": "43201"}, CodeValidationError,
			pre + "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"duration negative", map[string]string{"DurationSeconds": "-900"}, CodeValidationError,
			pre + "Value '-900' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"duration text", map[string]string{"DurationSeconds": "1h"}, CodeValidationError,
			pre + "Value '1h' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"},
		{"duration empty", map[string]string{"DurationSeconds": ""}, CodeValidationError,
			pre + "Value '' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"},
		{"duration plus", map[string]string{"DurationSeconds": "+900"}, CodeValidationError,
			pre + "Value '+900' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"},
		{"duration overflow", map[string]string{"DurationSeconds": "99999999999999999999"}, CodeValidationError,
			pre + "Value '99999999999999999999' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"},
		{"policy arn short", map[string]string{"PolicyArns.member.1.arn": "arn:aws:iam::aws:p"}, CodeValidationError,
			pre + "Value 'arn:aws:iam::aws:p' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"policy arn not a policy", map[string]string{"PolicyArns.member.1.arn": roleArn}, CodeValidationError,
			pre + "Value '" + roleArn + "' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must be an IAM policy ARN"},
		{"policy arn other service", map[string]string{"PolicyArns.member.1.arn": "arn:aws:s3:::bucket/policy/x"}, CodeValidationError,
			pre + "Value 'arn:aws:s3:::bucket/policy/x' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must be an IAM policy ARN"},
		{"policy arn bad account", map[string]string{"PolicyArns.member.1.arn": "arn:aws:iam::12345:policy/xyz"}, CodeValidationError,
			pre + "Value 'arn:aws:iam::12345:policy/xyz' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must be an IAM policy ARN"},
		{"policy arn no colon", map[string]string{"PolicyArns.member.1.arn": "arn:aws:iam::aws/policy/xyz"}, CodeValidationError,
			pre + "Value 'arn:aws:iam::aws/policy/xyz' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must be an IAM policy ARN"},
		{"policy arn trailing slash", map[string]string{"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/path/"}, CodeValidationError,
			pre + "Value 'arn:aws:iam::aws:policy/path/' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must be an IAM policy ARN"},
		{"policy arn space", map[string]string{"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/a b"}, CodeValidationError,
			pre + "Value 'arn:aws:iam::aws:policy/a b' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must be an IAM policy ARN"},
		{"policy arn empty name", map[string]string{"PolicyArns.member.1.arn": "arn:aws:iam::123456789012:policy/"}, CodeValidationError,
			pre + "Value 'arn:aws:iam::123456789012:policy/' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must be an IAM policy ARN"},
		{"policy arn gap", map[string]string{"PolicyArns.member.2.arn": readOnlyArn}, CodeValidationError,
			pre + "Value 'PolicyArns.member.1.arn' at 'policyArns' failed to satisfy constraint: Member indexes must be contiguous from 1"},
		{"policy arn index zero", map[string]string{"PolicyArns.member.0.arn": readOnlyArn}, CodeValidationError,
			pre + "Value '" + readOnlyArn + "' at 'policyArns' failed to satisfy constraint: Member must be encoded as PolicyArns.member.N.arn with N from 1 to 10"},
		{"policy arn leading zero", map[string]string{"PolicyArns.member.01.arn": readOnlyArn}, CodeValidationError,
			pre + "Value '" + readOnlyArn + "' at 'policyArns' failed to satisfy constraint: Member must be encoded as PolicyArns.member.N.arn with N from 1 to 10"},
		{"policy arn wrong field", map[string]string{"PolicyArns.member.1.Arn": readOnlyArn}, CodeValidationError,
			pre + "Value '" + readOnlyArn + "' at 'policyArns' failed to satisfy constraint: Member must be encoded as PolicyArns.member.N.arn with N from 1 to 10"},
		{"policy arns scalar", map[string]string{"PolicyArns": readOnlyArn}, CodeValidationError,
			pre + "Value '" + readOnlyArn + "' at 'policyArns' failed to satisfy constraint: Member must be a list"},
		{"eleven policy arns", elevenPolicyArns(), CodeValidationError,
			pre + "Value '11 members' at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"several violations", map[string]string{"RoleSessionName": "x", "DurationSeconds": "1", "WebIdentityToken": "\x00"}, CodeValidationError,
			"3 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; " +
				"Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null; " +
				"Value '1' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		// Role ARN shape, checked after the model constraints.
		{"arn other service", map[string]string{"RoleArn": "arn:aws:sts::123456789012:role/x"}, CodeValidationError, "Request ARN is invalid"},
		{"arn other partition", map[string]string{"RoleArn": "arn:aws-cn:iam::123456789012:role/x"}, CodeValidationError, "Request ARN is invalid"},
		{"arn short account", map[string]string{"RoleArn": "arn:aws:iam::12345678901:role/x"}, CodeValidationError, "Request ARN is invalid"},
		{"arn user", map[string]string{"RoleArn": "arn:aws:iam::123456789012:user/x"}, CodeValidationError, "Request ARN is invalid"},
		{"arn empty name", map[string]string{"RoleArn": "arn:aws:iam::123456789012:role/"}, CodeValidationError, "Request ARN is invalid"},
		{"arn bad name", map[string]string{"RoleArn": "arn:aws:iam::123456789012:role/a*b"}, CodeValidationError, "Request ARN is invalid"},
		{"arn long name", map[string]string{"RoleArn": "arn:aws:iam::123456789012:role/" + long(65)}, CodeValidationError, "Request ARN is invalid"},
		{"arn double slash", map[string]string{"RoleArn": "arn:aws:iam::123456789012:role//x"}, CodeValidationError, "Request ARN is invalid"},
		{"arn space in path", map[string]string{"RoleArn": "arn:aws:iam::123456789012:role/a b/x"}, CodeValidationError, "Request ARN is invalid"},
		{"arn no resource", map[string]string{"RoleArn": "arn:aws:iam::123456789012"}, CodeValidationError, "Request ARN is invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAssumeRoleWithWebIdentity(arwwiRequest(tc.over))
			var e Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want aws.Error", err)
			}
			if e.Code != tc.code || e.Message != tc.msg || e.HTTPStatus() != 400 || !e.Sender {
				t.Errorf("got %s %d %q\nwant %s 400 %q", e.Code, e.HTTPStatus(), e.Message, tc.code, tc.msg)
			}
		})
	}
}

func elevenPolicyArns() map[string]string {
	m := map[string]string{}
	for i := 1; i <= 11; i++ {
		m["PolicyArns.member."+strconv.Itoa(i)+".arn"] = readOnlyArn
	}
	return m
}

func TestParseAssumeRoleWithWebIdentityAccepts(t *testing.T) {
	t.Parallel()
	over := map[string]string{
		"RoleArn":                 "arn:aws:iam::000000000001:role/team/ci/deploy+x=y,z.w@v-u_t",
		"RoleSessionName":         "ab",
		"WebIdentityToken":        strings.Repeat("t", 20000),
		"ProviderId":              "graph.facebook.com",
		"Policy":                  "{\t\r\n\"k\": \"\u00e9\u00ff\"}",
		"DurationSeconds":         "43200",
		"PolicyArns":              "",
		"UnknownFutureParam":      "kept",
		"PolicyArns.member.1.arn": readOnlyArn,
		"PolicyArns.member.2.arn": "arn:aws:iam::123456789012:policy/path/custom",
	}
	r := arwwiRequest(over)
	got, err := ParseAssumeRoleWithWebIdentity(r)
	if err != nil {
		t.Fatal(err)
	}
	want := AssumeRoleWithWebIdentityParams{
		RoleArn: over["RoleArn"], RoleSessionName: "ab", WebIdentityToken: over["WebIdentityToken"],
		ProviderId: "graph.facebook.com", Policy: over["Policy"], DurationSeconds: 43200,
		PolicyArns: []string{readOnlyArn, "arn:aws:iam::123456789012:policy/path/custom"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Ten policy ARNs, the minimum duration and an empty PolicyArns list.
	m := elevenPolicyArns()
	delete(m, "PolicyArns.member.11.arn")
	m["DurationSeconds"] = "900"
	got, err = ParseAssumeRoleWithWebIdentity(arwwiRequest(m))
	if err != nil || len(got.PolicyArns) != 10 || got.DurationSeconds != 900 {
		t.Errorf("ten ARNs: %v %+v", err, got)
	}
	got, err = ParseAssumeRoleWithWebIdentity(arwwiRequest(map[string]string{"PolicyArns": ""}))
	if err != nil || got.PolicyArns != nil || got.DurationSeconds != 0 {
		t.Errorf("empty list: %v %+v", err, got)
	}
	// Wrong action.
	_, err = ParseAssumeRoleWithWebIdentity(Request{Action: ActionGetCallerIdentity, Version: APIVersion})
	if !errors.Is(err, Error{Code: CodeInvalidAction}) {
		t.Errorf("wrong action: %v", err)
	}
}

func TestParseRoleArn(t *testing.T) {
	t.Parallel()
	cases := []struct{ arn, acct, path, name string }{
		{"arn:aws:iam::123456789012:role/keyless-role", "123456789012", "/", "keyless-role"},
		{"arn:aws:iam::012345678901:role/a/b/c", "012345678901", "/a/b/", "c"},
		{"arn:aws:iam::012345678901:role/service-role/x", "012345678901", "/service-role/", "x"},
	}
	for _, tc := range cases {
		a, p, n, err := ParseRoleArn(tc.arn)
		if err != nil || a != tc.acct || p != tc.path || n != tc.name {
			t.Errorf("ParseRoleArn(%q) = %q %q %q %v", tc.arn, a, p, n, err)
		}
	}
	if _, _, _, err := ParseRoleArn("arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 256) + "x"); err == nil {
		t.Error("path over 512 accepted")
	}
}

func TestNewErrorStatuses(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		status int
		sender bool
	}{
		CodeInvalidIdentityToken: {400, true}, CodeExpiredTokenException: {400, true}, CodeIDPRejectedClaim: {403, true},
		CodeIDPCommunicationError: {400, true}, CodeAccessDenied: {403, true}, CodeValidationError: {400, true},
		CodeInvalidParameterValue: {400, true}, CodeMalformedPolicyDocument: {400, true}, CodePackedPolicyTooLarge: {400, true},
		CodeRegionDisabledException: {403, true}, CodeInvalidAction: {400, true}, CodeInvalidClientTokenID: {403, true},
		CodeSignatureDoesNotMatch: {403, true}, CodeExpiredToken: {403, true}, CodeIncompleteSignature: {400, true},
		CodeMissingAuthenticationToken: {403, true}, CodeMissingAction: {400, true}, CodeMissingParameter: {400, true},
		CodeInvalidQueryParameter: {400, true}, CodeMalformedQueryString: {404, true}, CodeRequestExpired: {400, true},
		CodeThrottling: {400, true}, CodeInternalFailure: {500, false}, CodeServiceUnavailable: {503, false},
		CodeMethodNotAllowed: {405, true}, "SomethingNew": {500, false},
	}
	for code, want := range cases {
		e := NewError(code, "m")
		if e.Status != want.status || e.Sender != want.sender || e.HTTPStatus() != want.status {
			t.Errorf("%s: got %d/%v, want %d/%v", code, e.Status, e.Sender, want.status, want.sender)
		}
	}
	if got := (Error{Sender: true}).HTTPStatus(); got != 400 {
		t.Errorf("default sender status %d", got)
	}
	if got := (Error{}).HTTPStatus(); got != 500 {
		t.Errorf("default receiver status %d", got)
	}
	if errors.Is(NewError(CodeAccessDenied, "x"), Error{Code: CodeValidationError}) {
		t.Error("Is matched a different code")
	}
	if errors.Is(NewError(CodeAccessDenied, "x"), errors.New(CodeAccessDenied)) {
		t.Error("Is matched a non-Error")
	}
	if s := NewError(CodeAccessDenied, "no").Error(); s != "aws sts AccessDenied: no" {
		t.Errorf("Error() = %q", s)
	}
}

// SDK-shaped decoding targets: what botocore, aws-sdk-go-v2 and aws-sdk-js-v3
// read from the documents (namespace-qualified, as a strict parser sees them).
type sdkARWWI struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
	Result  struct {
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		SubjectFromWebIdentityToken string
		AssumedRoleUser             struct {
			AssumedRoleID string `xml:"AssumedRoleId"`
			Arn           string
		}
		Provider, Audience string
		SourceIdentity     *string
		PackedPolicySize   *int
	} `xml:"AssumeRoleWithWebIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type sdkGCI struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
	Result  struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type sdkError struct {
	XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error     struct{ Type, Code, Message string }
	RequestID string `xml:"RequestId"`
}

func fixedResult() AssumeRoleWithWebIdentityResult {
	return AssumeRoleWithWebIdentityResult{
		Credentials: Credentials{
			AccessKeyID: "ASIAKEYLESSEXAMPLE01", SecretAccessKey: "keylessSecretKeyExampleExampleExample0001",
			SessionToken: "IQoJb3JpZ2luX2VjEKeylessSessionTokenExample==",
			Expiration:   time.Date(2026, 11, 22, 22, 14, 43, 987654321, time.FixedZone("CET", 3600)).Add(time.Hour),
		},
		SubjectFromWebIdentityToken: "system:serviceaccount:default:demo",
		Audience:                    "sts.amazonaws.com",
		Provider:                    "https://keyless.example.com",
		AssumedRoleID:               "AROAKEYLESSROLEEXAMPLE:cli-session",
		Arn:                         "arn:aws:sts::123456789012:assumed-role/keyless-role/cli-session",
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s mismatch (-want +got):\n%s", name, cmp.Diff(string(want), string(got)))
	}
}

func checkHeaders(t *testing.T, rec *httptest.ResponseRecorder, status int, requestID string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status %d, want %d", rec.Code, status)
	}
	h := rec.Header()
	if h.Get("Content-Type") != "text/xml" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", h)
	}
	if got := h["x-amzn-RequestId"]; len(got) != 1 || got[0] != requestID {
		t.Errorf("x-amzn-RequestId = %v", got)
	}
	if h.Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %s, body %d", h.Get("Content-Length"), rec.Body.Len())
	}
}

const reqID = "7a9b7ed4-0779-4e3d-b64e-c162e681f052"

func TestWriteAssumeRoleWithWebIdentity(t *testing.T) {
	t.Parallel()
	size := 6
	full := fixedResult()
	full.SourceIdentity = "alice@example.com"
	full.PackedPolicySize = &size
	for _, tc := range []struct {
		file string
		res  AssumeRoleWithWebIdentityResult
	}{{"arwwi.golden.xml", fixedResult()}, {"arwwi-full.golden.xml", full}} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			WriteAssumeRoleWithWebIdentity(rec, tc.res, reqID)
			checkHeaders(t, rec, 200, reqID)
			golden(t, tc.file, rec.Body.Bytes())

			var doc sdkARWWI
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			r := doc.Result
			c := tc.res.Credentials
			if r.Credentials.AccessKeyID != c.AccessKeyID || r.Credentials.SecretAccessKey != c.SecretAccessKey || r.Credentials.SessionToken != c.SessionToken {
				t.Errorf("credentials %+v", r.Credentials)
			}
			exp, err := ParseExpiration(r.Credentials.Expiration)
			if err != nil || !exp.Equal(c.Expiration.Truncate(time.Second)) {
				t.Errorf("Expiration %q -> %v %v", r.Credentials.Expiration, exp, err)
			}
			if r.AssumedRoleUser.Arn != tc.res.Arn || r.AssumedRoleUser.AssumedRoleID != tc.res.AssumedRoleID ||
				r.SubjectFromWebIdentityToken != tc.res.SubjectFromWebIdentityToken || r.Provider != tc.res.Provider ||
				r.Audience != tc.res.Audience || doc.RequestID != reqID {
				t.Errorf("decoded %+v", doc)
			}
			// The SDKs take the account from field 4 of the assumed-role ARN.
			if parts := strings.Split(r.AssumedRoleUser.Arn, ":"); len(parts) < 5 || parts[4] != "123456789012" {
				t.Errorf("account from ARN: %v", parts)
			}
			if (r.SourceIdentity != nil) != (tc.res.SourceIdentity != "") || (r.PackedPolicySize != nil) != (tc.res.PackedPolicySize != nil) {
				t.Errorf("optional elements: %v %v", r.SourceIdentity, r.PackedPolicySize)
			}
			if r.PackedPolicySize != nil && *r.PackedPolicySize != size {
				t.Errorf("PackedPolicySize %d", *r.PackedPolicySize)
			}
		})
	}
}

func TestWriteRefusesIncompleteResults(t *testing.T) {
	t.Parallel()
	mods := map[string]func(*AssumeRoleWithWebIdentityResult){
		"no access key": func(r *AssumeRoleWithWebIdentityResult) { r.Credentials.AccessKeyID = "" },
		"no secret":     func(r *AssumeRoleWithWebIdentityResult) { r.Credentials.SecretAccessKey = "" },
		"no session":    func(r *AssumeRoleWithWebIdentityResult) { r.Credentials.SessionToken = "" },
		"zero expiry":   func(r *AssumeRoleWithWebIdentityResult) { r.Credentials.Expiration = time.Time{} },
		"no arn":        func(r *AssumeRoleWithWebIdentityResult) { r.Arn = "" },
	}
	for name, mod := range mods {
		res := fixedResult()
		mod(&res)
		rec := httptest.NewRecorder()
		WriteAssumeRoleWithWebIdentity(rec, res, reqID)
		checkHeaders(t, rec, 500, reqID)
		var doc sdkError
		if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Error.Code != CodeInternalFailure || doc.Error.Type != "Receiver" {
			t.Errorf("%s: %v %+v", name, err, doc)
		}
		if strings.Contains(rec.Body.String(), "keylessSecretKey") || strings.Contains(rec.Body.String(), "IQoJ") {
			t.Errorf("%s: secret leaked into error body", name)
		}
	}
	for _, id := range []CallerIdentity{{Account: "1", Arn: "a"}, {UserID: "u", Arn: "a"}, {UserID: "u", Account: "1"}} {
		rec := httptest.NewRecorder()
		WriteGetCallerIdentity(rec, id, reqID)
		checkHeaders(t, rec, 500, reqID)
	}
}

func TestWriteGetCallerIdentity(t *testing.T) {
	t.Parallel()
	id := CallerIdentity{UserID: "AROAKEYLESSROLEEXAMPLE:demo", Account: "012345678901", Arn: "arn:aws:sts::012345678901:assumed-role/keyless-role/demo"}
	rec := httptest.NewRecorder()
	WriteGetCallerIdentity(rec, id, reqID)
	checkHeaders(t, rec, 200, reqID)
	golden(t, "gci.golden.xml", rec.Body.Bytes())
	var doc sdkGCI
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Result.UserID != id.UserID || doc.Result.Account != id.Account || doc.Result.Arn != id.Arn || doc.RequestID != reqID {
		t.Errorf("decoded %+v", doc)
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		e    Error
		typ  string
	}{
		{"error-invalid-identity-token.golden.xml", NewError(CodeInvalidIdentityToken, "No OpenIDConnect provider found in your account for https://issuer.example"), "Sender"},
		{"error-access-denied.golden.xml", NewError(CodeAccessDenied, "Not authorized to perform sts:AssumeRoleWithWebIdentity"), "Sender"},
		{"error-validation-escaped.golden.xml", NewError(CodeValidationError, "1 validation error detected: Value '<a&b>\"\x00' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"), "Sender"},
		{"error-internal.golden.xml", NewError(CodeInternalFailure, "The request processing has failed because of an unknown error, exception or failure."), "Receiver"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			WriteError(rec, tc.e, reqID)
			checkHeaders(t, rec, tc.e.Status, reqID)
			golden(t, tc.file, rec.Body.Bytes())
			var doc sdkError
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			wantMsg := strings.ReplaceAll(tc.e.Message, "\x00", "\uFFFD")
			if doc.Error.Type != tc.typ || doc.Error.Code != tc.e.Code || doc.Error.Message != wantMsg || doc.RequestID != reqID {
				t.Errorf("decoded %+v", doc)
			}
		})
	}
	// A zero Status falls back to the fault default.
	rec := httptest.NewRecorder()
	WriteError(rec, Error{Code: "X", Message: "m", Sender: true}, reqID)
	checkHeaders(t, rec, 400, reqID)
}

func TestExpirationFormat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 22, 22, 14, 43, 0, time.UTC), "2026-11-22T22:14:43Z"},
		{time.Date(2026, 11, 22, 22, 14, 43, 999999999, time.UTC), "2026-11-22T22:14:43Z"}, // truncated, never later
		{time.Date(2026, 11, 22, 23, 14, 43, 0, time.FixedZone("+01", 3600)), "2026-11-22T22:14:43Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("-0530", -19800)), "2026-01-02T08:34:05Z"},
	}
	for _, tc := range cases {
		got := FormatExpiration(tc.in)
		if got != tc.want {
			t.Errorf("FormatExpiration(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseExpiration(got)
		if err != nil || !back.Equal(tc.in.Truncate(time.Second)) || back.Location() != time.UTC {
			t.Errorf("round trip %q -> %v %v", got, back, err)
		}
	}
	// Forms the SDKs accept (reference §1.3): fractions and offsets.
	for in, want := range map[string]time.Time{
		"2026-11-22T22:10:29.123Z":  time.Date(2026, 11, 22, 22, 10, 29, 123e6, time.UTC),
		"2026-11-22T23:10:29+01:00": time.Date(2026, 11, 22, 22, 10, 29, 0, time.UTC),
	} {
		got, err := ParseExpiration(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseExpiration(%q) = %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "2026-11-22 22:10:29Z", "1795385715", "2026-11-22T22:10:29"} {
		if _, err := ParseExpiration(bad); err == nil {
			t.Errorf("ParseExpiration(%q) accepted", bad)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	files, _ := filepath.Glob("testdata/transcript-*.body")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("POST", formCT, "", b)
	}
	f.Add("GET", "", "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=60", []byte(nil))
	f.Add("POST", "", "Action=GetCallerIdentity&Version=2011-06-15", []byte(nil))
	f.Add("POST", formCTCharset, "Version=2011-06-15", []byte("Action=AssumeRoleWithWebIdentity&PolicyArns=&PolicyArns.member.1.arn=x&DurationSeconds=9e9"))
	f.Add("POST", formCT, "", []byte("Action=A&Action=B&%zz;=&="))
	f.Fuzz(func(t *testing.T, method, ct, query string, body []byte) {
		req, err := ParseQuery(method, ct, query, body)
		if err != nil {
			var e Error
			if !errors.As(err, &e) || e.Code == "" || e.HTTPStatus() < 400 {
				t.Fatalf("untyped or bad error %v", err)
			}
			return
		}
		if req.Action == "" || req.Version != APIVersion || req.Params == nil {
			t.Fatalf("accepted request without Action/Version: %+v", req)
		}
		if _, ok := req.Params["Action"]; ok {
			t.Fatal("Action left in Params")
		}
		if len(req.Params) > maxParams {
			t.Fatalf("%d params", len(req.Params))
		}
		p, err := ParseAssumeRoleWithWebIdentity(req)
		if err != nil {
			var e Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			if tok := req.Params["WebIdentityToken"]; len(tok) >= 8 && strings.Contains(e.Message, tok) {
				t.Fatal("token echoed in error message")
			}
			return
		}
		if p.RoleSessionName == "" || p.WebIdentityToken == "" || (p.DurationSeconds != 0 && (p.DurationSeconds < 900 || p.DurationSeconds > 43200)) {
			t.Fatalf("accepted invalid params %+v", p)
		}
		if _, _, _, err := ParseRoleArn(p.RoleArn); err != nil {
			t.Fatalf("accepted bad role ARN %q", p.RoleArn)
		}
		// Writing an error with any message must yield well-formed XML.
		rec := httptest.NewRecorder()
		WriteError(rec, NewError(CodeValidationError, p.Policy+p.RoleSessionName), "id")
		var doc sdkError
		if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("error XML does not parse: %v", err)
		}
	})
}
