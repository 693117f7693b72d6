package agent_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy modes.
const (
	proxyUp          int32 = iota // forward to keyless
	proxyDrop                     // close the connection without an answer (keyless crashed)
	proxyUnavailable              // answer 503 (keyless overloaded, or a failing load balancer)
)

// toggleProxy is a reverse proxy on loopback between an agent and keyless. Tests cut
// keyless off and restore it, and may add latency to every forwarded request so that
// a fetch is measurably slower than a cached answer.
type toggleProxy struct {
	URL       string
	mode      atomic.Int32
	delay     atomic.Int64 // time.Duration added before forwarding
	forwarded atomic.Int64
	refused   atomic.Int64
}

func startToggleProxy(tb testing.TB, upstream string) *toggleProxy {
	tb.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		tb.Fatal(err)
	}
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }, Transport: tr}
	p := &toggleProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p.mode.Load() {
		case proxyDrop:
			p.refused.Add(1)
			panic(http.ErrAbortHandler) // the server closes the connection, no response
		case proxyUnavailable:
			p.refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"unavailable","error_description":"keyless is down (test proxy)"}`))
			return
		}
		if d := time.Duration(p.delay.Load()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		p.forwarded.Add(1)
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func TestToggleProxyModes(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(up.Close)
	p := startToggleProxy(t, up.URL)
	c := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	get := func() (int, error) {
		resp, err := c.Get(p.URL + "/x")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err != nil || code != 200 {
		t.Fatalf("up: %d %v", code, err)
	}
	p.mode.Store(proxyDrop)
	if code, err := get(); err == nil {
		t.Fatalf("drop: got %d, want a transport error", code)
	}
	p.mode.Store(proxyUnavailable)
	if code, err := get(); err != nil || code != 503 {
		t.Fatalf("unavailable: %d %v", code, err)
	}
	p.mode.Store(proxyUp)
	p.delay.Store(int64(50 * time.Millisecond))
	start := time.Now()
	if code, err := get(); err != nil || code != 200 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("delayed: %d %v after %v", code, err, time.Since(start))
	}
	if p.forwarded.Load() != 2 || p.refused.Load() != 2 {
		t.Errorf("forwarded %d refused %d, want 2 and 2", p.forwarded.Load(), p.refused.Load())
	}
}
