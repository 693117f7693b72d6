package google

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestParseSTSRequestEncodings(t *testing.T) {
	t.Parallel()
	aud := "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/p/providers/x"
	cases := []struct {
		name, ctype, body string
		wantErr           string
		check             func(t *testing.T, got map[string]string)
	}{
		{name: "form", ctype: "application/x-www-form-urlencoded",
			body: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&audience=" + url.QueryEscape(aud) + "&subject_token=abc%0A&subject_token_type=t&scope=a+b"},
		{name: "python double-encoded options", ctype: "application/x-www-form-urlencoded",
			body: "grant_type=g&options=%257B%2522userProject%2522%253A%2520%2522p%2522%257D"},
		{name: "go options", ctype: "application/x-www-form-urlencoded", body: "grant_type=g&options=%7B%22userProject%22%3A%22p%22%7D"},
		{name: "json camel", ctype: "application/json", body: `{"grantType":"g","subjectToken":"abc","subjectTokenType":"t","audience":"a","scope":["a","b"]}`},
		{name: "json snake", ctype: "application/json", body: `{"grant_type":"g","subject_token":"abc","options":null}`},
		{name: "repeated form param", ctype: "application/x-www-form-urlencoded", body: "grant_type=g&grant_type=g", wantErr: "repeated"},
		{name: "repeated json member", ctype: "application/json", body: `{"grantType":"g","grantType":"h"}`, wantErr: "repeated"},
		{name: "both spellings", ctype: "application/json", body: `{"grantType":"g","grant_type":"h"}`, wantErr: "twice"},
		{name: "json array", ctype: "application/json", body: `[]`, wantErr: "not a JSON object"},
		{name: "json trailing", ctype: "application/json", body: `{"a":"b"} {}`, wantErr: "trailing"},
		{name: "json number", ctype: "application/json", body: `{"audience":1}`, wantErr: "must be a string"},
		{name: "text/plain", ctype: "text/plain", body: "grant_type=g", wantErr: "unsupported content type"},
		{name: "options not json", ctype: "application/x-www-form-urlencoded", body: "options=%7Bnope", wantErr: "options"},
		{name: "actor token", ctype: "application/x-www-form-urlencoded", body: "grant_type=g&actor_token=x&actor_token_type=t", wantErr: "not supported"},
		{name: "resource", ctype: "application/json", body: `{"grantType":"g","resource":"https://api"}`, wantErr: "not supported"},
		{name: "bad escape", ctype: "application/x-www-form-urlencoded", body: "grant_type=%zz", wantErr: "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseSTSRequest(tc.ctype, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.GrantType == "" {
				t.Errorf("grant type lost: %+v", req)
			}
			if strings.Contains(tc.name, "options") && req.Options != `{"userProject": "p"}` && req.Options != `{"userProject":"p"}` {
				t.Errorf("options = %q", req.Options)
			}
			if tc.name == "json camel" && (req.SubjectToken != "abc" || len(req.Scope) != 2) {
				t.Errorf("%+v", req)
			}
		})
	}
}

func FuzzParseSTSRequest(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&audience=%2F%2Fiam.googleapis.com%2Fprojects%2F123456789012%2Flocations%2Fglobal%2FworkloadIdentityPools%2Fmy-pool%2Fproviders%2Fmy-oidc&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fiam&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&subject_token=eyJhbGciOiAiU.x.y%0A&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt")
	f.Add("application/x-www-form-urlencoded", "options=%257B%2522userProject%2522%253A%2520%2522my-billing-project%2522%257D")
	f.Add("application/json", `{"grantType":"g","subjectToken":"abc","scope":["a"],"options":"{}"}`)
	f.Add("application/json", `{"a":{"b":[1,2,{"c":null}]}}`)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		req, err := ParseSTSRequest(ctype, []byte(body))
		if err != nil {
			return
		}
		if req.Options != "" && !json.Valid([]byte(req.Options)) {
			t.Fatalf("accepted non-JSON options %q", req.Options)
		}
		for _, s := range req.Scope {
			if strings.TrimSpace(s) != s || s == "" {
				t.Fatalf("scope element %q not trimmed", s)
			}
		}
	})
}
