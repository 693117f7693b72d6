package awsreq

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// signHeader signs r in header mode with the suite secret at ts and sets
// Authorization and X-Amz-Date.
func signHeader(t testing.TB, r *SignedRequest, region, service string, signed []string, ts time.Time) {
	t.Helper()
	r.Headers.Set("X-Amz-Date", ts.UTC().Format(amzDateLayout))
	a := &Auth{AccessKeyID: suiteAKID, Date: ts.UTC().Format("20060102"), Region: region, Service: service, SignedHeaders: signed, Timestamp: ts}
	sig, err := ComputeSignature(*r, a, suiteSecret)
	if err != nil {
		t.Fatal(err)
	}
	r.Headers.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+suiteAKID+"/"+a.Scope()+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+hex.EncodeToString(sig))
}

func vanillaPOST(t testing.TB) SignedRequest {
	t.Helper()
	r := SignedRequest{
		Method: "POST", Host: "sts.us-east-1.amazonaws.com", Path: "/", RawQuery: "Foo=bar",
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Amz-Security-Token": {"FwoGZXIvYXdzEXAMPLE"}},
		Body:    []byte("Action=GetCallerIdentity&Version=2011-06-15"),
	}
	signHeader(t, &r, "us-east-1", "sts", []string{"content-type", "host", "x-amz-date", "x-amz-security-token"}, suiteTime)
	return r
}

func TestVerifyPositive(t *testing.T) {
	t.Parallel()
	r := vanillaPOST(t)
	a, err := ParseAuth(r)
	if err != nil {
		t.Fatal(err)
	}
	if a.SessionToken != "FwoGZXIvYXdzEXAMPLE" || a.Region != "us-east-1" || a.Service != "sts" || !a.Timestamp.Equal(suiteTime) {
		t.Fatalf("auth = %+v", a)
	}
	for _, now := range []time.Time{suiteTime, suiteTime.Add(15 * time.Minute), suiteTime.Add(-15 * time.Minute)} {
		if err := Verify(r, a, suiteSecret, now, 0); err != nil {
			t.Fatalf("now=%v: %v", now, err)
		}
	}
	// Unsigned extra headers do not break SigV4.
	r.Headers.Set("Accept", "application/json")
	if err := Verify(r, a, suiteSecret, suiteTime, 0); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNegative(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(r *SignedRequest)
		secret  string
		now     time.Time
		skew    time.Duration
		stage   Stage
		atParse bool
	}{
		{name: "tampered body", mutate: func(r *SignedRequest) { r.Body = append(r.Body, '&', 'x') }, stage: StageSignature},
		{name: "tampered signed header", mutate: func(r *SignedRequest) { r.Headers.Set("Content-Type", "text/plain") }, stage: StageSignature},
		{name: "duplicated signed header", mutate: func(r *SignedRequest) { r.Headers.Add("Content-Type", "text/plain") }, stage: StageSignature},
		{name: "tampered query", mutate: func(r *SignedRequest) { r.RawQuery = "Foo=baz" }, stage: StageSignature},
		{name: "extra query param", mutate: func(r *SignedRequest) { r.RawQuery += "&Action=GetSessionToken" }, stage: StageSignature},
		{name: "tampered path", mutate: func(r *SignedRequest) { r.Path = "/x" }, stage: StageSignature},
		{name: "tampered method", mutate: func(r *SignedRequest) { r.Method = "PUT" }, stage: StageSignature},
		{name: "tampered host", mutate: func(r *SignedRequest) { r.Host = "sts.us-west-2.amazonaws.com" }, stage: StageSignature},
		{name: "tampered token", mutate: func(r *SignedRequest) { r.Headers.Set("X-Amz-Security-Token", "other") }, stage: StageSignature},
		{name: "wrong secret", secret: suiteSecret + "x", stage: StageSignature},
		{name: "stale date", now: suiteTime.Add(15*time.Minute + time.Second), stage: StageDate},
		{name: "future date", now: suiteTime.Add(-15*time.Minute - time.Second), stage: StageDate},
		{name: "small skew", now: suiteTime.Add(2 * time.Minute), skew: time.Minute, stage: StageDate},
		{name: "content sha mismatch", mutate: func(r *SignedRequest) { r.Headers.Set("X-Amz-Content-Sha256", emptySHA256Hex) }, stage: StageSignature},
		{name: "no host", mutate: func(r *SignedRequest) { r.Host = "" }, stage: StageFormat, atParse: true},
		{name: "host header disagrees", mutate: func(r *SignedRequest) { r.Headers.Set("Host", "evil.example") }, stage: StageFormat, atParse: true},
		{name: "bad query escape", mutate: func(r *SignedRequest) { r.RawQuery = "a=%zz" }, stage: StageFormat, atParse: true},
		{name: "bad method", mutate: func(r *SignedRequest) { r.Method = "PO ST" }, stage: StageFormat},
		{name: "signed header removed", mutate: func(r *SignedRequest) { r.Headers.Del("Content-Type") }, stage: StageSignature, atParse: true},
		{name: "unsigned session token", mutate: func(r *SignedRequest) {
			signHeader(t, r, "us-east-1", "sts", []string{"content-type", "host", "x-amz-date"}, suiteTime)
		}, stage: StageSignature, atParse: true},
		{name: "duplicate Authorization", mutate: func(r *SignedRequest) { r.Headers.Add("Authorization", r.Headers.Get("Authorization")) }, stage: StageFormat, atParse: true},
		{name: "split Authorization", mutate: func(r *SignedRequest) {
			a, b, _ := strings.Cut(r.Headers.Get("Authorization"), ", Signature=")
			r.Headers["Authorization"] = []string{a, "Signature=" + b}
		}, stage: StageFormat, atParse: true},
		{name: "no Authorization", mutate: func(r *SignedRequest) { r.Headers.Del("Authorization") }, stage: StageFormat, atParse: true},
		{name: "no x-amz-date", mutate: func(r *SignedRequest) { r.Headers.Del("X-Amz-Date") }, stage: StageDate, atParse: true},
		{name: "two x-amz-date", mutate: func(r *SignedRequest) { r.Headers.Add("X-Amz-Date", "20150830T123600Z") }, stage: StageDate, atParse: true},
		{name: "malformed x-amz-date", mutate: func(r *SignedRequest) { r.Headers.Set("X-Amz-Date", "2015-08-30T12:36:00Z") }, stage: StageDate, atParse: true},
		{name: "x-amz-date other day", mutate: func(r *SignedRequest) { r.Headers.Set("X-Amz-Date", "20150831T123600Z") }, stage: StageDate, atParse: true},
		{name: "two session tokens", mutate: func(r *SignedRequest) { r.Headers.Add("X-Amz-Security-Token", "x") }, stage: StageFormat, atParse: true},
		{name: "both header and query auth", mutate: func(r *SignedRequest) { r.RawQuery += "&X-Amz-Signature=00" }, stage: StageFormat, atParse: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := vanillaPOST(t)
			if tc.mutate != nil {
				tc.mutate(&r)
			}
			secret, now := suiteSecret, suiteTime
			if tc.secret != "" {
				secret = tc.secret
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			a, err := ParseAuth(r)
			if tc.atParse {
				if StageOf(err) != tc.stage {
					t.Fatalf("ParseAuth = %v, want stage %s", err, tc.stage)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAuth: %v", err)
			}
			if err := Verify(r, a, secret, now, tc.skew); StageOf(err) != tc.stage {
				t.Fatalf("Verify = %v, want stage %s", err, tc.stage)
			}
		})
	}
}

func TestParseAuthorizationNegative(t *testing.T) {
	t.Parallel()
	const sig = "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
	const cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request"
	const sh = "SignedHeaders=host;x-amz-date"
	good := "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + sig
	tests := map[string]struct {
		authz string
		stage Stage
	}{
		"wrong algorithm":       {"AWS4-HMAC-SHA1 " + cred + ", " + sh + ", Signature=" + sig, StageFormat},
		"lowercase algorithm":   {"aws4-hmac-sha256 " + cred + ", " + sh + ", Signature=" + sig, StageFormat},
		"sigv4a":                {"AWS4-ECDSA-P256-SHA256 " + cred + ", " + sh + ", Signature=" + sig, StageSignature},
		"no params":             {"AWS4-HMAC-SHA256", StageFormat},
		"scope four parts":      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"scope six parts":       {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/x/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"scope bad terminator":  {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_requesT, " + sh + ", Signature=" + sig, StageFormat},
		"scope bad date":        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20151330/us-east-1/sts/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"scope short date":      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/sts/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"scope upper region":    {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/US-EAST-1/sts/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"scope empty service":   {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1//aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"scope bad akid":        {"AWS4-HMAC-SHA256 Credential=AKID+X/20150830/us-east-1/sts/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"scope empty akid":      {"AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/sts/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
		"sig uppercase":         {"AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.ToUpper(sig), StageFormat},
		"sig short":             {"AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + sig[:63], StageFormat},
		"sig long":              {"AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + sig + "0", StageFormat},
		"sig not hex":           {"AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + sig[:63] + "g", StageFormat},
		"no host signed":        {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, Signature=" + sig, StageSignature},
		"no x-amz-date signed":  {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig, StageSignature},
		"unsorted headers":      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, Signature=" + sig, StageFormat},
		"duplicate header":      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host;x-amz-date, Signature=" + sig, StageFormat},
		"uppercase header":      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, Signature=" + sig, StageFormat},
		"empty header entry":    {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, Signature=" + sig, StageFormat},
		"duplicate param":       {good + ", Signature=" + sig, StageFormat},
		"unknown param":         {good + ", Foo=bar", StageFormat},
		"missing signature":     {"AWS4-HMAC-SHA256 " + cred + ", " + sh, StageFormat},
		"param without equals":  {good + ", junk", StageFormat},
		"lowercase param names": {"AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, " + sh + ", Signature=" + sig, StageFormat},
	}
	base := func(authz string) SignedRequest {
		return SignedRequest{Method: "GET", Host: "h", Path: "/", Headers: http.Header{"X-Amz-Date": {"20150830T123600Z"}, "Authorization": {authz}}}
	}
	if _, err := ParseAuth(base(good)); err != nil {
		t.Fatalf("control: %v", err)
	}
	// Any order of the three parameters and no space after commas are fine.
	if _, err := ParseAuth(base("AWS4-HMAC-SHA256 Signature=" + sig + "," + sh + "," + cred)); err != nil {
		t.Fatalf("reordered: %v", err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAuth(base(tc.authz))
			if StageOf(err) != tc.stage {
				t.Fatalf("got %v, want stage %s", err, tc.stage)
			}
			if strings.Contains(err.Error(), sig) {
				t.Fatal("error text leaks the signature")
			}
		})
	}
}

// presigned returns a presigned GET GetCallerIdentity URL request.
func presigned(t testing.TB, expires string, extra string) SignedRequest {
	t.Helper()
	q := "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z" +
		"&X-Amz-Expires=" + expires + "&X-Amz-SignedHeaders=host" + extra
	r := SignedRequest{Method: "GET", Host: "sts.amazonaws.com", Path: "/", RawQuery: q, Headers: http.Header{}}
	a := &Auth{AccessKeyID: suiteAKID, Date: "20150830", Region: "us-east-1", Service: "sts", SignedHeaders: []string{"host"}, Timestamp: suiteTime, Presigned: true}
	sig, err := ComputeSignature(r, a, suiteSecret)
	if err != nil {
		t.Fatal(err)
	}
	r.RawQuery += "&X-Amz-Signature=" + hex.EncodeToString(sig)
	return r
}

func TestPresigned(t *testing.T) {
	t.Parallel()
	r := presigned(t, "60", "")
	a, err := ParseAuth(r)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Presigned || a.Expires != time.Minute {
		t.Fatalf("auth = %+v", a)
	}
	if err := Verify(r, a, suiteSecret, suiteTime.Add(59*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if err := Verify(r, a, suiteSecret, suiteTime.Add(61*time.Second), 0); StageOf(err) != StageDate {
		t.Fatalf("expired: %v", err)
	}
	if err := Verify(r, a, suiteSecret, suiteTime.Add(-16*time.Minute), 0); StageOf(err) != StageDate {
		t.Fatalf("future: %v", err)
	}
	tampered := r
	tampered.RawQuery = strings.Replace(r.RawQuery, "GetCallerIdentity", "GetSessionToken", 1)
	if err := Verify(tampered, a, suiteSecret, suiteTime, 0); StageOf(err) != StageSignature {
		t.Fatalf("tampered: %v", err)
	}
	withToken := presigned(t, "60", "&X-Amz-Security-Token=tok%2B1")
	a2, err := ParseAuth(withToken)
	if err != nil || a2.SessionToken != "tok+1" {
		t.Fatalf("token: %v %+v", err, a2)
	}
	if err := Verify(withToken, a2, suiteSecret, suiteTime, 0); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		r     SignedRequest
		stage Stage
	}{
		"expires zero":      {presigned(t, "0", ""), StageDate},
		"expires too large": {presigned(t, "604801", ""), StageDate},
		"expires padded":    {presigned(t, "060", ""), StageDate},
		"expires text":      {presigned(t, "1h", ""), StageDate},
		"duplicate date":    {presigned(t, "60", "&X-Amz-Date=20150830T123600Z"), StageFormat},
		"duplicate token":   {presigned(t, "60", "&X-Amz-Security-Token=a&X-Amz-Security-Token=b"), StageFormat},
		"wrong algorithm": {func() SignedRequest {
			r := presigned(t, "60", "")
			r.RawQuery = strings.Replace(r.RawQuery, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1)
			return r
		}(), StageFormat},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseAuth(tc.r); StageOf(err) != tc.stage {
				t.Fatalf("got %v, want %s", err, tc.stage)
			}
		})
	}
	// Without X-Amz-Expires (aws-sdk-go-v2's presigned GetCallerIdentity) the URL is
	// valid for 15 minutes.
	noExp := presigned(t, "60", "")
	noExp.RawQuery = strings.Replace(noExp.RawQuery, "&X-Amz-Expires=60", "", 1)
	if na, err := ParseAuth(noExp); err != nil || na.Expires != DefaultPresignExpires {
		t.Fatalf("missing X-Amz-Expires: %v", err)
	}
	if err := Verify(r, a, suiteSecret, time.Time{}, 0); StageOf(err) != StagePolicy {
		t.Fatalf("zero now: %v", err)
	}
	if err := Verify(r, a, "", suiteTime, 0); StageOf(err) != StagePolicy {
		t.Fatalf("empty secret: %v", err)
	}
	if err := Verify(r, &Auth{}, suiteSecret, suiteTime, 0); StageOf(err) != StageFormat {
		t.Fatalf("empty auth: %v", err)
	}
}

// TestCanonicalPieces pins the rules the suites cover only partly.
func TestCanonicalPieces(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                 "/",
		"/":                "/",
		"/p%20q/%C3%BC=x/": "/p%2520q/%25C3%25BC%3Dx/",
		"/a/./b/../c":      "/a/c",
		"/a/b/..":          "/a/",
		"/../..":           "/",
		"//a//b//":         "/a/b/",
		"/a+b":             "/a%2Bb",
		"/-._~AZaz09":      "/-._~AZaz09",
	} {
		if got := canonicalURI(in, true); got != want {
			t.Errorf("canonicalURI(%q) = %q, want %q", in, got, want)
		}
	}
	q, err := parseQuery("b=2&a=%2B&a=+&&c&d=")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonicalQuery(q, false), "a=%2B&a=%2B&b=2&c=&d="; got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
	for in, want := range map[string]string{"  a   b \t c  ": "a b c", "x": "x", "   ": "", "a\n  b": "a b"} {
		if got := foldSpaces(in); got != want {
			t.Errorf("foldSpaces(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := CanonicalRequest(SignedRequest{Method: "GET"}, nil); StageOf(err) != StageFormat {
		t.Fatalf("nil auth: %v", err)
	}
	a := &Auth{SignedHeaders: []string{"host"}}
	if _, err := CanonicalRequest(SignedRequest{Method: "GET"}, a); StageOf(err) != StageSignature {
		t.Fatalf("no host: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	r := vanillaPOST(b)
	a, err := ParseAuth(r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(r, a, suiteSecret, suiteTime, 0); err != nil {
			b.Fatal(err)
		}
	}
}
