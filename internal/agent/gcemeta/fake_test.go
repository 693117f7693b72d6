package gcemeta_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/agent/gcemeta"
)

const (
	testProject    = "my-project"
	testProjectNum = "123456789012"
	testZone       = "projects/123456789012/zones/us-central1-a"
	testHost       = "vm-1.c.my-project.internal"
	testInstanceID = "4520031799277581759"
	defaultEmail   = "sa-name@my-project.iam.gserviceaccount.com"
	otherEmail     = "other@my-project.iam.gserviceaccount.com"
	defaultToken   = "ya29.fake-default-SECRET"
	otherToken     = "ya29.fake-other-SECRET"
	// lifetime is deliberately not 3599 so that tests prove expires_in is
	// computed from the expiry.
	lifetime = 2517 * time.Second
)

type idCall struct {
	Audience, Format string
	Licenses         bool
}

// fakeTokens records what the handler asked for and answers with fixed
// tokens (or err).
type fakeTokens struct {
	token  string
	expiry func() time.Time
	quiet  bool // record nothing (fuzzing)

	mu      sync.Mutex
	err     error
	scopes  [][]string
	idCalls []idCall
}

func (f *fakeTokens) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func newFake(token string, now func() time.Time) *fakeTokens {
	return &fakeTokens{token: token, expiry: func() time.Time { return now().Add(lifetime) }}
}

func (f *fakeTokens) AccessToken(ctx context.Context, scopes []string) (string, time.Time, error) {
	f.mu.Lock()
	if !f.quiet {
		f.scopes = append(f.scopes, slices.Clone(scopes))
	}
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return "", time.Time{}, err
	}
	if err := ctx.Err(); err != nil {
		return "", time.Time{}, err
	}
	return f.token, f.expiry(), nil
}

func (f *fakeTokens) IDToken(ctx context.Context, audience, format string, licenses bool) (string, error) {
	f.mu.Lock()
	if !f.quiet {
		f.idCalls = append(f.idCalls, idCall{audience, format, licenses})
	}
	exp := f.expiry()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return "", err
	}
	return fakeJWT(audience, exp), nil
}

func (f *fakeTokens) gotScopes() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.scopes)
}

func (f *fakeTokens) gotID() []idCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.idCalls)
}

// fakeJWT is an unsigned JWT-shaped token: clients decode its payload for exp
// and never verify it.
func fakeJWT(audience string, exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	payload, _ := json.Marshal(map[string]any{"aud": audience, "exp": exp.Unix(), "iss": "https://accounts.google.com", "sub": "1"})
	return header + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString([]byte("sig"))
}

type fixture struct {
	h            http.Handler
	def, other   *fakeTokens
	now          func() time.Time
	defaultScope []string
}

func newFixture(t testing.TB, now func() time.Time, mutate ...func(*gcemeta.Options)) *fixture {
	t.Helper()
	f := &fixture{now: now, def: newFake(defaultToken, now), other: newFake(otherToken, now)}
	opts := gcemeta.Options{
		ProjectID: testProject, NumericProjectID: testProjectNum,
		Zone: testZone, Hostname: testHost, InstanceID: testInstanceID,
		Accounts: []gcemeta.Account{
			{Email: defaultEmail, Tokens: f.def},
			{Email: otherEmail, Scopes: []string{"s1", "s2"}, Tokens: f.other},
		},
		Now: now,
	}
	for _, m := range mutate {
		m(&opts)
	}
	h, err := gcemeta.NewHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

func fixedClock() func() time.Time {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time { return t0 }
}

// serve runs one request through the handler.
func (f *fixture) serve(method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// startServer serves h on a loopback port and returns "127.0.0.1:PORT".
func startServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func flavor() http.Header { return http.Header{"Metadata-Flavor": {"Google"}} }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func decodeSegment(t *testing.T, jwt string, i int) []byte {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("JWT segment %d: %v", i, err)
	}
	return b
}

// requestLog wraps a handler and records "METHOD PATH?QUERY STATUS" lines.
type requestLog struct {
	h    http.Handler
	mu   sync.Mutex
	seen []string
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	l.h.ServeHTTP(rec, r)
	l.mu.Lock()
	l.seen = append(l.seen, fmt.Sprintf("%s %s %d", r.Method, r.URL.RequestURI(), rec.Code))
	l.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (l *requestLog) has(line string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.seen, line)
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.seen, "\n")
}
