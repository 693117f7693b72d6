package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	if got := strings.Join(f.names(), ","); got != "RS256 verify,ES256 sign" || f.parts[0].d <= 0 || f.parts[1].d <= 0 {
		t.Fatalf("floor %+v", f)
	}
	if f.total() != f.parts[0].d+f.parts[1].d || !strings.HasSuffix(f.String(), "= "+micros(f.total())) {
		t.Fatalf("floor total %s, String %q", f.total(), f)
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
	wantFloor := map[string]string{
		"sts":         "RS256 verify,ES256 sign",
		"impersonate": "ES256 verify,ES256 sign",
		"assume-role": "RS256 verify,AES-256-GCM seal,HKDF-SHA256",
		"aws4":        "AES-256-GCM open,HKDF-SHA256,SigV4,ES256 sign",
	}
	for _, mode := range modes {
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
			var names []string
			for _, n := range rep.floor.names() {
				names = append(names, strings.SplitN(n, " (", 2)[0]) // drop "(N B)"
			}
			if got := strings.Join(names, ","); got != wantFloor[mode] {
				t.Fatalf("floor parts %q, want %q", got, wantFloor[mode])
			}
			for _, p := range rep.floor.parts {
				if p.d <= 0 {
					t.Errorf("floor part %s: %s", p.name, p.d)
				}
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

// withoutRole is the federation with the AWS role removed: every
// AssumeRoleWithWebIdentity is refused (AccessDenied), so no AWS mode can run.
func withoutRole(cfg *config.Config) *config.Config {
	cfg.AWS.Accounts[0].Roles = nil
	return cfg
}

func TestMeasureAWSRoleMissing(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"assume-role", "aws4"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			is := startIssuer(t, "RS256")
			target := startServer(t, withoutRole(federation(is, true)))
			o := options{duration: 100 * time.Millisecond, concurrency: 1, mode: mode, tokens: 2, maxRequests: 10, floorIters: 10}
			_, err := measure(context.Background(), o, is, target, nil)
			if err == nil || !strings.Contains(err.Error(), "HTTP 403") || !strings.Contains(err.Error(), "AccessDenied") {
				t.Fatalf("got %v, want an AccessDenied failure", err)
			}
		})
	}
}

// freeLoopbackAddr returns a 127.0.0.1 address that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRunAgainstServer drives an in-process server through run() and -server, as a
// separately started keyless would be driven (issuer keys discovered, not pinned): the
// AWS modes succeed against the standard federation and exit non-zero, reporting the
// refusal, when the role is missing.
func TestRunAgainstServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode     string
		noRole   bool
		wantExit int
		want     string
	}{
		{"assume-role", false, 0, "errors          0"},
		{"aws4", false, 0, "errors          0"},
		{"assume-role", true, 1, "AccessDenied"},
	} {
		t.Run(fmt.Sprintf("%s/noRole=%v", tc.mode, tc.noRole), func(t *testing.T) {
			t.Parallel()
			addr := freeLoopbackAddr(t)
			// The config names the issuer's URL; its keys are fetched from the issuer
			// run() starts at the same address.
			tmp, err := testissuer.Start(testissuer.Options{Alg: "RS256", Addr: addr})
			if err != nil {
				t.Fatal(err)
			}
			cfg := federation(tmp, false)
			tmp.Close()
			if tc.noRole {
				cfg = withoutRole(cfg)
			}
			target := startServer(t, cfg)
			var stdout, stderr strings.Builder
			code := run([]string{"-server", target, "-issuer-addr", addr, "-mode", tc.mode, "-duration", "300ms",
				"-concurrency", "2", "-tokens", "4", "-floor-iterations", "10"}, &stdout, &stderr)
			if code != tc.wantExit || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s\n%s", code, tc.wantExit, tc.want, stdout.String(), stderr.String())
			}
		})
	}
}

// TestRunReportsFailuresMidRun: a server that answers the warm-up and then refuses
// every AssumeRoleWithWebIdentity makes the run report the failures and exit 1.
func TestRunReportsFailuresMidRun(t *testing.T) {
	t.Parallel()
	token := base64.RawURLEncoding.EncodeToString(make([]byte, 17+300+16))
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r) // no /metrics: server CPU is reported unavailable
			return
		}
		if n.Add(1) > 4 { // concurrency 2 × warm-up rounds
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>`)
			return
		}
		_, _ = io.WriteString(w, `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>`+
			`<AccessKeyId>ASIAAAAAAAAAAAAAAAAA</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>`+token+
			`</SessionToken></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`)
	}))
	t.Cleanup(ts.Close)
	var stdout, stderr strings.Builder
	code := run([]string{"-server", ts.URL, "-issuer-addr", freeLoopbackAddr(t), "-mode", "assume-role", "-duration", "200ms",
		"-concurrency", "2", "-tokens", "2", "-max-requests", "50", "-floor-iterations", "10"}, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	if code != 1 || !strings.Contains(out, "requests failed") || !strings.Contains(out, "HTTP 403") || strings.Contains(out, "errors          0") {
		t.Fatalf("exit %d, want 1 with the failures reported:\n%s", code, out)
	}
}

func TestAWSFloorOps(t *testing.T) {
	t.Parallel()
	is := startIssuer(t, "RS256")
	target := startServer(t, federation(is, true))
	client := newHTTPClient(1)
	defer client.CloseIdleConnections()
	tok, err := is.Mint(awsClaims(1))
	if err != nil {
		t.Fatal(err)
	}
	p := &plan{url: target + "/", ctype: "application/x-www-form-urlencoded", success: []byte("<AccessKeyId>ASIA"), extract: extractSessionToken}
	r := p.do(client, assumeRoleBody(tok, 1), "", true)
	if r.err != nil {
		t.Fatal(r.err)
	}
	c, err := parseAssumeRole(r.body)
	if err != nil || r.token != c.SessionToken {
		t.Fatalf("credentials %+v, %v", c, err)
	}
	_, signed, err := aws4Pool(context.Background(), []awsCreds{c}, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	minted, err := is.Mint(map[string]any{"sub": "x"}) // an RS256 "minted" token is fine here
	if err != nil {
		t.Fatal(err)
	}
	ops, err := aws4FloorOps(c, signed, minted)
	if err != nil {
		t.Fatal(err)
	}
	f, err := timeFloor(ops, 10)
	if err != nil || len(f.parts) != 4 {
		t.Fatalf("aws4 floor %v, %v", f, err)
	}
	if _, err := assumeRoleFloorOps(tok, keySet(t, is), c.SessionToken, c.AccessKeyID); err != nil {
		t.Fatal(err)
	}

	// The SigV4 floor recomputes the real signature: a wrong secret or a changed
	// header makes it fail.
	bad := c
	bad.SecretAccessKey = strings.Repeat("A", 40)
	if ops, err := aws4FloorOps(bad, signed, minted); err != nil {
		t.Fatal(err)
	} else if _, err := timeFloor(ops, 10); err == nil || !strings.Contains(err.Error(), "SigV4") {
		t.Fatalf("wrong secret: %v", err)
	}
	changed := signed.Clone(context.Background())
	changed.Header.Set("X-Amz-Date", "20000101T000000Z")
	if op, err := sigv4FloorOp(changed, c.SecretAccessKey); err != nil || op.op() == nil {
		t.Fatalf("changed date: %v", err)
	}
	for name, tc := range map[string]struct {
		c   awsCreds
		err string
	}{
		"session token not base64url": {awsCreds{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: "!!"}, "base64"},
		"session token too short":     {awsCreds{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: "AAAA"}, "too short"},
	} {
		if _, err := aws4FloorOps(tc.c, signed, minted); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, h := range []string{"", "Bearer x", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=zz"} {
		if _, err := parseSigV4Auth(h); err == nil {
			t.Errorf("authorization %q accepted", h)
		}
	}
}

func TestParseAssumeRole(t *testing.T) {
	t.Parallel()
	ok := `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
		`<Credentials><AccessKeyId>ASIAAAAAAAAAAAAAAAAA</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>` +
		`<Expiration>2026-11-23T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`
	if c, err := parseAssumeRole([]byte(ok)); err != nil || c.AccessKeyID != "ASIAAAAAAAAAAAAAAAAA" || c.SessionToken != "t" {
		t.Fatalf("%+v, %v", c, err)
	}
	for _, b := range []string{"", "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>",
		strings.Replace(ok, "<SessionToken>t</SessionToken>", "", 1), `{"access_token":"x"}`} {
		if _, err := parseAssumeRole([]byte(b)); err == nil {
			t.Errorf("accepted %q", b)
		}
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
