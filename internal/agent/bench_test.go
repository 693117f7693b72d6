package agent_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2/google/externalaccount"

	"github.com/keylessdev/keyless/internal/agent"
	"github.com/keylessdev/keyless/internal/agent/refresh"
	"github.com/keylessdev/keyless/internal/keylesstest"
)

// Cached requests: the chained agent (default refresh options, hour-long credentials)
// answering over keep-alive loopback connections, one client connection per goroutine.
// Reported: p50-us and p99-us (per-request latency, nearest rank) and req/s; ns/op is
// wall time per request across all connections (1/throughput).

func BenchmarkAgentGCEToken(b *testing.B) {
	a := benchAgent(b)
	url := "http://" + a.Addrs["gceMetadata"] + gceTokenPath
	for _, conns := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			benchRequests(b, conns, func(c *http.Client) *http.Request {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Metadata-Flavor", "Google")
				return req
			})
		})
	}
}

func BenchmarkAgentIMDSCredentials(b *testing.B) {
	a := benchAgent(b)
	addr := a.Addrs["imds"]
	for _, conns := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			benchRequests(b, conns, func(c *http.Client) *http.Request {
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+imdsCredsPath(), nil)
				req.Header.Set("X-aws-ec2-metadata-token", imdsSessionToken(b, c, addr))
				return req
			})
		})
	}
}

// BenchmarkFullChain is what one cache miss costs: the agent's own exchange code against
// an in-process keyless (audit durable in SQLite), no cache anywhere.
//   - arwwi+aws4+gat: AssumeRoleWithWebIdentity, then an aws4_request token exchange
//     signed with those credentials, then generateAccessToken (both caches cold).
//   - aws4+gat: the Google refresh alone (AWS credentials cached, as in the agent).
//   - arwwi: the AWS refresh alone.
func BenchmarkFullChain(b *testing.B) {
	r := newRig(b)
	ax, err := agent.NewAWSExchange(agent.AWSConfig{RoleARN: keylesstest.AWSRoleARN(), WebIdentityTokenFile: r.webToken,
		STSEndpoint: r.f.URL, Region: "us-east-1", RoleSessionName: "bench"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cold := &awsSupplier{x: ax}
	gCold, err := agent.NewGoogleExchange(r.credentialConfig(b, r.f.URL, 0), "", cold)
	if err != nil {
		b.Fatal(err)
	}
	warm := &awsSupplier{x: ax, keep: true}
	gWarm, err := agent.NewGoogleExchange(r.credentialConfig(b, r.f.URL, 0), "", warm)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		op   func() error
	}{
		{"arwwi+aws4+gat", func() error { _, err := gCold.AccessToken(ctx, nil); return err }},
		{"aws4+gat", func() error { _, err := gWarm.AccessToken(ctx, nil); return err }},
		{"arwwi", func() error { _, err := ax.Credentials(ctx); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if err := c.op(); err != nil { // warm connections (and the warm supplier)
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if err := c.op(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
	if n := cold.calls.Load(); n < 2 {
		b.Errorf("the cold supplier was asked %d times", n)
	}
}

// awsSupplier feeds the Google exchange AWS credentials: a new AssumeRoleWithWebIdentity
// every time, or (keep) the first credentials again.
type awsSupplier struct {
	x     *agent.AWSExchange
	keep  bool
	calls atomic.Int64
	mu    sync.Mutex
	cur   *externalaccount.AwsSecurityCredentials
}

func (s *awsSupplier) AwsRegion(context.Context, externalaccount.SupplierOptions) (string, error) {
	return "us-east-1", nil
}

func (s *awsSupplier) AwsSecurityCredentials(ctx context.Context, _ externalaccount.SupplierOptions) (*externalaccount.AwsSecurityCredentials, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keep && s.cur != nil {
		return s.cur, nil
	}
	cr, err := s.x.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	s.cur = &externalaccount.AwsSecurityCredentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken}
	return s.cur, nil
}

// benchAgent runs the chained agent (hour-long credentials, default refresh options)
// against an in-process keyless, and waits until it serves.
func benchAgent(b *testing.B) *agent.Agent {
	r := newRig(b)
	a := runAgent(b, r.chainConfig(b, r.f.URL, 0), refresh.Options{}, nil)
	waitHealthy(b, a, 30*time.Second)
	return a
}

// benchRequests sends b.N requests over conns keep-alive connections (one goroutine
// each) and reports per-request latency percentiles and throughput.
func benchRequests(b *testing.B, conns int, newReq func(*http.Client) *http.Request) {
	clients := make([]*http.Client, conns)
	reqs := make([]*http.Request, conns)
	for i := range conns {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
		b.Cleanup(tr.CloseIdleConnections)
		clients[i] = &http.Client{Transport: tr}
		reqs[i] = newReq(clients[i])
		if err := send(clients[i], reqs[i]); err != nil { // open the connection
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	lats := make([][]time.Duration, conns)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, b.N/conns+1)
			for next.Add(1) <= int64(b.N) {
				start := time.Now()
				if err := send(clients[i], reqs[i]); err != nil {
					errs[i] = err
					break
				}
				lat = append(lat, time.Since(start))
			}
			lats[i] = lat
		}()
	}
	wg.Wait()
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	reportLatency(b, slices.Concat(lats...))
}

func send(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || n == 0 {
		return fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
	}
	return nil
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(pct(lat, 50))/1e3, "p50-us")
	b.ReportMetric(float64(pct(lat, 99))/1e3, "p99-us")
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(len(lat))/s, "req/s")
	}
}
