package awsreq

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"
)

var stsHosts = []string{"sts.amazonaws.com", "sts.us-east-1.amazonaws.com", "sts.us-west-2.amazonaws.com"}

var wantIdentity = CallerIdentity{Arn: "arn:aws:sts::012345678901:assumed-role/keyless-role/demo", Account: "012345678901", UserID: "AROAKEYLESSROLEEXAMPLE:demo"}

// testCert is a self-signed certificate for names, and a pool trusting it.
type testCert struct {
	cert tls.Certificate
	pool *x509.CertPool
}

func newTestCert(t testing.TB, names ...string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "keyless test STS"},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return testCert{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool: pool}
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// fakeSTS is a loopback TLS server standing in for AWS STS.
type fakeSTS struct {
	srv      *httptest.Server
	accepts  atomic.Int64
	requests atomic.Int64
}

func newFakeSTS(t *testing.T, c testCert, h http.HandlerFunc) *fakeSTS {
	t.Helper()
	fs := &fakeSTS{}
	fs.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		h(w, r)
	}))
	fs.srv.Listener = countingListener{Listener: fs.srv.Listener, n: &fs.accepts}
	fs.srv.TLS = &tls.Config{Certificates: []tls.Certificate{c.cert}}
	fs.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	fs.srv.StartTLS()
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeSTS) addr() string { return strings.TrimPrefix(fs.srv.URL, "https://") }

// forwarderFor maps every STS host (and extra) to fs, trusting pool.
func forwarderFor(t *testing.T, fs *fakeSTS, pool *x509.CertPool, extra ...string) *Forwarder {
	t.Helper()
	ov := map[string]string{}
	for _, h := range append(append([]string{}, stsHosts...), extra...) {
		ov[h+":443"] = fs.addr()
	}
	f := &Forwarder{DialOverrides: ov, RootCAs: pool, Timeout: 5 * time.Second}
	t.Cleanup(f.CloseIdleConnections)
	return f
}

// verifyingSTS checks the SigV4 signature with the known secret, as AWS
// would, and answers with the GetCallerIdentity XML.
func verifyingSTS(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
			return
		}
		for k := range r.Header {
			switch k {
			case "Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Goog-Cloud-Target-Resource", "User-Agent", "Content-Length":
			default:
				t.Errorf("unexpected header %s: %q", k, r.Header[k])
			}
		}
		if r.Method != http.MethodPost || r.URL.Path != "/" || len(body) != 0 || r.Header.Get("User-Agent") != "keyless" {
			t.Errorf("request %s %s body %q UA %q", r.Method, r.URL, body, r.Header.Get("User-Agent"))
		}
		sr := SignedRequest{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Headers: r.Header.Clone(), Body: body}
		a, err := ParseAuth(sr)
		if err != nil {
			writeAWSError(w, 400, "Sender", "IncompleteSignature", "bad auth")
			return
		}
		if err := Verify(sr, a, suiteSecret, tokenNow, 0); err != nil {
			// Echo the credential the way a verbose upstream might: Forward must redact it.
			writeAWSError(w, 403, "Sender", "SignatureDoesNotMatch",
				"The request signature we calculated does not match. token="+r.Header.Get("X-Amz-Security-Token")+
					" authz="+r.Header.Get("Authorization")+"\nThe Canonical String for this request should have been ...")
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, gciXML)
	}
}

func awsErrorXML(typ, code, msg string) string {
	var b strings.Builder
	b.WriteString(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>` + typ + `</Type><Code>` + code + `</Code><Message>`)
	xmlEscape(&b, msg)
	b.WriteString(`</Message></Error><RequestId>26603485-0bd5-11ea-a642-b7dfa91cf04b</RequestId></ErrorResponse>`)
	return b.String()
}

func xmlEscape(b *strings.Builder, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	b.WriteString(r.Replace(s))
}

func writeAWSError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	io.WriteString(w, awsErrorXML(typ, code, msg))
}

// checkedGCI builds a client token and returns it parsed and Checked.
func checkedGCI(t *testing.T, s *tokenSpec) *GCIRequest {
	t.Helper()
	g, err := ParseSubjectToken(s.build(t))
	if err != nil {
		t.Fatalf("ParseSubjectToken: %v", err)
	}
	if err := g.Check(testPolicy()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	return g
}

// assertNoSecrets fails if err's text leaks the credential of g.
func assertNoSecrets(t *testing.T, g *GCIRequest, err error) {
	t.Helper()
	text := err.Error()
	var e *Error
	if errors.As(err, &e) {
		text += e.PublicMessage()
	}
	for _, s := range []string{testSession, g.Headers.Get("Authorization"), hex.EncodeToString(g.Auth.Signature), suiteSecret} {
		if strings.Contains(text, s) {
			t.Fatalf("error text leaks a secret: %s", text)
		}
	}
}

func TestForwardSuccess(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, stsHosts...)
	global := func() *tokenSpec {
		s := newSpec("go", tokenNow)
		s.url = "https://sts.amazonaws.com/?Version=2011-06-15&Action=GetCallerIdentity"
		s.region = "us-east-1"
		return s.set("Host", "sts.amazonaws.com")
	}
	for name, spec := range map[string]func() *tokenSpec{
		"python": func() *tokenSpec { return newSpec("python", tokenNow) },
		"go":     func() *tokenSpec { return newSpec("go", tokenNow) },
		"node":   func() *tokenSpec { return newSpec("node", tokenNow) },
		"global": global,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeSTS(t, cert, verifyingSTS(t))
			f := forwarderFor(t, fs, cert.pool)
			g := checkedGCI(t, spec())
			for range 3 {
				id, err := f.Forward(context.Background(), g)
				if err != nil {
					t.Fatalf("Forward: %v", err)
				}
				if *id != wantIdentity {
					t.Fatalf("identity %+v", id)
				}
			}
			// One client, kept alive: three requests over one connection.
			if fs.requests.Load() != 3 || fs.accepts.Load() != 1 {
				t.Fatalf("requests %d accepts %d", fs.requests.Load(), fs.accepts.Load())
			}
		})
	}
}

// TestForwardTamperedSignature proves the fake STS really verifies: a signed
// header changed after signing is refused, and AWS's echo is redacted.
func TestForwardTamperedSignature(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, stsHosts...)
	fs := newFakeSTS(t, cert, verifyingSTS(t))
	f := forwarderFor(t, fs, cert.pool)
	for _, mutate := range []func(*GCIRequest){
		func(g *GCIRequest) { g.RawHeaders[3].Value = testSession + "x" },       // x-amz-security-token
		func(g *GCIRequest) { g.RawHeaders[2].Value = "20261122T210327Z" },      // x-amz-date
		func(g *GCIRequest) { g.RawHeaders[4].Value = testAudience + "-other" }, // binding (signed by go)
	} {
		g := checkedGCI(t, newSpec("go", tokenNow))
		mutate(g)
		_, err := f.Forward(context.Background(), g)
		var ue *UpstreamError
		if StageOf(err) != StageSignature || !errors.As(err, &ue) || ue.Code != "SignatureDoesNotMatch" || ue.Status != 403 {
			t.Fatalf("tampered request: %v", err)
		}
		if errors.Is(err, ErrUpstreamUnavailable) || !strings.Contains(ue.Message, "[redacted]") || strings.Contains(ue.Message, "Canonical") {
			t.Fatalf("message %q", ue.Message)
		}
		assertNoSecrets(t, g, err)
	}
}

type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(gciXML)), Request: r}, nil
}

func (rt *recordingTransport) count() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.reqs)
}

// TestForwardRequestShape checks the http.Request handed to the transport:
// the client's header spelling and values, Host, URL, no body, no extras.
func TestForwardRequestShape(t *testing.T) {
	t.Parallel()
	for _, client := range []string{"python", "go", "node"} {
		rt := &recordingTransport{}
		f := &Forwarder{Transport: rt}
		g := checkedGCI(t, newSpec(client, tokenNow))
		if _, err := f.Forward(context.Background(), g); err != nil {
			t.Fatal(err)
		}
		r := rt.reqs[0]
		want := http.Header{"User-Agent": {"keyless"}}
		for _, h := range g.RawHeaders {
			if !strings.EqualFold(h.Key, "Host") {
				want[h.Key] = []string{h.Value}
			}
		}
		if r.Method != "POST" || r.URL.String() != g.URL.String() || r.Host != "sts.us-west-2.amazonaws.com" || r.ContentLength != 0 || r.Body != http.NoBody {
			t.Fatalf("%s: request %s %s host %q len %d", client, r.Method, r.URL, r.Host, r.ContentLength)
		}
		if len(r.Header) != len(want) {
			t.Fatalf("%s: headers %v", client, r.Header)
		}
		for k, v := range want {
			if got, ok := r.Header[k]; !ok || len(got) != 1 || got[0] != v[0] {
				t.Fatalf("%s: header %q = %q, want %q (spelling kept)", client, k, got, v)
			}
		}
	}
}

func TestForwardAnswers(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, stsHosts...)
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	xmlErr := func(status int, typ, code, msg string) answer {
		return answer{status: status, body: awsErrorXML(typ, code, msg)}
	}
	tests := []struct {
		name      string
		ans       answer
		stage     Stage
		transient bool
		code      string
		noUpErr   bool
	}{
		{"InvalidClientTokenId", xmlErr(403, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid."), StageSignature, false, "InvalidClientTokenId", false},
		{"SignatureDoesNotMatch", xmlErr(403, "Sender", "SignatureDoesNotMatch", "The request signature we calculated does not match"), StageSignature, false, "SignatureDoesNotMatch", false},
		{"signature expired", xmlErr(403, "Sender", "SignatureDoesNotMatch", "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)"), StageDate, false, "SignatureDoesNotMatch", false},
		{"signature not yet current", xmlErr(403, "Sender", "SignatureDoesNotMatch", "Signature not yet current: 20220127T031427Z is still later than 20220127T015928Z"), StageDate, false, "SignatureDoesNotMatch", false},
		{"ExpiredToken", xmlErr(403, "Sender", "ExpiredToken", "The security token included in the request is expired"), StageDate, false, "ExpiredToken", false},
		{"IncompleteSignature", xmlErr(400, "Sender", "IncompleteSignature", "x"), StageSignature, false, "IncompleteSignature", false},
		{"MissingAuthenticationToken", xmlErr(403, "Sender", "MissingAuthenticationToken", "Request is missing Authentication Token"), StageSignature, false, "MissingAuthenticationToken", false},
		{"AccessDenied", xmlErr(403, "Sender", "AccessDenied", "denied"), StageRejected, false, "AccessDenied", false},
		{"RegionDisabled", xmlErr(403, "Sender", "RegionDisabledException", "STS is not activated in this region"), StageRejected, false, "RegionDisabledException", false},
		{"no namespace", answer{status: 403, body: `<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>`}, StageRejected, false, "AccessDenied", false},
		{"Throttling 400", xmlErr(400, "Sender", "Throttling", "Rate exceeded"), StageUpstream, true, "Throttling", false},
		{"Receiver 400", xmlErr(400, "Receiver", "SomethingNew", "server fault"), StageUpstream, true, "SomethingNew", false},
		{"429 plain", answer{status: 429, body: "slow down"}, StageUpstream, true, "", false},
		{"500 InternalFailure", xmlErr(500, "Receiver", "InternalFailure", "internal"), StageUpstream, true, "InternalFailure", false},
		{"503 html", answer{status: 503, body: "<html><body>unavailable</body></html>"}, StageUpstream, true, "", false},
		{"502 empty", answer{status: 502}, StageUpstream, true, "", false},
		{"400 not xml", answer{status: 400, body: "bad request"}, StageResponse, false, "", false},
		{"403 DTD", answer{status: 403, body: `<!DOCTYPE x [<!ENTITY e "AccessDenied">]><ErrorResponse><Error><Code>&e;</Code></Error></ErrorResponse>`}, StageResponse, false, "", false},
		{"403 no code", answer{status: 403, body: `<ErrorResponse><Error><Message>m</Message></Error></ErrorResponse>`}, StageResponse, false, "", false},
		{"302 redirect", answer{status: 302, header: map[string]string{"Location": "https://sts.us-west-2.amazonaws.com/elsewhere"}}, StageResponse, false, "", false},
		{"204", answer{status: 204}, StageResponse, false, "", false},
		{"200 malformed", answer{status: 200, body: "<GetCallerIdentityResponse/>"}, StageResponse, false, "", true},
		{"200 content-encoded", answer{status: 200, header: map[string]string{"Content-Encoding": "gzip"}, body: gciXML}, StageResponse, false, "", false},
		{"200 identity encoding", answer{status: 200, header: map[string]string{"Content-Encoding": "identity"}, body: gciXML}, "", false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeSTS(t, cert, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.ans.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.ans.status)
				io.WriteString(w, tc.ans.body)
			})
			f := forwarderFor(t, fs, cert.pool)
			g := checkedGCI(t, newSpec("python", tokenNow))
			id, err := f.Forward(context.Background(), g)
			if tc.stage == "" {
				if err != nil || *id != wantIdentity {
					t.Fatalf("got %v, %v", id, err)
				}
				return
			}
			if StageOf(err) != tc.stage || errors.Is(err, ErrUpstreamUnavailable) != tc.transient {
				t.Fatalf("got %v (transient %v), want stage %s transient %v", err, errors.Is(err, ErrUpstreamUnavailable), tc.stage, tc.transient)
			}
			var ue *UpstreamError
			if errors.As(err, &ue) == tc.noUpErr {
				t.Fatalf("UpstreamError presence: %v", err)
			}
			if ue != nil && (ue.Code != tc.code || ue.Status != tc.ans.status) {
				t.Fatalf("code %q status %d", ue.Code, ue.Status)
			}
			if fs.requests.Load() != 1 {
				t.Fatalf("%d requests (redirect followed?)", fs.requests.Load())
			}
			assertNoSecrets(t, g, err)
		})
	}
}

func TestForwardResponseSizeLimit(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, stsHosts...)
	padded := gciXML + strings.Repeat(" ", 2000)
	fs := newFakeSTS(t, cert, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Date") == "" {
			t.Error("no date")
		}
		io.WriteString(w, padded)
	})
	g := checkedGCI(t, newSpec("python", tokenNow))
	f := forwarderFor(t, fs, cert.pool)
	if _, err := f.Forward(context.Background(), g); err != nil {
		t.Fatalf("default limit: %v", err)
	}
	small := forwarderFor(t, fs, cert.pool)
	small.MaxResponseBytes = int64(len(padded)) - 1
	if _, err := small.Forward(context.Background(), g); StageOf(err) != StageResponse || errors.Is(err, ErrUpstreamUnavailable) {
		t.Fatalf("oversized: %v", err)
	}
	exact := forwarderFor(t, fs, cert.pool)
	exact.MaxResponseBytes = int64(len(padded))
	if _, err := exact.Forward(context.Background(), g); err != nil {
		t.Fatalf("exact limit: %v", err)
	}
	// Oversized error bodies are refused too.
	big := newFakeSTS(t, cert, func(w http.ResponseWriter, r *http.Request) {
		writeAWSError(w, 403, "Sender", "AccessDenied", strings.Repeat("x", MaxResponseSize))
	})
	if _, err := forwarderFor(t, big, cert.pool).Forward(context.Background(), g); StageOf(err) != StageResponse {
		t.Fatalf("oversized error: %v", err)
	}
}

func TestForwardTransportFailures(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, stsHosts...)
	// stall answers nothing (or headers and a partial body) until the client
	// gives up; then it ends the response cleanly or aborts the connection.
	stall := func(headers, abort bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if headers {
				w.WriteHeader(200)
				io.WriteString(w, "<GetCallerIdentityResponse>")
				w.(http.Flusher).Flush()
			}
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			if abort {
				panic(http.ErrAbortHandler)
			}
		}
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	other := newTestCert(t, stsHosts...)
	wrongName := newTestCert(t, "sts.eu-west-1.amazonaws.com")
	tests := []struct {
		name    string
		cert    testCert
		handler http.HandlerFunc
		pool    *x509.CertPool
		setup   func(*Forwarder)
		ctx     func() context.Context
		is      error
		tlsErr  bool
	}{
		{name: "header timeout", cert: cert, handler: stall(false, false), pool: cert.pool, is: context.DeadlineExceeded},
		{name: "body timeout, clean end", cert: cert, handler: stall(true, false), pool: cert.pool, is: context.DeadlineExceeded},
		{name: "body timeout, aborted", cert: cert, handler: stall(true, true), pool: cert.pool},
		{name: "connection refused", cert: cert, handler: verifyingSTS(t), pool: cert.pool, setup: func(f *Forwarder) {
			for k := range f.DialOverrides {
				f.DialOverrides[k] = closedAddr
			}
		}},
		{name: "untrusted certificate", cert: other, handler: verifyingSTS(t), pool: cert.pool, tlsErr: true},
		{name: "certificate for another host", cert: wrongName, handler: verifyingSTS(t), pool: wrongName.pool, tlsErr: true},
		{name: "system roots", cert: cert, handler: verifyingSTS(t), pool: nil, tlsErr: true},
		{name: "caller canceled", cert: cert, handler: stall(false, false), pool: cert.pool, is: context.Canceled, ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeSTS(t, tc.cert, tc.handler)
			f := forwarderFor(t, fs, tc.pool)
			// The stalling cases end on the timeout; the others must end on their own
			// error well before a generous one, even on a loaded machine.
			f.Timeout = 5 * time.Second
			if tc.is == context.DeadlineExceeded || tc.name == "body timeout, aborted" {
				f.Timeout = 300 * time.Millisecond
			}
			if tc.setup != nil {
				tc.setup(f)
			}
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			g := checkedGCI(t, newSpec("python", tokenNow))
			start := time.Now()
			_, err := f.Forward(ctx, g)
			if StageOf(err) != StageUpstream || !errors.Is(err, ErrUpstreamUnavailable) {
				t.Fatalf("got %v", err)
			}
			if elapsed := time.Since(start); elapsed > f.Timeout+3*time.Second {
				t.Fatalf("took %v", elapsed)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("%v is not %v", err, tc.is)
			}
			if tc.tlsErr && !errors.As(err, new(*tls.CertificateVerificationError)) {
				t.Fatalf("not a certificate error: %v", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.PublicMessage() != "AWS STS is temporarily unavailable, retry later" {
				t.Fatalf("public message of %v", err)
			}
			if tc.tlsErr && fs.requests.Load() != 0 {
				t.Fatal("request reached an unverified server")
			}
			assertNoSecrets(t, g, err)
		})
	}
}

// TestForwardRefusesBeforeNetwork: every unsafe request is refused before the
// transport is used, and no connection reaches the stand-in server even
// though the dial overrides would route the host there.
func TestForwardRefusesBeforeNetwork(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, append([]string{"sts.us-east-1.amazonaws.com.evil.test", "evil.test", "localhost"}, stsHosts...)...)
	withHost := func(host string) func(*tokenSpec) {
		return func(s *tokenSpec) {
			s.url = "https://" + host + "?Action=GetCallerIdentity&Version=2011-06-15"
			s.set("host", host)
		}
	}
	tests := []struct {
		name    string
		spec    func(*tokenSpec)
		mutate  func(*GCIRequest)
		allowed func(string) bool
		stage   Stage
	}{
		{name: "look-alike suffix", spec: withHost("sts.us-east-1.amazonaws.com.evil.test"), stage: StageHost},
		{name: "other host", spec: withHost("evil.test"), stage: StageHost},
		{name: "custom allowlist refuses", allowed: func(string) bool { return false }, stage: StageHost},
		{name: "custom allowlist of another host", spec: withHost("sts.us-east-1.amazonaws.com"), allowed: func(h string) bool { return h == "sts.us-west-2.amazonaws.com" }, stage: StageHost},
		{name: "http", mutate: func(g *GCIRequest) { g.URL.Scheme = "http" }, stage: StageHost},
		{name: "port", mutate: func(g *GCIRequest) { g.URL.Host += ":8443" }, stage: StageHost},
		{name: "ip literal", mutate: func(g *GCIRequest) { g.URL.Host = "127.0.0.1" }, stage: StageHost},
		{name: "userinfo", mutate: func(g *GCIRequest) { g.URL.User = url.User("evil") }, stage: StageHost},
		{name: "nil url", mutate: func(g *GCIRequest) { g.URL = nil }, stage: StageFormat},
		{name: "GET", mutate: func(g *GCIRequest) { g.Method = "GET" }, stage: StageAction},
		{name: "path", mutate: func(g *GCIRequest) { g.URL.Path = "/x" }, stage: StageAction},
		{name: "raw path", mutate: func(g *GCIRequest) { g.URL.RawPath = "/%2F" }, stage: StageAction},
		{name: "other action", mutate: func(g *GCIRequest) { g.URL.RawQuery = "Action=GetSessionToken&Version=2011-06-15" }, stage: StageAction},
		{name: "body", mutate: func(g *GCIRequest) { g.Body = []byte("Action=GetSessionToken") }, stage: StageAction},
		{name: "no auth", mutate: func(g *GCIRequest) { g.Auth = nil }, stage: StageFormat},
		{name: "presigned", mutate: func(g *GCIRequest) { g.Auth.Presigned = true }, stage: StageFormat},
		{name: "no Authorization header", mutate: func(g *GCIRequest) { g.RawHeaders = g.RawHeaders[1:] }, stage: StageFormat},
		{name: "extra header", mutate: func(g *GCIRequest) { g.RawHeaders = append(g.RawHeaders, HeaderField{"Transfer-Encoding", "chunked"}) }, stage: StageFormat},
		{name: "duplicate header", mutate: func(g *GCIRequest) { g.RawHeaders = append(g.RawHeaders, HeaderField{"X-AMZ-DATE", "x"}) }, stage: StageFormat},
		{name: "bad header name", mutate: func(g *GCIRequest) { g.RawHeaders[2].Key = "x-amz-date:" }, stage: StageFormat},
		{name: "CRLF in value", mutate: func(g *GCIRequest) { g.RawHeaders[4].Value += "\r\nX-Evil: 1" }, stage: StageFormat},
		{name: "Host header differs", mutate: func(g *GCIRequest) { g.RawHeaders[1].Value = "evil.test" }, stage: StageHost},
		{name: "no Host header", mutate: func(g *GCIRequest) { g.RawHeaders = append(g.RawHeaders[:1], g.RawHeaders[2:]...) }, stage: StageHost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSpec("python", tokenNow)
			if tc.spec != nil {
				tc.spec(s)
			}
			g, err := ParseSubjectToken(s.build(t))
			if err != nil {
				t.Fatal(err)
			}
			if tc.mutate != nil {
				tc.mutate(g)
			}
			// A stub transport must never be reached.
			rt := &recordingTransport{}
			stub := &Forwarder{Transport: rt, AllowedHosts: tc.allowed}
			if _, err := stub.Forward(context.Background(), g); StageOf(err) != tc.stage {
				t.Fatalf("stub: got %v, want %s", err, tc.stage)
			}
			if rt.count() != 0 {
				t.Fatal("transport was used")
			}
			// The real transport, with overrides routing every name to the server.
			fs := newFakeSTS(t, cert, verifyingSTS(t))
			f := forwarderFor(t, fs, cert.pool, "sts.us-east-1.amazonaws.com.evil.test", "evil.test", "127.0.0.1")
			f.AllowedHosts = tc.allowed
			_, err = f.Forward(context.Background(), g)
			if StageOf(err) != tc.stage || errors.Is(err, ErrUpstreamUnavailable) {
				t.Fatalf("got %v, want %s", err, tc.stage)
			}
			if fs.accepts.Load() != 0 {
				t.Fatalf("%d connections made", fs.accepts.Load())
			}
		})
	}
}

// TestForwardDialGuard exercises the guard behind the pre-checks.
func TestForwardDialGuard(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, stsHosts...)
	fs := newFakeSTS(t, cert, verifyingSTS(t))
	f := forwarderFor(t, fs, cert.pool, "evil.test")
	f.once.Do(f.init)
	d := &net.Dialer{}
	for _, addr := range []string{"evil.test:443", "sts.us-west-2.amazonaws.com:80", "sts.us-west-2.amazonaws.com", "127.0.0.1:443", "STS.US-WEST-2.AMAZONAWS.COM:443", "[::1]:443"} {
		if c, err := f.dial(context.Background(), d, d, "tcp", addr); !errors.Is(err, errDialRefused) {
			if c != nil {
				c.Close()
			}
			t.Fatalf("dial %s: %v", addr, err)
		}
	}
	if fs.accepts.Load() != 0 {
		t.Fatal("guard let a dial through")
	}
	c, err := f.dial(context.Background(), d, d, "tcp", "sts.us-west-2.amazonaws.com:443")
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	c.Close()

	// Without an override, a name that resolves to loopback is refused before connecting.
	s := newSpec("python", tokenNow)
	s.url = "https://localhost?Action=GetCallerIdentity&Version=2011-06-15"
	s.set("host", "localhost")
	g, err := ParseSubjectToken(s.build(t))
	if err != nil {
		t.Fatal(err)
	}
	lf := &Forwarder{AllowedHosts: func(h string) bool { return h == "localhost" }, Timeout: time.Second}
	defer lf.CloseIdleConnections()
	if _, err := lf.Forward(context.Background(), g); StageOf(err) != StageHost || errors.Is(err, ErrUpstreamUnavailable) {
		t.Fatalf("localhost: %v", err)
	}
}

func TestRefuseInternalAddr(t *testing.T) {
	t.Parallel()
	for addr, refused := range map[string]bool{
		"127.0.0.1:443": true, "[::1]:443": true, "169.254.169.254:443": true, "[fe80::1]:443": true,
		"0.0.0.0:443": true, "[::]:443": true, "[::ffff:127.0.0.1]:443": true, "[::ffff:169.254.169.254]:443": true,
		"224.0.0.1:443": true, "[ff02::1]:443": true, "bogus": true, "host.example:443": true,
		"10.0.0.1:443": false, "52.94.0.1:443": false, "[2600:1f18::1]:443": false,
	} {
		if err := refuseInternalAddr("tcp", addr, nil); (err != nil) != refused {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

func TestForwardConcurrent(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t, stsHosts...)
	fs := newFakeSTS(t, cert, verifyingSTS(t))
	f := forwarderFor(t, fs, cert.pool)
	gs := []*GCIRequest{checkedGCI(t, newSpec("python", tokenNow)), checkedGCI(t, newSpec("go", tokenNow)), checkedGCI(t, newSpec("node", tokenNow))}
	var wg sync.WaitGroup
	errs := make(chan error, 96)
	for i := range 32 {
		wg.Go(func() {
			for j := range 3 {
				id, err := f.Forward(context.Background(), gs[(i+j)%3])
				if err == nil && *id != wantIdentity {
					err = errors.New("wrong identity")
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if fs.requests.Load() != 96 {
		t.Fatalf("requests %d accepts %d", fs.requests.Load(), fs.accepts.Load())
	}
}

func TestForwarderDefaults(t *testing.T) {
	t.Parallel()
	var f Forwarder
	if f.timeout() != DefaultForwardTimeout || f.maxBytes() != MaxResponseSize || !f.allowed("sts.amazonaws.com") || f.allowed("evil.test") {
		t.Fatal("zero-value defaults")
	}
	f.once.Do(f.init)
	tr, ok := f.client.Transport.(*http.Transport)
	if !ok || tr.Proxy != nil || !tr.DisableCompression || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSClientConfig.RootCAs != nil || f.client.Jar != nil {
		t.Fatalf("transport %+v", tr)
	}
	if err := f.client.CheckRedirect(nil, nil); err != http.ErrUseLastResponse {
		t.Fatal("redirects must not be followed")
	}
	f.CloseIdleConnections()
	g := checkedGCI(t, newSpec("python", tokenNow))
	g.URL.Host, g.RawHeaders[1].Value = "sts.us-west-2.amazonaws.com.evil.test", "sts.us-west-2.amazonaws.com.evil.test"
	if _, err := f.Forward(context.Background(), g); StageOf(err) != StageHost {
		t.Fatalf("zero Forwarder, look-alike host: %v", err)
	}
}

func TestForwardErrorTypes(t *testing.T) {
	t.Parallel()
	msgs := map[string]Stage{}
	for _, s := range []Stage{StageFormat, StageHost, StageAction, StageBinding, StageDate, StageSignature, StageResponse, StagePolicy, StageRejected, StageUpstream} {
		m := (&Error{Stage: s}).PublicMessage()
		if prev, dup := msgs[m]; dup {
			t.Fatalf("%s and %s share %q", s, prev, m)
		}
		msgs[m] = s
	}
	cause := errors.New("dial tcp: refused")
	ue := &UpstreamError{Status: 503, Code: "ServiceUnavailable", Message: "m", Transient: true, Err: cause}
	if ue.Error() != "AWS STS status 503 code ServiceUnavailable: m: dial tcp: refused" || !errors.Is(ue, cause) || !errors.Is(ue, ErrUpstreamUnavailable) {
		t.Fatalf("UpstreamError %q", ue.Error())
	}
	if errors.Is(&UpstreamError{Status: 403}, ErrUpstreamUnavailable) || (&UpstreamError{}).Error() != "AWS STS" {
		t.Fatal("non-transient UpstreamError")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	g := checkedGCI(t, newSpec("go", tokenNow))
	sig := hex.EncodeToString(g.Auth.Signature)
	for in, want := range map[string]string{
		"plain":                       "plain",
		"  first line \nsecond":       "first line",
		"token " + testSession + " x": "token [redacted] x",
		"sig=" + sig:                  "sig=[redacted]",
		"a\tb\x7fc":                   "a b c",
		"authz " + g.Headers.Get("Authorization"): "authz [redacted]",
		strings.Repeat("é", 200):                  strings.Repeat("é", 128) + "...",
	} {
		if got := g.redact(in); got != want {
			t.Errorf("redact(%.40q) = %.60q", in, got)
		}
	}
	if got := g.redact(strings.Repeat("x", 300) + "é"); len(got) != maxUpstreamMessage+3 {
		t.Fatalf("length %d", len(got))
	}
}

func TestParseErrorResponse(t *testing.T) {
	t.Parallel()
	ae, err := parseErrorResponse([]byte(`<?xml version="1.0"?>` + "\n" + awsErrorXML("Sender", "SignatureDoesNotMatch", "a & b") + "\n<!-- c -->\n"))
	if err != nil || ae.code != "SignatureDoesNotMatch" || ae.typ != "Sender" || ae.message != "a & b" {
		t.Fatalf("%+v %v", ae, err)
	}
	if ae, err := parseErrorResponse([]byte(`<ErrorResponse><RequestId>r</RequestId><Error><Detail><X/></Detail><Code> AccessDenied </Code></Error></ErrorResponse>`)); err != nil || ae.code != "AccessDenied" {
		t.Fatalf("minimal: %+v %v", ae, err)
	}
	for name, body := range map[string]string{
		"empty":           "",
		"not xml":         "Access Denied",
		"other root":      `<Response><Errors><Error><Code>X</Code></Error></Errors></Response>`,
		"other namespace": `<ErrorResponse xmlns="urn:evil"><Error><Code>X</Code></Error></ErrorResponse>`,
		"no Error":        `<ErrorResponse><RequestId>r</RequestId></ErrorResponse>`,
		"two Errors":      `<ErrorResponse><Error><Code>A</Code></Error><Error><Code>B</Code></Error></ErrorResponse>`,
		"two Codes":       `<ErrorResponse><Error><Code>A</Code><Code>B</Code></Error></ErrorResponse>`,
		"two Messages":    `<ErrorResponse><Error><Code>A</Code><Message>a</Message><Message>b</Message></Error></ErrorResponse>`,
		"no Code":         `<ErrorResponse><Error><Message>m</Message></Error></ErrorResponse>`,
		"empty Code":      `<ErrorResponse><Error><Code></Code></Error></ErrorResponse>`,
		"bad Code":        `<ErrorResponse><Error><Code>Access Denied</Code></Error></ErrorResponse>`,
		"long Code":       `<ErrorResponse><Error><Code>` + strings.Repeat("A", 129) + `</Code></Error></ErrorResponse>`,
		"nested Code":     `<ErrorResponse><Error><Code><b>A</b></Code></Error></ErrorResponse>`,
		"DTD":             `<!DOCTYPE ErrorResponse><ErrorResponse><Error><Code>A</Code></Error></ErrorResponse>`,
		"entity":          `<ErrorResponse><Error><Code>&xxe;</Code></Error></ErrorResponse>`,
		"PI":              `<?php x?><ErrorResponse><Error><Code>A</Code></Error></ErrorResponse>`,
		"PI in skipped":   `<ErrorResponse><RequestId><?x y?></RequestId><Error><Code>A</Code></Error></ErrorResponse>`,
		"trailing root":   `<ErrorResponse><Error><Code>A</Code></Error></ErrorResponse><ErrorResponse/>`,
		"trailing text":   `<ErrorResponse><Error><Code>A</Code></Error></ErrorResponse>junk`,
		"truncated":       `<ErrorResponse><Error><Code>A</Code></Error>`,
		"invalid utf8":    "<ErrorResponse><Error><Code>A</Code><Message>\xff</Message></Error></ErrorResponse>",
		"oversized":       `<ErrorResponse><Error><Code>A</Code><Message>` + strings.Repeat("m", MaxResponseSize) + `</Message></Error></ErrorResponse>`,
	} {
		if ae, err := parseErrorResponse([]byte(body)); err == nil {
			t.Errorf("%s: accepted %+v", name, ae)
		}
	}
}

func FuzzParseErrorResponse(f *testing.F) {
	f.Add([]byte(awsErrorXML("Sender", "SignatureDoesNotMatch", "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z")))
	f.Add([]byte(awsErrorXML("Receiver", "InternalFailure", "")))
	f.Add([]byte(`<ErrorResponse><Error><Code>AccessDenied</Code><Detail/></Error><RequestId>r</RequestId></ErrorResponse>`))
	f.Add([]byte(`<!DOCTYPE x><ErrorResponse/>`))
	f.Add([]byte(gciXML))
	f.Fuzz(func(t *testing.T, body []byte) {
		ae, err := parseErrorResponse(body)
		if err != nil {
			return
		}
		if !awsCodeRe.MatchString(ae.code) || !utf8.Valid(body) {
			t.Fatalf("accepted %+v from %q", ae, body)
		}
		// An independent pass: no directive (DTD, ENTITY) anywhere.
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if _, ok := tok.(xml.Directive); ok {
				t.Fatalf("accepted a directive in %q", body)
			}
		}
		st := codeStage(ae.code, ae.message)
		if st != StageDate && st != StageSignature && st != StageRejected {
			t.Fatalf("stage %s", st)
		}
	})
}

// TestForwardNoGoroutineLeak is not parallel: it checks that closing idle
// connections and the server leaves no goroutine behind.
func TestForwardNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cert := newTestCert(t, stsHosts...)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, gciXML) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.cert}}
	srv.StartTLS()
	defer srv.Close()
	f := &Forwarder{RootCAs: cert.pool, DialOverrides: map[string]string{"sts.us-west-2.amazonaws.com:443": strings.TrimPrefix(srv.URL, "https://")}}
	defer f.CloseIdleConnections()
	if _, err := f.Forward(context.Background(), checkedGCI(t, newSpec("python", tokenNow))); err != nil {
		t.Fatal(err)
	}
}
