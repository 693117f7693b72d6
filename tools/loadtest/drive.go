package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

const (
	requestTimeout = 30 * time.Second
	maxBodyBytes   = 1 << 20
	warmupRounds   = 2
)

// plan is what every worker sends: a request factory and what a success looks like.
type plan struct {
	url, ctype string
	bodies     [][]byte // cycled through; one per subject token for sts
	bearers    []string // per worker (impersonate)
	success    []byte   // a successful response body contains this
	// extract returns the minted credential of a success (warm-up and floor only).
	extract func(body []byte) (string, error)
}

// jsonField extracts the string member name of a JSON response.
func jsonField(name string) func([]byte) (string, error) {
	return func(b []byte) (string, error) {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return "", fmt.Errorf("response JSON: %w", err)
		}
		s, _ := m[name].(string)
		if s == "" {
			return "", fmt.Errorf("response has no %s", name)
		}
		return s, nil
	}
}

func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only, never through a proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// mintPool mints n distinct subject tokens with claims(i) in parallel.
func mintPool(ctx context.Context, is *testissuer.Issuer, n int, claims func(int) map[string]any) ([]string, error) {
	out := make([]string, n)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				tok, err := is.Mint(claims(i))
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				out[i] = tok
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func stsBody(subjectToken string) []byte {
	return []byte(keylesstest.STSForm(subjectToken).Encode())
}

// outcome of one request.
type outcome struct {
	status  int // 0 on a transport error
	latency time.Duration
	token   string // the minted token, when asked for
	body    []byte // the response body, when the token was asked for
	err     error  // transport error or a non-success response
}

// do sends one request and checks the response.
func (p *plan) do(client *http.Client, body []byte, bearer string, wantToken bool) outcome {
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Content-Type", p.ctype)
	req.Header.Set("User-Agent", "keyless-loadtest")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return outcome{err: err, latency: time.Since(start)}
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	o := outcome{status: resp.StatusCode, latency: time.Since(start)}
	switch {
	case rerr != nil:
		o.err = fmt.Errorf("read response: %w", rerr)
	case resp.StatusCode != http.StatusOK || !bytes.Contains(b, p.success):
		o.err = fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	case wantToken:
		o.body = b
		o.token, o.err = p.extract(b)
	}
	return o
}

// workerStats is one worker's record of the measured phase.
type workerStats struct {
	latencies []time.Duration
	statuses  map[int]int
	failed    int
	errSample string
}

// drive runs the workers until the duration elapses, ctx ends or maxRequests have been
// started. In-flight requests complete (bounded by requestTimeout).
func (p *plan) drive(ctx context.Context, client *http.Client, workers int, d time.Duration, maxRequests int) ([]workerStats, time.Duration) {
	var stop atomic.Bool
	var started atomic.Int64
	t := time.AfterFunc(d, func() { stop.Store(true) })
	defer t.Stop()
	unwatch := context.AfterFunc(ctx, func() { stop.Store(true) })
	defer unwatch()

	stats := make([]workerStats, workers)
	begin := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ws := &stats[w]
			ws.statuses = map[int]int{}
			ws.latencies = make([]time.Duration, 0, 4096)
			bearer := ""
			if p.bearers != nil {
				bearer = p.bearers[w]
			}
			for i := w; !stop.Load() && started.Add(1) <= int64(maxRequests); i += workers {
				o := p.do(client, p.bodies[i%len(p.bodies)], bearer, false)
				ws.statuses[o.status]++
				if o.status != 0 {
					ws.latencies = append(ws.latencies, o.latency)
				}
				if o.err != nil {
					ws.failed++
					if ws.errSample == "" {
						ws.errSample = o.err.Error()
					}
					if o.status == 0 {
						time.Sleep(10 * time.Millisecond) // server gone: do not spin
					}
				}
			}
		})
	}
	wg.Wait()
	return stats, time.Since(begin)
}

// scrapeCPU reads process_cpu_seconds_total from the server's /metrics.
func scrapeCPU(client *http.Client, target string) (time.Duration, error) {
	resp, err := client.Get(target + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	v, err := parseMetric(b, "process_cpu_seconds_total")
	if err != nil {
		return 0, err
	}
	return time.Duration(v * float64(time.Second)), nil
}

func fetchKeySet(client *http.Client, u string) (*jose.KeySet, error) {
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, jose.MaxKeySetBytes+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	ks, _, err := jose.ParseKeySet(b)
	return ks, err
}

// setup is a mode's plan, and how to build its floor from a warm-up response.
type setup struct {
	plan  *plan
	floor func(warm outcome) ([]floorOp, error)
}

// prepare mints the subject tokens and builds the mode's plan.
func prepare(ctx context.Context, o options, is *testissuer.Issuer, target string, client *http.Client) (*setup, error) {
	claims := githubClaims
	if o.mode == "assume-role" || o.mode == "aws4" {
		claims = awsClaims
	}
	tokens, err := mintPool(ctx, is, o.tokens, claims)
	if err != nil {
		return nil, fmt.Errorf("mint subject tokens: %w", err)
	}
	issuerKeys := func() (*jose.KeySet, error) {
		ks, _, err := jose.ParseKeySet([]byte(is.JWKS()))
		return ks, err
	}
	sts := &plan{url: target + "/v1/token", ctype: "application/x-www-form-urlencoded",
		success: []byte(`"access_token":"`), extract: jsonField("access_token")}
	arwwi := &plan{url: target + "/", ctype: "application/x-www-form-urlencoded",
		success: []byte("<AccessKeyId>ASIA"), extract: extractSessionToken}
	switch o.mode {
	case "sts":
		for _, t := range tokens {
			sts.bodies = append(sts.bodies, stsBody(t))
		}
		return &setup{plan: sts, floor: func(warm outcome) ([]floorOp, error) {
			keys, err := issuerKeys()
			if err != nil {
				return nil, err
			}
			return oidcFloorOps(tokens[0], keys, warm.token)
		}}, nil

	case "impersonate":
		for _, t := range tokens {
			sts.bodies = append(sts.bodies, stsBody(t))
		}
		p := &plan{url: target + "/v1/projects/-/serviceAccounts/" + url.PathEscape(keylesstest.SAEmail) + ":generateAccessToken",
			ctype: "application/json", success: []byte(`"accessToken":"`), extract: jsonField("accessToken"),
			bodies: [][]byte{[]byte(`{"scope":["` + scopeCloudPlatform + `"]}`)}}
		for w := range o.concurrency {
			r := sts.do(client, sts.bodies[w%len(sts.bodies)], "", true)
			if r.err != nil {
				return nil, fmt.Errorf("federated token for worker %d: %w", w, r.err)
			}
			p.bearers = append(p.bearers, r.token)
		}
		return &setup{plan: p, floor: func(warm outcome) ([]floorOp, error) {
			keys, err := fetchKeySet(client, target+"/jwks")
			if err != nil {
				return nil, err
			}
			return oidcFloorOps(p.bearers[0], keys, warm.token)
		}}, nil

	case "assume-role":
		for i, t := range tokens {
			arwwi.bodies = append(arwwi.bodies, assumeRoleBody(t, i))
		}
		return &setup{plan: arwwi, floor: func(warm outcome) ([]floorOp, error) {
			keys, err := issuerKeys()
			if err != nil {
				return nil, err
			}
			c, err := parseAssumeRole(warm.body)
			if err != nil {
				return nil, err
			}
			return assumeRoleFloorOps(tokens[0], keys, c.SessionToken, c.AccessKeyID)
		}}, nil

	case "aws4":
		// A few sessions, then a pool of GetCallerIdentity requests signed with them.
		var creds []awsCreds
		for i := range min(maxAWSCredentials, len(tokens)) {
			r := arwwi.do(client, assumeRoleBody(tokens[i], i), "", true)
			if r.err != nil {
				return nil, fmt.Errorf("AWS credentials %d: %w", i, r.err)
			}
			c, err := parseAssumeRole(r.body)
			if err != nil {
				return nil, err
			}
			creds = append(creds, c)
		}
		bodies, signed, err := aws4Pool(ctx, creds, o.tokens, time.Now())
		if err != nil {
			return nil, err
		}
		sts.bodies = bodies
		return &setup{plan: sts, floor: func(warm outcome) ([]floorOp, error) {
			return aws4FloorOps(creds[0], signed, warm.token)
		}}, nil
	}
	return nil, fmt.Errorf("unknown mode %q", o.mode)
}

// measure prepares the plan, warms up, measures the floor, then drives the load and
// reads the server's CPU time around it.
func measure(ctx context.Context, o options, is *testissuer.Issuer, target string, ch *child) (*report, error) {
	client := newHTTPClient(o.concurrency)
	defer client.CloseIdleConnections()
	su, err := prepare(ctx, o, is, target, client)
	if err != nil {
		return nil, err
	}
	p := su.plan

	// Warm-up: every worker's connection and the server's first-use paths, unmeasured.
	var warm outcome
	for w := range o.concurrency * warmupRounds {
		bearer := ""
		if p.bearers != nil {
			bearer = p.bearers[w%o.concurrency]
		}
		warm = p.do(client, p.bodies[w%len(p.bodies)], bearer, true)
		if warm.err != nil {
			return nil, fmt.Errorf("warm-up request failed: %w", warm.err)
		}
	}

	// The floor, measured while the server is idle, over this run's real tokens.
	ops, err := su.floor(warm)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	floor, err := timeFloor(ops, o.floorIters)
	if err != nil {
		return nil, err
	}

	rep := &report{mode: o.mode, floor: floor, statuses: map[int]int{}}
	tick := clockTick()
	cpu0, cpuErr := scrapeCPU(client, target)
	var proc0 time.Duration
	procErr := errors.New("not a child process")
	if ch != nil {
		proc0, procErr = ch.procCPU(tick)
	}
	self0, selfOK := selfCPU()

	stats, elapsed := p.drive(ctx, client, o.concurrency, o.duration, o.maxRequests)

	self1, selfOK1 := selfCPU()
	if cpuErr == nil {
		var cpu1 time.Duration
		if cpu1, cpuErr = scrapeCPU(client, target); cpuErr == nil {
			rep.serverCPU = cpu1 - cpu0
		}
	}
	rep.cpuErr = cpuErr
	if procErr == nil {
		var proc1 time.Duration
		if proc1, procErr = ch.procCPU(tick); procErr == nil {
			rep.procCPU, rep.hasProc = proc1-proc0, true
		}
	}
	if selfOK && selfOK1 {
		rep.clientCPU, rep.hasClient = self1-self0, true
	}
	rep.elapsed = elapsed
	for _, ws := range stats {
		rep.latencies = append(rep.latencies, ws.latencies...)
		for s, n := range ws.statuses {
			rep.statuses[s] += n
			rep.requests += n
		}
		rep.failed += ws.failed
		if ws.errSample != "" && len(rep.errSamples) < 3 && !slices.Contains(rep.errSamples, ws.errSample) {
			rep.errSamples = append(rep.errSamples, ws.errSample)
		}
	}
	slices.Sort(rep.latencies)
	return rep, nil
}

// report is the outcome of the measured phase.
type report struct {
	mode             string
	requests, failed int
	statuses         map[int]int
	errSamples       []string
	elapsed          time.Duration
	latencies        []time.Duration // sorted
	serverCPU        time.Duration
	cpuErr           error
	procCPU          time.Duration
	hasProc          bool
	clientCPU        time.Duration
	hasClient        bool
	floor            floorResult
}

func (r *report) print(w io.Writer) {
	unit := map[string]string{"impersonate": "generateAccessToken", "assume-role": "AssumeRoleWithWebIdentity",
		"aws4": "aws4_request exchanges"}[r.mode]
	if unit == "" {
		unit = "exchanges"
	}
	ok := r.requests - r.failed
	fmt.Fprintf(w, "requests        %d (%d ok, %d failed) in %.2f s\n", r.requests, ok, r.failed, r.elapsed.Seconds())
	codes := make([]int, 0, len(r.statuses))
	for c := range r.statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var cs []string
	for _, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "transport-error"
		}
		cs = append(cs, fmt.Sprintf("%s×%d", name, r.statuses[c]))
	}
	fmt.Fprintf(w, "status codes    %s\n", strings.Join(cs, " "))
	fmt.Fprintf(w, "throughput      %.1f %s/s\n", float64(ok)/r.elapsed.Seconds(), unit)
	l := r.latencies
	fmt.Fprintf(w, "latency         p50 %s  p90 %s  p99 %s  max %s\n",
		ms(percentile(l, 50)), ms(percentile(l, 90)), ms(percentile(l, 99)), ms(percentile(l, 100)))
	fmt.Fprintf(w, "crypto floor    %s (thread CPU, stdlib, in-process)\n", r.floor)
	if r.requests > 0 {
		per := func(d time.Duration) time.Duration { return d / time.Duration(r.requests) }
		if r.cpuErr == nil {
			fmt.Fprintf(w, "server CPU      %.2f s, %s per request (process_cpu_seconds_total)", r.serverCPU.Seconds(), micros(per(r.serverCPU)))
			if r.hasProc {
				fmt.Fprintf(w, "; /proc: %s", micros(per(r.procCPU)))
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "CPU / floor     %.2fx (target ≤ 2x)\n", float64(per(r.serverCPU))/float64(r.floor.total()))
		} else {
			fmt.Fprintf(w, "server CPU      unavailable: %v\n", r.cpuErr)
		}
		if r.hasClient {
			fmt.Fprintf(w, "client CPU      %s per request (this load generator, same machine)\n", micros(per(r.clientCPU)))
		}
	}
	fmt.Fprintf(w, "errors          %d\n", r.failed)
	for _, s := range r.errSamples {
		fmt.Fprintf(w, "  e.g. %s\n", s)
	}
}
