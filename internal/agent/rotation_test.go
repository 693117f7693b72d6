package agent_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/agent"
	"github.com/keylessdev/keyless/internal/agent/refresh"
)

// Rotation test parameters. The Google token lives 20 s and is served until 2 s before
// expiry, so the cache refreshes at 12 s (usable 18 s, minus a third for retries). The
// AWS-only agent gets 900 s sessions (STS's minimum) with an 882 s margin: the same 18 s
// usable window and 12 s refresh. Every request to keyless is delayed by proxyDelay, so a
// fetch costs ≥ proxyDelay (AWS) or ≥ 2·proxyDelay (Google): a client request that waited
// on one would show it.
const (
	googleLifetime = 20 // seconds
	awsDuration    = 900
	googleMargin   = 2 * time.Second
	awsMargin      = 882 * time.Second
	proxyDelay     = 150 * time.Millisecond
	loadDuration   = 60 * time.Second
	outageDrop     = 6500 * time.Millisecond // connections dropped, then
	outage503      = 7 * time.Second         // 503s: 13.5 s in all, longer than one refresh interval
	maxLatency     = 50 * time.Millisecond
	loadPace       = 2 * time.Millisecond // pause between one worker's requests
)

// lane is one short-lived pipeline with its own proxy to keyless, so that its outage
// can be placed in its own refresh cycle.
type lane struct {
	agent, pipeline string
	kind            string // the load workers reading it
	margin          time.Duration
	proxy           *toggleProxy
	cut, restored   time.Time
}

// TestAgentRotationUnderLoad: short-lived credentials rotate under steady client load; no
// request fails or waits on a refresh; refreshes land before expiry; a keyless outage
// longer than one refresh interval is ridden out on the cached credentials and shows in
// /status and /metrics; the first refresh after it succeeds.
func TestAgentRotationUnderLoad(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	lanes := []*lane{
		{agent: "chain", pipeline: "google-access-token", kind: "gce", margin: googleMargin, proxy: startToggleProxy(t, r.f.URL)},
		{agent: "aws", pipeline: "aws-role", kind: "imds", margin: awsMargin, proxy: startToggleProxy(t, r.f.URL)},
	}
	for _, l := range lanes {
		l.proxy.delay.Store(int64(proxyDelay))
	}
	log := &eventLog{}
	ro := refresh.Options{ExpiryMargin: googleMargin, MinBackoff: 250 * time.Millisecond, MaxBackoff: time.Second,
		FetchTimeout: 10 * time.Second, Jitter: 0.05}
	chain := runAgent(t, r.chainConfig(t, lanes[0].proxy.URL, googleLifetime), ro, log.handler("chain"))
	roAWS := ro
	roAWS.ExpiryMargin = awsMargin
	awsOnly := runAgent(t, r.awsConfig(t, lanes[1].proxy.URL, awsDuration), roAWS, log.handler("aws"))
	waitHealthy(t, chain, 20*time.Second)
	waitHealthy(t, awsOnly, 20*time.Second)

	// The credentials really are short-lived.
	c := newClient(t)
	code, body := do(c, "GET", "http://"+chain.Addrs["gceMetadata"]+gceTokenPath, map[string]string{"Metadata-Flavor": "Google"})
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if code != 200 || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("first token: %d %s", code, body)
	}
	iat, exp, err := jwtTimes(tok.AccessToken)
	if err != nil || exp-iat != googleLifetime || tok.ExpiresIn < googleLifetime-5 || tok.ExpiresIn > googleLifetime {
		t.Fatalf("token lifetime %d s, expires_in %d (%v); want %d s", exp-iat, tok.ExpiresIn, err, googleLifetime)
	}
	imdsTok := imdsSessionToken(t, c, awsOnly.Addrs["imds"])
	code, body = do(c, "GET", "http://"+awsOnly.Addrs["imds"]+imdsCredsPath(), map[string]string{"X-aws-ec2-metadata-token": imdsTok})
	var cr struct{ Expiration time.Time }
	if code != 200 || json.Unmarshal(body, &cr) != nil || time.Until(cr.Expiration) > awsDuration*time.Second || time.Until(cr.Expiration) < awsMargin {
		t.Fatalf("aws session: %d %s", code, body)
	}

	// Steady load, a status poller and a stall detector for loadDuration.
	t0 := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), t0.Add(loadDuration))
	defer cancel()
	var wg sync.WaitGroup
	results := make([]*workerResult, 6)
	for i := range results {
		wc := newClient(t)
		var w worker
		switch {
		case i < 3:
			w = worker{kind: "gce", url: "http://" + chain.Addrs["gceMetadata"] + gceTokenPath,
				hdr: map[string]string{"Metadata-Flavor": "Google"}, parse: parseGCEToken}
		case i < 5:
			w = worker{kind: "imds", url: "http://" + awsOnly.Addrs["imds"] + imdsCredsPath(),
				hdr: map[string]string{"X-aws-ec2-metadata-token": imdsSessionToken(t, wc, awsOnly.Addrs["imds"])}, parse: parseIMDSCreds}
		default: // the chain agent's own (hour-long) AWS session
			w = worker{kind: "imds-chain", url: "http://" + chain.Addrs["imds"] + imdsCredsPath(),
				hdr: map[string]string{"X-aws-ec2-metadata-token": imdsSessionToken(t, wc, chain.Addrs["imds"])}, parse: parseIMDSCreds}
		}
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = w.run(ctx, wc, t0) }()
	}
	var snaps []statusSnap
	var stalls []interval
	wg.Add(2)
	go func() {
		defer wg.Done()
		pc := newClient(t)
		for ctx.Err() == nil {
			snaps = append(snaps, pollStatus(pc, "chain", chain, "google-access-token"), pollStatus(pc, "aws", awsOnly, "aws-role"))
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	go func() { defer wg.Done(); stalls = detectStalls(ctx, t0) }()

	// Cut each lane off just after its credential has rotated once, for longer than a
	// refresh interval but less than the credential's remaining usable time.
	var outages sync.WaitGroup
	for _, l := range lanes {
		outages.Add(1)
		go func() {
			defer outages.Done()
			for deadline := time.Now().Add(25 * time.Second); len(log.events(l.agent, l.pipeline, "credential refreshed")) < 2; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					return // reported below: no outage
				}
			}
			l.cut = time.Now()
			l.proxy.mode.Store(proxyDrop)
			time.Sleep(outageDrop)
			l.proxy.mode.Store(proxyUnavailable)
			time.Sleep(outage503)
			l.proxy.mode.Store(proxyUp)
			l.restored = time.Now()
		}()
	}
	outages.Wait()
	wg.Wait()

	// Control: a request that does wait on a fetch (an ID token for a new audience is
	// fetched on first use) is far slower than the bound above.
	start := time.Now()
	code, body = do(c, "GET", "http://"+chain.Addrs["gceMetadata"]+"/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://control.example",
		map[string]string{"Metadata-Flavor": "Google"})
	if lat := time.Since(start); code != 200 || lat < 2*proxyDelay {
		t.Errorf("control: a cold ID token took %v (%d %.100s), want ≥ %v", lat, code, body, 2*proxyDelay)
	} else {
		t.Logf("control: a request that waits on a fetch takes %v", lat.Round(time.Millisecond))
	}

	// The timeline, from the agents' own log lines.
	for _, l := range lanes {
		t.Logf("%s outage %+.3fs..%+.3fs (dropped connections, then 503)", l.pipeline, l.cut.Sub(t0).Seconds(), l.restored.Sub(t0).Seconds())
	}
	for _, e := range log.all() {
		if e.Pipeline == "" {
			if e.Level < slog.LevelWarn {
				continue // "agent serving"
			}
			t.Errorf("unexpected log line from %s: %q %s", e.Agent, e.Msg, e.Err)
			continue
		}
		line := fmt.Sprintf("%+8.3fs %-5s %-19s %s", e.At.Sub(t0).Seconds(), e.Agent, e.Pipeline, e.Msg)
		if !e.Expires.IsZero() {
			line += fmt.Sprintf(" (expires %+.0fs)", e.Expires.Sub(t0).Seconds())
		}
		if e.Err != "" {
			line += fmt.Sprintf(" (consecutive %d: %.100s)", e.Consecutive, e.Err)
		}
		t.Log(line)
	}

	for _, l := range lanes {
		if l.cut.IsZero() {
			t.Errorf("%s: did not rotate twice within 25 s; no outage", l.pipeline)
			continue
		}
		checkLane(t, l, log, snaps, t0)
		if l.proxy.refused.Load() == 0 {
			t.Errorf("%s: the proxy refused nothing: there was no outage", l.pipeline)
		}
	}

	// The clients saw none of it.
	byKind := map[string]*workerResult{}
	for _, w := range results {
		m := byKind[w.kind]
		if m == nil {
			m = &workerResult{kind: w.kind, seen: map[string]*servedCred{}, minRemaining: w.minRemaining}
			byKind[w.kind] = m
		}
		m.merge(w)
	}
	// Every fetch attempt (successes carry their duration; failures here are immediate).
	var fetches []interval
	for _, e := range log.all() {
		if e.Pipeline != "" {
			fetches = append(fetches, interval{e.At.Add(-e.Took - time.Millisecond).Sub(t0), e.At.Sub(t0)})
		}
	}
	var total time.Duration
	for _, s := range stalls {
		total += s.end - s.start
	}
	t.Logf("process stalls ≥ %v: %d, %v in all, longest %v", stallThreshold, len(stalls), total.Round(time.Millisecond), longest(stalls))
	for _, kind := range []string{"gce", "imds", "imds-chain"} {
		w := byKind[kind]
		l := lanes[0]
		if kind == "imds" {
			l = lanes[1]
		}
		inOutage := func(s sample) bool { return s.at > l.cut.Sub(t0) && s.at < l.restored.Sub(t0) }
		all, out := w.latencies(nil), w.latencies(inOutage)
		var slow, duringFetch, unexplained []sample
		var inFetch []time.Duration
		for _, s := range w.samples {
			if overlaps(s, fetches) {
				inFetch = append(inFetch, s.lat)
			}
			if s.lat >= maxLatency {
				slow = append(slow, s)
				if overlaps(s, fetches) {
					duringFetch = append(duringFetch, s)
					if !explained(s, stalls) {
						unexplained = append(unexplained, s)
					}
				}
			}
		}
		t.Logf("%-10s %6d requests (%d during the outage), %d failed; latency p50 %v p99 %v max %v (outage p99 %v max %v; overlapping a fetch: %d, max %v); %d ≥ %v, %d of them during a fetch, %d of those not during a process stall; %d distinct credentials; min remaining lifetime at serve %v",
			kind, len(all), len(out), len(w.failures), pct(all, 50), pct(all, 99), pct(all, 100), pct(out, 99), pct(out, 100), len(inFetch), slices.Max(append(inFetch, 0)),
			len(slow), maxLatency, len(duringFetch), len(unexplained), len(w.seen), w.minRemaining.Round(time.Millisecond))
		for i, f := range w.failures {
			if i < 5 {
				t.Errorf("%s: %s", kind, f)
			}
		}
		if len(all) < 1000 || len(out) < 100 {
			t.Errorf("%s: only %d requests (%d during the outage)", kind, len(all), len(out))
		}
		// A request that waited on a fetch overlaps it and takes ≥ proxyDelay. A slow
		// request overlapping a fetch is excused only by a process stall covering its
		// excess (the process not scheduled on the shared vCPUs); slow requests outside
		// every fetch cannot have waited on one (machine noise, reported above).
		for i, s := range unexplained {
			if i < 5 {
				t.Errorf("%s: request at %v took %v (≥ %v) during a fetch, with no process stall to explain it", kind, s.at, s.lat, maxLatency)
			}
		}
		if w.minRemaining <= 0 {
			t.Errorf("%s: a credential was served with %v left", kind, w.minRemaining)
		}
		want := 3 // rotated before, after and once more after the outage
		if kind == "imds-chain" {
			want = 1 // the hour-long session does not rotate
		}
		if len(w.seen) < want {
			t.Errorf("%s: %d distinct credentials served, want ≥ %d", kind, len(w.seen), want)
		}
		if kind != "imds-chain" && !w.seenAfter(l.restored) {
			t.Errorf("%s: no credential minted after the outage was served", kind)
		}
	}
}

// checkLane checks one pipeline's refresh schedule, its outage, and what /status and
// /metrics reported.
func checkLane(t *testing.T, l *lane, log *eventLog, snaps []statusSnap, t0 time.Time) {
	t.Helper()
	ok := log.events(l.agent, l.pipeline, "credential refreshed")
	failed := log.events(l.agent, l.pipeline, "credential refresh failed")
	// Every refresh landed while the previous credential was still usable.
	for i := 1; i < len(ok); i++ {
		if usable := ok[i-1].Expires.Add(-l.margin); !ok[i].At.Before(usable) {
			t.Errorf("%s: refresh %d at %v, after the previous credential stopped being usable (%v)", l.pipeline, i, ok[i].At.Sub(t0), usable.Sub(t0))
		}
	}
	// The outage outlasted a refresh interval and ended inside the usable window.
	interval := ok[1].At.Sub(ok[0].At)
	atCut := ok[1]
	if outage := l.restored.Sub(l.cut); outage <= interval {
		t.Errorf("%s: outage %v is not longer than the refresh interval %v", l.pipeline, outage, interval)
	}
	usable := atCut.Expires.Add(-l.margin)
	if !l.restored.Before(usable) {
		t.Errorf("%s: outage ended at %v, after the cached credential stopped being usable (%v)", l.pipeline, l.restored.Sub(t0), usable.Sub(t0))
	}
	during := 0
	for _, e := range failed {
		if e.At.After(l.cut) && e.At.Before(l.restored.Add(time.Second)) {
			during++
		}
	}
	if during == 0 || len(failed) != during {
		t.Errorf("%s: %d failed refreshes during the outage, %d in all; want ≥ 1, all during it", l.pipeline, during, len(failed))
	}
	var recovered *logEvent
	after := 0
	for i := range ok {
		if ok[i].At.After(l.restored) {
			if recovered == nil {
				recovered = &ok[i]
			}
			after++
		}
	}
	switch {
	case recovered == nil:
		t.Errorf("%s: no refresh after the outage", l.pipeline)
	case !recovered.At.Before(usable):
		t.Errorf("%s: recovered at %v, after the credential stopped being usable (%v)", l.pipeline, recovered.At.Sub(t0), usable.Sub(t0))
	default:
		t.Logf("%s: refresh interval %v; outage %v; recovered %v after it, %v before the credential would have stopped being served",
			l.pipeline, interval.Round(time.Millisecond), l.restored.Sub(l.cut).Round(time.Millisecond),
			recovered.At.Sub(l.restored).Round(time.Millisecond), usable.Sub(recovered.At).Round(time.Millisecond))
	}
	if after < 2 {
		t.Errorf("%s: %d refreshes after the outage, want ≥ 2 (rotation resumed)", l.pipeline, after)
	}

	// /status and /metrics during and after the outage.
	var sawFailure, sawMetric, sawRecovered bool
	for _, s := range snaps {
		if s.agent != l.agent {
			continue
		}
		st, found := s.pipelines[l.pipeline]
		if s.err != "" || !found {
			t.Errorf("%s status at %v: %s", l.agent, s.at.Sub(t0), s.err)
			continue
		}
		if s.code != 200 || !st.Valid {
			t.Errorf("%s status at %v: %d valid=%v (the cached credential must stay valid)", l.agent, s.at.Sub(t0), s.code, st.Valid)
		}
		if s.at.After(l.cut) && s.at.Before(l.restored) {
			sawFailure = sawFailure || st.ConsecutiveFailures >= 1 && st.LastError != "" && st.Valid
			sawMetric = sawMetric || s.failuresMetric > 0 && s.consecutiveMetric >= 1
		}
		if recovered != nil && s.at.After(recovered.At) {
			if st.ConsecutiveFailures != 0 || st.LastError != "" || st.Failures == 0 || s.consecutiveMetric != 0 || s.failuresMetric <= 0 {
				t.Errorf("%s status at %v after recovery: consecutive %d, failures %d, lastError %q", l.pipeline, s.at.Sub(t0), st.ConsecutiveFailures, st.Failures, st.LastError)
			}
			sawRecovered = true
		}
	}
	if !sawFailure || !sawMetric || !sawRecovered {
		t.Errorf("%s: status showed the failure %v, metrics %v, recovery %v; want all", l.pipeline, sawFailure, sawMetric, sawRecovered)
	}
}

// Stall detection: a goroutine that sleeps stallTick at a time sees the process (or the
// machine) not running it as a longer gap.
const (
	stallTick      = time.Millisecond
	stallThreshold = 10 * time.Millisecond
)

type interval struct{ start, end time.Duration } // relative to t0

func detectStalls(ctx context.Context, t0 time.Time) []interval {
	var out []interval
	prev := time.Now()
	for ctx.Err() == nil {
		time.Sleep(stallTick)
		now := time.Now()
		if now.Sub(prev) >= stallThreshold {
			out = append(out, interval{prev.Sub(t0), now.Sub(t0)})
		}
		prev = now
	}
	return out
}

// explained: the stalls overlapping s cover all of its latency beyond maxLatency.
func explained(s sample, stalls []interval) bool {
	var covered time.Duration
	end := s.at + s.lat
	for _, st := range stalls {
		if lo, hi := max(st.start, s.at), min(st.end, end); hi > lo {
			covered += hi - lo
		}
	}
	return covered >= s.lat-maxLatency
}

func overlaps(s sample, iv []interval) bool {
	for _, i := range iv {
		if i.start < s.at+s.lat && s.at < i.end {
			return true
		}
	}
	return false
}

func longest(iv []interval) time.Duration {
	var m time.Duration
	for _, i := range iv {
		m = max(m, i.end-i.start)
	}
	return m
}

func do(c *http.Client, method, url string, hdr map[string]string) (int, []byte) {
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func waitEvents(t *testing.T, l *eventLog, agentName, pipeline, msg string, n int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if len(l.events(agentName, pipeline, msg)) >= n {
			return
		}
	}
	t.Fatalf("%s %s: fewer than %d %q within %v", agentName, pipeline, n, msg, within)
}

// worker sends one kind of request back to back (loadPace apart) over one keep-alive
// connection and checks every answer.
type worker struct {
	kind  string
	url   string
	hdr   map[string]string
	parse func(body []byte) (id string, exp time.Time, err error)
}

type sample struct {
	at, lat time.Duration // start, relative to t0; latency
}

type servedCred struct {
	first, last time.Time
	exp         time.Time
}

type workerResult struct {
	kind         string
	samples      []sample
	seen         map[string]*servedCred // by credential fingerprint
	failures     []string
	minRemaining time.Duration
}

func (w worker) run(ctx context.Context, c *http.Client, t0 time.Time) *workerResult {
	res := &workerResult{kind: w.kind, seen: map[string]*servedCred{}, minRemaining: time.Duration(1<<63 - 1)}
	req, _ := http.NewRequest(http.MethodGet, w.url, nil)
	for k, v := range w.hdr {
		req.Header.Set(k, v)
	}
	var lastBody []byte
	var lastID string
	var lastExp time.Time
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := c.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		end := time.Now()
		res.samples = append(res.samples, sample{at: start.Sub(t0), lat: end.Sub(start)})
		switch {
		case err != nil:
			res.failures = append(res.failures, fmt.Sprintf("at %v: %v", start.Sub(t0), err))
		case resp.StatusCode != 200:
			res.failures = append(res.failures, fmt.Sprintf("at %v: %d %.200s", start.Sub(t0), resp.StatusCode, body))
		default:
			if !bytes.Equal(body, lastBody) { // parse only what changed (expires_in ticks)
				id, exp, err := w.parse(body)
				if err != nil {
					res.failures = append(res.failures, fmt.Sprintf("at %v: %v", start.Sub(t0), err))
					break
				}
				lastBody, lastID, lastExp = body, id, exp
			}
			s := res.seen[lastID]
			if s == nil {
				s = &servedCred{first: end, exp: lastExp}
				res.seen[lastID] = s
			}
			s.last = end
			res.minRemaining = min(res.minRemaining, lastExp.Sub(end))
		}
		select {
		case <-ctx.Done():
		case <-time.After(loadPace):
		}
	}
	return res
}

func (w *workerResult) merge(o *workerResult) {
	w.samples = append(w.samples, o.samples...)
	w.failures = append(w.failures, o.failures...)
	w.minRemaining = min(w.minRemaining, o.minRemaining)
	for id, s := range o.seen {
		if m := w.seen[id]; m == nil {
			w.seen[id] = s
		} else {
			m.first, m.last = minTime(m.first, s.first), maxTime(m.last, s.last)
		}
	}
}

func (w *workerResult) latencies(keep func(sample) bool) []time.Duration {
	var out []time.Duration
	for _, s := range w.samples {
		if keep == nil || keep(s) {
			out = append(out, s.lat)
		}
	}
	slices.Sort(out)
	return out
}

func (w *workerResult) seenAfter(t time.Time) bool {
	for _, s := range w.seen {
		if s.first.After(t) {
			return true
		}
	}
	return false
}

// pct is the nearest-rank percentile of sorted latencies.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i, 1)-1]
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func fingerprint(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

func parseGCEToken(body []byte) (string, time.Time, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.TokenType != "Bearer" || tok.ExpiresIn < 1 {
		return "", time.Time{}, fmt.Errorf("malformed token answer (%v)", err)
	}
	_, exp, err := jwtTimes(tok.AccessToken)
	if err != nil {
		return "", time.Time{}, err
	}
	return fingerprint(tok.AccessToken), time.Unix(exp, 0), nil
}

func parseIMDSCreds(body []byte) (string, time.Time, error) {
	var c struct {
		Code, AccessKeyId, SecretAccessKey, Token string
		Expiration                                time.Time
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Code != "Success" || !strings.HasPrefix(c.AccessKeyId, "ASIA") || c.Token == "" {
		return "", time.Time{}, fmt.Errorf("malformed credentials answer (%v)", err)
	}
	return c.AccessKeyId, c.Expiration, nil
}

// statusSnap is one poll of an agent's /status and /metrics.
type statusSnap struct {
	at                time.Time
	agent             string
	code              int
	err               string
	pipelines         map[string]pipelineStatus
	failuresMetric    float64 // keyless_agent_refresh_failures_total of the watched pipeline
	consecutiveMetric float64 // keyless_agent_consecutive_failures of it
}

type pipelineStatus struct {
	Pipeline            string `json:"pipeline"`
	Valid               bool   `json:"valid"`
	Refreshes           int64  `json:"refreshes"`
	Failures            int64  `json:"failures"`
	ConsecutiveFailures int64  `json:"consecutiveFailures"`
	LastError           string `json:"lastError"`
}

func pollStatus(c *http.Client, name string, a *agent.Agent, pipeline string) statusSnap {
	s := statusSnap{at: time.Now(), agent: name, pipelines: map[string]pipelineStatus{}, failuresMetric: -1, consecutiveMetric: -1}
	code, body := do(c, "GET", "http://"+a.Addrs["status"]+"/status", nil)
	s.code = code
	var st struct {
		Healthy   bool             `json:"healthy"`
		Pipelines []pipelineStatus `json:"pipelines"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		s.err = fmt.Sprintf("/status %d: %.200s", code, body)
		return s
	}
	for _, p := range st.Pipelines {
		s.pipelines[p.Pipeline] = p
	}
	code, body = do(c, "GET", "http://"+a.Addrs["status"]+"/metrics", nil)
	if code != 200 {
		s.err = fmt.Sprintf("/metrics %d", code)
		return s
	}
	labels := `{key="",pipeline="` + pipeline + `"} `
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "keyless_agent_refresh_failures_total"+labels); ok {
			s.failuresMetric, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(line, "keyless_agent_consecutive_failures"+labels); ok {
			s.consecutiveMetric, _ = strconv.ParseFloat(v, 64)
		}
	}
	if s.failuresMetric < 0 || s.consecutiveMetric < 0 {
		s.err = "metrics lack " + pipeline
	}
	return s
}
