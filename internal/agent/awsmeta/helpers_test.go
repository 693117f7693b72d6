package awsmeta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Values from the protocol transcripts.
const (
	testAccessKey = "ASIAKEYLESSEXAMPLE01"
	testSecret    = "keylessSecretKeyExampleExampleExample0001"
	testSession   = "IQoJb3JpZ2luX2VjEKeylessSessionTokenExample=="
	testRole      = "keyless-role"
	testAccount   = "123456789012"
)

var testEpoch = time.Date(2026, 11, 22, 21, 14, 58, 500_000_000, time.UTC)

// fakeProvider is a hand fake of aws.CredentialsProvider.
type fakeProvider struct {
	mu    sync.Mutex
	creds aws.Credentials
	err   error
	calls atomic.Int64
}

func (f *fakeProvider) Retrieve(context.Context) (aws.Credentials, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creds, f.err
}

func (f *fakeProvider) set(c aws.Credentials, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creds, f.err = c, err
}

func newFakeProvider(exp time.Time) *fakeProvider {
	return &fakeProvider{creds: aws.Credentials{
		AccessKeyID: testAccessKey, SecretAccessKey: testSecret, SessionToken: testSession,
		Source: "fake", CanExpire: true, Expires: exp, AccountID: testAccount,
	}}
}

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) {
	c.ns.Add(int64(d))
}
func (c *clock) now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// logBuffer collects log output for secret-leak checks.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// assertNoSecrets fails if any secret value shows up in s.
func assertNoSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range append([]string{testSecret, testSession}, secrets...) {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s leaks a secret (%.8s…): %s", what, sec, s)
		}
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do runs one request against h without a network.
func do(h http.Handler, method, path string, header http.Header) response {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	r.Method = method
	r.URL.Path = path
	r.RequestURI = path
	r.RemoteAddr = "127.0.0.1:40000"
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// errReader fails every read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

// ttlEcho is the TTL header as the handler wrote it (EC2's non-canonical spelling).
func ttlEcho(res response) string {
	if v := res.header[imdsTTLHeader]; len(v) == 1 {
		return v[0]
	}
	return ""
}
