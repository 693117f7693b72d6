package awsreq

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	testAudience = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-aws"
	testSession  = "IQoJb3JpZ2luX2VjEKeyless+Session/Token=="
)

// tokenSpec describes a subject token the way one client would produce it.
type tokenSpec struct {
	client  string // python, go, node
	url     string
	method  string
	region  string
	service string
	headers []HeaderField // everything except Authorization, client spelling
	signed  []string
	ts      time.Time
	body    *string
	extra   string // raw JSON members appended to the object
	authz   func(string) []HeaderField
}

func newSpec(client string, ts time.Time) *tokenSpec {
	host := "sts.us-west-2.amazonaws.com"
	date := ts.UTC().Format(amzDateLayout)
	s := &tokenSpec{
		client: client, method: "POST", region: "us-west-2", service: "sts", ts: ts,
		url:    "https://" + host + "?Action=GetCallerIdentity&Version=2011-06-15",
		signed: []string{"host", "x-amz-date", "x-amz-security-token"},
	}
	keys := []string{"host", "x-amz-date", "x-amz-security-token", "x-goog-cloud-target-resource"}
	switch client {
	case "go":
		keys = []string{"Host", "X-Amz-Date", "X-Amz-Security-Token", "X-Goog-Cloud-Target-Resource"}
		s.signed = append(s.signed, "x-goog-cloud-target-resource")
	}
	for i, v := range []string{host, date, testSession, testAudience} {
		s.headers = append(s.headers, HeaderField{keys[i], v})
	}
	return s
}

func (s *tokenSpec) set(key, value string) *tokenSpec {
	for i, h := range s.headers {
		if strings.EqualFold(h.Key, key) {
			s.headers[i].Value = value
			return s
		}
	}
	s.headers = append(s.headers, HeaderField{key, value})
	return s
}

func (s *tokenSpec) del(key string) *tokenSpec {
	for i, h := range s.headers {
		if strings.EqualFold(h.Key, key) {
			s.headers = append(s.headers[:i], s.headers[i+1:]...)
			return s
		}
	}
	return s
}

func (s *tokenSpec) build(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, f := range s.headers {
		h.Add(f.Key, f.Value)
	}
	r := SignedRequest{Method: s.method, Host: h.Get("Host"), Path: u.EscapedPath(), RawQuery: u.RawQuery, Headers: h}
	if s.body != nil {
		r.Body = []byte(*s.body)
	}
	a := &Auth{Date: s.ts.UTC().Format("20060102"), Region: s.region, Service: s.service, SignedHeaders: s.signed, Timestamp: s.ts}
	sig, err := ComputeSignature(r, a, suiteSecret)
	if err != nil {
		t.Fatal(err)
	}
	authz := "AWS4-HMAC-SHA256 Credential=" + suiteAKID + "/" + a.Scope() + ", SignedHeaders=" + strings.Join(s.signed, ";") + ", Signature=" + hex.EncodeToString(sig)
	var hdrs []HeaderField
	if s.authz != nil {
		hdrs = s.authz(authz)
	} else {
		hdrs = []HeaderField{{"Authorization", authz}}
	}
	if s.client == "node" {
		hdrs[0].Key = strings.ToLower(hdrs[0].Key)
	}
	hdrs = append(hdrs, s.headers...)
	var hj []string
	for _, f := range hdrs {
		hj = append(hj, `{"key":`+jsonStr(s.client, f.Key)+`,"value":`+jsonStr(s.client, f.Value)+`}`)
	}
	headers := "[" + strings.Join(hj, ",") + "]"
	body := ""
	if s.body != nil {
		body = `,"body":` + jsonStr(s.client, *s.body)
	}
	var js string
	switch s.client {
	case "python": // sorted keys, compact
		js = `{"headers":` + headers + body + `,"method":` + jsonStr(s.client, s.method) + `,"url":` + jsonStr(s.client, s.url) + s.extra + `}`
		return pyQuote(js)
	case "go":
		js = `{"url":` + jsonStr(s.client, s.url) + `,"method":` + jsonStr(s.client, s.method) + `,"headers":` + headers + body + s.extra + `}`
		return url.QueryEscape(js)
	default:
		js = `{"url":` + jsonStr(s.client, s.url) + `,"method":` + jsonStr(s.client, s.method) + `,"headers":` + headers + body + s.extra + `}`
		return encodeURIComponent(js)
	}
}

// jsonStr encodes like the client: Go escapes '&' as \u0026, others do not.
func jsonStr(client, s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(client == "go")
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// pyQuote is urllib.parse.quote(s) with the default safe="/".
func pyQuote(s string) string { return escapeExcept(s, "/") }

// encodeURIComponent keeps unreserved plus !'()*.
func encodeURIComponent(s string) string { return escapeExcept(s, "!'()*") }

func escapeExcept(s, safe string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; isUnreserved(c) || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
		} else {
			writePct(&b, c)
		}
	}
	return b.String()
}

var tokenNow = time.Date(2026, 11, 22, 21, 3, 26, 0, time.UTC)

func testPolicy() Policy {
	return Policy{Audience: testAudience, Now: tokenNow.Add(time.Minute)}
}

func TestSubjectTokenClients(t *testing.T) {
	t.Parallel()
	for _, client := range []string{"python", "go", "node"} {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			tok := newSpec(client, tokenNow).build(t)
			if client == "go" && !strings.Contains(tok, "%5Cu0026") {
				t.Fatal("go token should carry \\u0026")
			}
			if client != "go" && strings.Contains(tok, "+") {
				t.Fatal("python/node tokens never carry a literal +")
			}
			// The token travels form-encoded: round-trip it through a form.
			form, err := url.ParseQuery(url.Values{"subject_token": {tok + "\n"}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			g, err := ParseSubjectToken(form.Get("subject_token"))
			if err != nil {
				t.Fatalf("ParseSubjectToken: %v", err)
			}
			if err := g.Check(testPolicy()); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if g.Auth.SessionToken != testSession || g.Auth.Region != "us-west-2" || len(g.RawHeaders) != 5 {
				t.Fatalf("parsed %+v / %+v", g.Auth, g.RawHeaders)
			}
			if err := Verify(g.SignedRequest(), g.Auth, suiteSecret, tokenNow, 0); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// Already-decoded JSON is accepted as is.
			raw, err := url.QueryUnescape(tok)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseSubjectToken(raw); err != nil {
				t.Fatalf("raw JSON: %v", err)
			}
			// The https:// form of the audience is accepted in either place.
			https := testPolicy()
			https.Audience = "https:" + testAudience
			if err := g.Check(https); err != nil {
				t.Fatalf("https audience: %v", err)
			}
			signedBinding := testPolicy()
			signedBinding.RequireSignedBinding = true
			err = g.Check(signedBinding)
			if client == "go" && err != nil {
				t.Fatalf("go signs the binding: %v", err)
			}
			if client != "go" && StageOf(err) != StageBinding {
				t.Fatalf("unsigned binding with RequireSignedBinding: %v", err)
			}
		})
	}
}

// TestSubjectTokenGlobalHost: the global endpoint, reordered query and "/" path.
func TestSubjectTokenGlobalHost(t *testing.T) {
	t.Parallel()
	s := newSpec("python", tokenNow)
	s.url = "https://sts.amazonaws.com/?Version=2011-06-15&Action=GetCallerIdentity"
	s.region = "us-east-1"
	s.set("host", "sts.amazonaws.com")
	g, err := ParseSubjectToken(s.build(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Check(testPolicy()); err != nil {
		t.Fatal(err)
	}
}

func TestSubjectTokenNegative(t *testing.T) {
	t.Parallel()
	withHost := func(rawURL, host string) func(*tokenSpec) {
		return func(s *tokenSpec) { s.url = rawURL; s.set("host", host) }
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		client  string
		mutate  func(*tokenSpec)
		policy  func(*Policy)
		stage   Stage
		atParse bool
	}{
		{name: "binding missing", mutate: func(s *tokenSpec) { s.del("x-goog-cloud-target-resource") }, stage: StageBinding},
		{name: "binding wrong", mutate: func(s *tokenSpec) { s.set("x-goog-cloud-target-resource", testAudience+"x") }, stage: StageBinding},
		{name: "binding other provider", client: "go", mutate: func(s *tokenSpec) {
			s.set("x-goog-cloud-target-resource", strings.Replace(testAudience, "my-aws", "other", 1))
		}, stage: StageBinding},
		{name: "binding http scheme", mutate: func(s *tokenSpec) { s.set("x-goog-cloud-target-resource", "http:"+testAudience) }, stage: StageBinding},
		{name: "look-alike suffix", mutate: withHost("https://sts.amazonaws.com.evil.com?Action=GetCallerIdentity&Version=2011-06-15", "sts.amazonaws.com.evil.com"), stage: StageHost},
		{name: "look-alike dash", mutate: withHost("https://sts-amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15", "sts-amazonaws.com"), stage: StageHost},
		{name: "other host", mutate: withHost("https://evil.example?Action=GetCallerIdentity&Version=2011-06-15", "evil.example"), stage: StageHost},
		{name: "iam host", mutate: withHost("https://iam.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15", "iam.amazonaws.com"), stage: StageHost},
		{name: "fake region", mutate: withHost("https://sts.evil.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15", "sts.evil.amazonaws.com"), stage: StageHost},
		{name: "uppercase host", mutate: withHost("https://STS.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15", "STS.amazonaws.com"), stage: StageHost},
		{name: "trailing dot", mutate: withHost("https://sts.amazonaws.com.?Action=GetCallerIdentity&Version=2011-06-15", "sts.amazonaws.com."), stage: StageHost},
		{name: "port", mutate: withHost("https://sts.us-west-2.amazonaws.com:443?Action=GetCallerIdentity&Version=2011-06-15", "sts.us-west-2.amazonaws.com:443"), stage: StageHost},
		{name: "empty port", mutate: withHost("https://sts.us-west-2.amazonaws.com:?Action=GetCallerIdentity&Version=2011-06-15", "sts.us-west-2.amazonaws.com:"), stage: StageHost},
		{name: "userinfo", mutate: withHost("https://sts.us-west-2.amazonaws.com@evil.example?Action=GetCallerIdentity&Version=2011-06-15", "evil.example"), stage: StageHost},
		{name: "userinfo before sts", mutate: withHost("https://evil@sts.us-west-2.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15", "sts.us-west-2.amazonaws.com"), stage: StageHost},
		{name: "ipv4 literal", mutate: withHost("https://169.254.169.254?Action=GetCallerIdentity&Version=2011-06-15", "169.254.169.254"), stage: StageHost},
		{name: "ipv6 literal", mutate: withHost("https://[::1]?Action=GetCallerIdentity&Version=2011-06-15", "[::1]"), stage: StageHost},
		{name: "http scheme", mutate: func(s *tokenSpec) { s.url = strings.Replace(s.url, "https:", "http:", 1) }, stage: StageHost},
		{name: "fragment", mutate: func(s *tokenSpec) { s.url += "#x" }, stage: StageHost},
		{name: "host header differs", mutate: func(s *tokenSpec) { s.set("host", "sts.us-east-1.amazonaws.com") }, stage: StageHost},
		{name: "GetSessionToken", mutate: func(s *tokenSpec) { s.url = strings.Replace(s.url, "GetCallerIdentity", "GetSessionToken", 1) }, stage: StageAction},
		{name: "no action", mutate: func(s *tokenSpec) { s.url = "https://sts.us-west-2.amazonaws.com?Version=2011-06-15" }, stage: StageAction},
		{name: "extra param", mutate: func(s *tokenSpec) { s.url += "&RoleArn=x" }, stage: StageAction},
		{name: "duplicate action", mutate: func(s *tokenSpec) {
			s.url = "https://sts.us-west-2.amazonaws.com?Action=GetCallerIdentity&Action=GetCallerIdentity"
		}, stage: StageAction},
		{name: "wrong version", mutate: func(s *tokenSpec) { s.url = strings.Replace(s.url, "2011-06-15", "2012-01-01", 1) }, stage: StageAction},
		{name: "encoded action", mutate: func(s *tokenSpec) { s.url = strings.Replace(s.url, "GetCallerIdentity", "GetCaller%49dentity", 1) }, stage: StageAction},
		{name: "path", mutate: func(s *tokenSpec) { s.url = strings.Replace(s.url, ".com?", ".com/x?", 1) }, stage: StageAction},
		{name: "GET", mutate: func(s *tokenSpec) { s.method = "GET" }, stage: StageAction},
		{name: "lowercase post", mutate: func(s *tokenSpec) { s.method = "post" }, stage: StageAction},
		{name: "body", mutate: func(s *tokenSpec) { s.body = str("Action=GetSessionToken") }, stage: StageAction},
		{name: "stale x-amz-date", mutate: func(s *tokenSpec) {
			s.ts = tokenNow.Add(-20 * time.Minute)
			s.set("x-amz-date", s.ts.Format(amzDateLayout))
		}, stage: StageDate},
		{name: "future x-amz-date", mutate: func(s *tokenSpec) {
			s.ts = tokenNow.Add(20 * time.Minute)
			s.set("x-amz-date", s.ts.Format(amzDateLayout))
		}, stage: StageDate},
		{name: "region mismatch", mutate: func(s *tokenSpec) { s.region = "us-east-1" }, stage: StageSignature},
		{name: "service iam", mutate: func(s *tokenSpec) { s.service = "iam" }, stage: StageSignature},
		{name: "extra header", mutate: func(s *tokenSpec) { s.set("X-Forwarded-For", "1.2.3.4") }, stage: StageFormat},
		{name: "split Authorization", mutate: func(s *tokenSpec) {
			s.authz = func(a string) []HeaderField {
				x, y, _ := strings.Cut(a, ", Signature=")
				return []HeaderField{{"Authorization", x}, {"Authorization", "Signature=" + y}}
			}
		}, stage: StageFormat, atParse: true},
		{name: "Authorization case twin", mutate: func(s *tokenSpec) {
			s.authz = func(a string) []HeaderField { return []HeaderField{{"Authorization", a}, {"authorization", a}} }
		}, stage: StageFormat, atParse: true},
		{name: "no Authorization", mutate: func(s *tokenSpec) {
			s.authz = func(string) []HeaderField { return []HeaderField{{"X-Amz-Content-Sha256", emptySHA256Hex}} }
		}, stage: StageFormat, atParse: true},
		{name: "header CRLF", mutate: func(s *tokenSpec) { s.set("x-goog-cloud-target-resource", testAudience+"\r\nX-Evil: 1") }, stage: StageFormat, atParse: true},
		{name: "header bad name", mutate: func(s *tokenSpec) { s.set("Bad Name", "x") }, stage: StageFormat, atParse: true},
		{name: "unknown member", mutate: func(s *tokenSpec) { s.extra = `,"foo":1` }, stage: StageFormat, atParse: true},
		{name: "duplicate url", mutate: func(s *tokenSpec) { s.extra = `,"url":"https://evil.example"` }, stage: StageFormat, atParse: true},
		{name: "duplicate method", mutate: func(s *tokenSpec) { s.extra = `,"method":"GET"` }, stage: StageFormat, atParse: true},
		{name: "no audience in policy", policy: func(p *Policy) { p.Audience = "" }, stage: StagePolicy},
		{name: "no clock in policy", policy: func(p *Policy) { p.Now = time.Time{} }, stage: StagePolicy},
		{name: "custom allowlist refuses", policy: func(p *Policy) { p.AllowedHosts = func(string) bool { return false } }, stage: StageHost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client := tc.client
			if client == "" {
				client = "python"
			}
			s := newSpec(client, tokenNow)
			if tc.mutate != nil {
				tc.mutate(s)
			}
			g, err := ParseSubjectToken(s.build(t))
			if tc.atParse {
				if StageOf(err) != tc.stage {
					t.Fatalf("ParseSubjectToken = %v, want stage %s", err, tc.stage)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSubjectToken: %v", err)
			}
			p := testPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			err = g.Check(p)
			if StageOf(err) != tc.stage {
				t.Fatalf("Check = %v, want stage %s", err, tc.stage)
			}
			var e *Error
			if !errorsAs(err, &e) || e.PublicMessage() == "" || strings.Contains(e.Error(), testSession) {
				t.Fatalf("bad error %v", err)
			}
		})
	}
}

func TestParseSubjectTokenMalformed(t *testing.T) {
	t.Parallel()
	good, err := url.QueryUnescape(newSpec("node", tokenNow).build(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"empty":          "",
		"not json":       "hello",
		"bad escape":     "%7B%zz",
		"array":          "[1]",
		"truncated":      good[:len(good)-1],
		"trailing":       good + "{}",
		"oversized":      good + strings.Repeat(" ", MaxSubjectTokenSize),
		"no headers":     `{"url":"https://sts.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15","method":"POST"}`,
		"headers null":   `{"url":"u","method":"POST","headers":null}`,
		"method number":  `{"url":"u","method":1,"headers":[]}`,
		"header no val":  `{"url":"u","method":"POST","headers":[{"key":"a"}]}`,
		"header extra":   `{"url":"u","method":"POST","headers":[{"key":"a","value":"b","x":"y"}]}`,
		"header dup key": `{"url":"u","method":"POST","headers":[{"key":"a","key":"b","value":"c"}]}`,
		"bad url":        `{"url":"https://a b:x","method":"POST","headers":[]}`,
		"invalid utf8":   "{\"url\":\"\xff\",\"method\":\"POST\",\"headers\":[]}",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseSubjectToken(tok); StageOf(err) != StageFormat {
				t.Fatalf("got %v, want format", err)
			}
		})
	}
}

func TestDefaultAllowedHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"sts.amazonaws.com": true, "sts.us-east-1.amazonaws.com": true, "sts.us-gov-west-1.amazonaws.com": true,
		"sts.ap-southeast-2.amazonaws.com": true, "sts.amazonaws.com.evil.com": false, "sts-amazonaws.com": false,
		"xsts.amazonaws.com": false, "sts.us-east-1.amazonaws.com.cn": false, "sts.us-east-1.amazonaws.co": false,
		"sts.us-east.amazonaws.com": false, "sts..amazonaws.com": false, "sts.us-east-1.evil.amazonaws.com": false,
	} {
		if got := DefaultAllowedHost(host); got != want {
			t.Errorf("DefaultAllowedHost(%q) = %v", host, got)
		}
	}
}

// BenchmarkParseSubjectToken measures the per-exchange parse of each client's
// encoding (URL-unescape, strict JSON, header checks, ParseAuth).
func BenchmarkParseSubjectToken(b *testing.B) {
	for _, client := range []string{"python", "go", "node"} {
		b.Run(client, func(b *testing.B) {
			tok := newSpec(client, tokenNow).build(b)
			b.ReportAllocs()
			b.SetBytes(int64(len(tok)))
			for b.Loop() {
				if _, err := ParseSubjectToken(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
