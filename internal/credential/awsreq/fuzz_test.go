package awsreq

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzParseAuth(f *testing.F) {
	for _, p := range []string{"get-vanilla/header-signed-request.txt", "get-vanilla/query-signed-request.txt", "get-header-key-duplicate/header-signed-request.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "aws-signing-test-suite-v4", p))
		if err != nil {
			f.Fatal(err)
		}
		r := parseRawRequest(f, string(b))
		f.Add(r.Headers.Get("Authorization"), r.RawQuery, r.Headers.Get("X-Amz-Date"))
	}
	f.Add("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request,SignedHeaders=host;x-amz-date,Signature=00", "", "20150830T123600Z")
	f.Fuzz(func(t *testing.T, authz, query, date string) {
		r := SignedRequest{Method: "GET", Host: "example.amazonaws.com", Path: "/", RawQuery: query, Headers: http.Header{}}
		if authz != "" {
			r.Headers.Set("Authorization", authz)
		}
		if date != "" {
			r.Headers.Set("X-Amz-Date", date)
		}
		a, err := ParseAuth(r)
		if err != nil {
			if StageOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(a.Signature) != 32 || !contains(a.SignedHeaders, "host") || a.Date != a.Timestamp.Format("20060102") {
			t.Fatalf("accepted inconsistent auth %+v", a)
		}
		if err := Verify(r, a, suiteSecret, a.Timestamp, 0); err != nil && StageOf(err) == "" {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzCanonicalRequest(f *testing.F) {
	f.Add("GET", "/example space/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "value1\n  value2", []byte(""), true)
	f.Add("POST", "/p%20q/%C3%BC=x/", "a=%2B&b", "  x  ", []byte("Param1=value1"), false)
	f.Add("GET", "//../.", "&&=&", "", []byte(nil), true)
	f.Fuzz(func(t *testing.T, method, path, query, hv string, body []byte, presigned bool) {
		r := SignedRequest{Method: method, Host: "h", Path: path, RawQuery: query, Headers: http.Header{"My-Header": {hv, hv}}, Body: body}
		a := &Auth{Date: "20150830", Region: "r", Service: "s", SignedHeaders: []string{"host", "my-header"}, Timestamp: suiteTime, Presigned: presigned}
		creq, err := CanonicalRequest(r, a)
		if err != nil {
			return
		}
		creq2, err := CanonicalRequest(r, a)
		if err != nil || creq != creq2 {
			t.Fatal("canonicalization is not deterministic")
		}
		if !allBytes(canonicalURI(path, true), func(c byte) bool { return c == '/' || c == '%' || isUnreserved(c) }) {
			t.Fatalf("canonical URI has raw bytes: %q", canonicalURI(path, true))
		}
	})
}

func FuzzParseSubjectToken(f *testing.F) {
	for _, c := range []string{"python", "go", "node"} {
		f.Add(newSpec(c, tokenNow).build(f))
	}
	f.Add(`{"url":"https://sts.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15","method":"POST","headers":[]}`)
	f.Add("%7B%22url%22%3A1%7D")
	f.Add(`{"url":"u","\u0075rl":"v","method":"POST","headers":[{"key":"a","value":"b"},{"key":"A","value":"b"}],"body":""}`)
	f.Fuzz(func(t *testing.T, tok string) {
		g, err := ParseSubjectToken(tok)
		if err != nil {
			if StageOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if g.URL == nil || g.Auth == nil {
			t.Fatal("accepted token without url or auth")
		}
		if len(g.RawHeaders) != len(g.Headers) {
			t.Fatalf("RawHeaders %d entries, Headers %d", len(g.RawHeaders), len(g.Headers))
		}
		for _, h := range g.RawHeaders {
			if v := g.Headers[http.CanonicalHeaderKey(h.Key)]; len(v) != 1 || v[0] != h.Value {
				t.Fatalf("header %q: RawHeaders %q, Headers %q", h.Key, h.Value, v)
			}
		}
		err = g.Check(Policy{Audience: testAudience, Now: time.Now()})
		if err == nil && !DefaultAllowedHost(g.URL.Host) {
			t.Fatalf("Check accepted host %q", g.URL.Host)
		}
	})
}

func FuzzParseGetCallerIdentityResponse(f *testing.F) {
	f.Add([]byte(gciXML))
	f.Add([]byte(gciJSON))
	f.Add([]byte(`<!DOCTYPE x><GetCallerIdentityResponse/>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := ParseGetCallerIdentityResponse(body)
		if err != nil {
			if StageOf(err) != StageResponse {
				t.Fatalf("wrong error %v", err)
			}
			return
		}
		if !accountRe.MatchString(id.Account) || id.UserID == "" {
			t.Fatalf("accepted invalid identity %+v", id)
		}
	})
}
