package main

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/server"
	"github.com/keylessdev/keyless/internal/testissuer"
)

func startIssuer(t testing.TB, alg string) *testissuer.Issuer {
	t.Helper()
	is, err := testissuer.Start(testissuer.Options{Alg: alg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	return is
}

func keySet(t *testing.T, is *testissuer.Issuer) *jose.KeySet {
	t.Helper()
	ks, _, err := jose.ParseKeySet([]byte(is.JWKS()))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestMeasureFloor(t *testing.T) {
	t.Parallel()
	rs, es := startIssuer(t, "RS256"), startIssuer(t, "ES256")
	presented, err := rs.Mint(githubClaims(1))
	if err != nil {
		t.Fatal(err)
	}
	minted, err := es.Mint(map[string]any{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := measureFloor(presented, keySet(t, rs), minted, 10)
	if err != nil {
		t.Fatal(err)
	}
	if f.verifyName != "RS256 verify" || f.signName != "ES256 sign" || f.verify <= 0 || f.sign <= 0 {
		t.Fatalf("floor %+v", f)
	}
	// ES256 on the presented side too (impersonation bearers).
	if _, err := measureFloor(minted, keySet(t, es), minted, 10); err != nil {
		t.Fatalf("ES256 presented: %v", err)
	}

	parts := strings.Split(presented, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1
	tampered := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	hs := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"k"}`)) + ".e30.c2ln"
	for name, tc := range map[string]struct {
		presented, minted string
		keys              *jose.KeySet
	}{
		"tampered signature": {tampered, minted, keySet(t, rs)},
		"unknown kid":        {presented, minted, keySet(t, es)},
		"not a JWS":          {"a.b", minted, keySet(t, rs)},
		"minted not a JWS":   {presented, "nope", keySet(t, rs)},
		"minted alg HS256":   {presented, hs, keySet(t, rs)},
	} {
		if _, err := measureFloor(tc.presented, tc.keys, tc.minted, 10); err == nil {
			t.Errorf("%s: floor measured, want an error", name)
		}
	}
}

// startServer runs keyless in-process with cfg on loopback.
func startServer(t testing.TB, cfg *config.Config) string {
	t.Helper()
	if probs := cfg.Validate(); len(probs) > 0 {
		t.Fatalf("config: %v", probs)
	}
	srv, err := server.New(context.Background(), server.Options{Config: cfg, DataDir: t.TempDir(), Addr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.URL
}

func TestMeasureEndToEnd(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"sts", "impersonate"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			is := startIssuer(t, "RS256")
			target := startServer(t, federation(is, true))
			o := options{duration: 300 * time.Millisecond, concurrency: 2, mode: mode, tokens: 4, maxRequests: 1000, floorIters: 10}
			rep, err := measure(context.Background(), o, is, target, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.requests == 0 || rep.failed != 0 || rep.statuses[200] != rep.requests || len(rep.latencies) != rep.requests {
				t.Fatalf("report: %d requests, %d failed, statuses %v, %d latencies", rep.requests, rep.failed, rep.statuses, len(rep.latencies))
			}
			if rep.cpuErr != nil || rep.serverCPU <= 0 {
				t.Fatalf("server CPU %v, err %v", rep.serverCPU, rep.cpuErr)
			}
			wantVerify := map[string]string{"sts": "RS256 verify", "impersonate": "ES256 verify"}[mode]
			if rep.floor.verifyName != wantVerify || rep.floor.signName != "ES256 sign" {
				t.Fatalf("floor %+v", rep.floor)
			}
			var out strings.Builder
			rep.print(&out)
			for _, want := range []string{"throughput", "p99", "CPU / floor", "errors          0"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestMeasureRefusedExchanges(t *testing.T) {
	t.Parallel()
	is := startIssuer(t, "RS256")
	cfg := federation(is, true)
	cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0].AttributeCondition = "assertion.repository_owner == 'someone-else'"
	target := startServer(t, cfg)
	o := options{duration: 100 * time.Millisecond, concurrency: 1, mode: "sts", tokens: 1, maxRequests: 10, floorIters: 10}
	if _, err := measure(context.Background(), o, is, target, nil); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("got %v, want the warm-up to fail with HTTP 400", err)
	}
}

func TestDriveCountsFailuresAndStopsAtMax(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 0:
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		case 1:
			_, _ = io.WriteString(w, `{"access_token":"t"}`)
		default:
			_, _ = io.WriteString(w, `{"nothing":"here"}`) // 200 without a token is a failure
		}
	}))
	t.Cleanup(ts.Close)
	p := &plan{url: ts.URL, ctype: "application/x-www-form-urlencoded", bodies: [][]byte{[]byte("a=b")}, success: []byte(`"access_token":"`)}
	stats, _ := p.drive(context.Background(), newHTTPClient(3), 3, time.Minute, 30)
	total, failed := 0, 0
	for _, ws := range stats {
		for _, c := range ws.statuses {
			total += c
		}
		failed += ws.failed
	}
	if total != 30 || failed != 20 {
		t.Fatalf("got %d requests, %d failed; want 30 and 20", total, failed)
	}
}

func TestDriveStopsOnCancel(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"access_token":"t"}`)
	}))
	t.Cleanup(ts.Close)
	p := &plan{url: ts.URL, ctype: "text/plain", bodies: [][]byte{nil}, success: []byte(`"access_token":"`)}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, elapsed := p.drive(ctx, newHTTPClient(1), 1, time.Minute, 1<<30)
	if elapsed > 10*time.Second || time.Since(start) > 10*time.Second {
		t.Fatalf("drive ran %s after its context ended", elapsed)
	}
}

// TestChildLifecycle builds keyless, starts it as a child, checks it serves and that
// stop ends it and removes its directory.
func TestChildLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the keyless binary")
	}
	t.Parallel()
	is := startIssuer(t, "RS256")
	c, err := startChild(context.Background(), "", federation(is, true), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(c.url + "/healthz")
	if err != nil {
		c.stop(io.Discard)
		t.Fatal(err)
	}
	resp.Body.Close()
	if cpu, err := c.procCPU(clockTick()); err != nil || cpu < 0 {
		t.Errorf("procCPU: %v, %v", cpu, err)
	}
	c.stop(io.Discard)
	if c.cmd.ProcessState == nil {
		t.Fatal("child not waited for")
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Fatalf("temp dir %s left behind: %v", c.dir, err)
	}
	if _, err := http.Get(c.url + "/healthz"); err == nil {
		t.Fatal("child still serving after stop")
	}
}

func TestStartChildReportsBadBinary(t *testing.T) {
	t.Parallel()
	is := startIssuer(t, "RS256")
	if _, err := startChild(context.Background(), "/bin/false", federation(is, true), io.Discard); err == nil {
		t.Fatal("a binary that exits at once was accepted")
	}
}
