package jwks

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keylessdev/keyless/internal/jose"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is an injected clock that only moves when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testJWK returns a public Ed25519 JWK derived from a fixed seed, so key sets are
// deterministic without randomness.
func testJWK(kid string, seed byte) map[string]any {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub), "kid": kid, "use": "sig", "alg": "EdDSA"}
}

// jwksOf builds a JWKS document with one key per kid.
func jwksOf(kids ...string) []byte {
	keys := make([]any, 0, len(kids))
	for i, kid := range kids {
		keys = append(keys, testJWK(kid, byte(i+1)))
	}
	return mustJSON(map[string]any{"keys": keys})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// testIssuer is an OIDC issuer on loopback TLS. By default it serves a discovery document
// naming itself and a JWKS at /jwks; tests replace the handlers or the JWKS body.
type testIssuer struct {
	srv *httptest.Server
	URL string

	discoveryHits, jwksHits, conns atomic.Int64

	mu           sync.Mutex
	jwks         []byte
	cacheControl string
	discovery    http.HandlerFunc // overrides the default discovery handler when set
	jwksHandler  http.HandlerFunc // overrides the default JWKS handler when set
	extra        *http.ServeMux   // other paths
}

func newTestIssuer(t testing.TB, tlsOn bool) *testIssuer {
	t.Helper()
	ti := &testIssuer{jwks: jwksOf("k1"), extra: http.NewServeMux()}
	h := http.HandlerFunc(ti.serve)
	ti.srv = httptest.NewUnstartedServer(h)
	ti.srv.Config.ConnState = ti.countConn
	ti.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // aborted handshakes are expected
	if tlsOn {
		ti.srv.StartTLS()
	} else {
		ti.srv.Start()
	}
	ti.URL = ti.srv.URL
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) countConn(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		ti.conns.Add(1)
	}
}

func (ti *testIssuer) serve(w http.ResponseWriter, r *http.Request) {
	ti.mu.Lock()
	disc, jh, body, cc := ti.discovery, ti.jwksHandler, ti.jwks, ti.cacheControl
	ti.mu.Unlock()
	switch r.URL.Path {
	case wellKnownPath:
		ti.discoveryHits.Add(1)
		if disc != nil {
			disc(w, r)
			return
		}
		writeJSON(w, map[string]any{"issuer": ti.URL, "jwks_uri": ti.URL + "/jwks"})
	case "/jwks":
		ti.jwksHits.Add(1)
		if jh != nil {
			jh(w, r)
			return
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(body)
	default:
		ti.extra.ServeHTTP(w, r)
	}
}

func (ti *testIssuer) setJWKS(b []byte) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.jwks = b
}

func (ti *testIssuer) setCacheControl(v string) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.cacheControl = v
}

func (ti *testIssuer) setDiscovery(h http.HandlerFunc) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.discovery = h
}

func (ti *testIssuer) setJWKSHandler(h http.HandlerFunc) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.jwksHandler = h
}

// serveDiscovery makes the issuer serve a discovery document with the given members.
func (ti *testIssuer) serveDiscovery(doc map[string]any) {
	ti.setDiscovery(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, doc) })
}

func (ti *testIssuer) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ti.srv.Certificate())
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(mustJSON(v))
}

// logBuffer is a concurrency-safe sink for a JSON slog handler.
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

// fixture is a Cache wired to a test issuer with an injected clock.
type fixture struct {
	iss   *testIssuer
	clock *fakeClock
	cache *Cache
	src   *Source
	logs  *logBuffer
}

// newFixture starts a TLS issuer and a Cache trusting it. mod adjusts the options.
func newFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	iss := newTestIssuer(t, true)
	clock := newFakeClock()
	logs := &logBuffer{}
	opts := Options{
		RootCAs:              iss.pool(),
		AllowPrivateNetworks: true,
		Timeout:              5 * time.Second,
		Now:                  clock.Now,
		Logger:               slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&opts)
	}
	c := New(opts)
	return &fixture{iss: iss, clock: clock, cache: c, src: c.Source(iss.URL), logs: logs}
}

func (f *fixture) keySet(t *testing.T, kid string) (*jose.KeySet, error) {
	t.Helper()
	return f.src.KeySet(context.Background(), kid)
}

func (f *fixture) mustKeySet(t *testing.T, kid string) *jose.KeySet {
	t.Helper()
	ks, err := f.keySet(t, kid)
	if err != nil {
		t.Fatalf("KeySet(%q): %v", kid, err)
	}
	return ks
}

func (f *fixture) hits() (discovery, jwks int64) {
	return f.iss.discoveryHits.Load(), f.iss.jwksHits.Load()
}

func (f *fixture) wantHits(t *testing.T, discovery, jwks int64) {
	t.Helper()
	if d, j := f.hits(); d != discovery || j != jwks {
		t.Fatalf("server hits: discovery=%d jwks=%d, want %d/%d", d, j, discovery, jwks)
	}
}

func (f *fixture) stats(t *testing.T) IssuerStats {
	t.Helper()
	for _, s := range f.cache.Stats() {
		if s.Issuer == f.iss.URL {
			return s
		}
	}
	t.Fatalf("no stats for %s", f.iss.URL)
	return IssuerStats{}
}

func kids(ks *jose.KeySet) []string {
	var out []string
	for _, k := range ks.Keys {
		out = append(out, k.KID)
	}
	return out
}

func hasKey(ks *jose.KeySet, kid string) bool { return ks != nil && len(ks.Find(kid)) > 0 }

// wantFetchError asserts err is a *FetchError for stage that matches sentinel.
func wantFetchError(t *testing.T, err error, stage Stage, sentinel error) *FetchError {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", sentinel)
	}
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FetchError", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not match %v", err, sentinel)
	}
	if fe.Stage != stage {
		t.Fatalf("stage = %q, want %q (error %v)", fe.Stage, stage, err)
	}
	return fe
}
