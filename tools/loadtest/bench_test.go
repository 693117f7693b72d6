package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// benchHTTP drives mode's requests through the whole HTTP stack of an in-process
// server (audit to SQLite included), from 8×GOMAXPROCS concurrent keep-alive clients.
// cpu-ns/op is the process's CPU per request and so includes the client's share; use
// it with -cpuprofile and pprof -focus=serverHandler to see the server's costs.
func benchHTTP(b *testing.B, mode string) {
	is := startIssuer(b, "RS256")
	target := startServer(b, federation(is, true))
	client := newHTTPClient(64)
	defer client.CloseIdleConnections()
	o := options{mode: mode, concurrency: 1, tokens: 256}
	su, err := prepare(context.Background(), o, is, target, client)
	if err != nil {
		b.Fatal(err)
	}
	p := su.plan
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ReportAllocs()
	c0, _ := selfCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if o := p.do(client, p.bodies[next.Add(1)%uint64(len(p.bodies))], "", false); o.err != nil {
				b.Errorf("%s: %v", mode, o.err)
				return
			}
		}
	})
	b.StopTimer()
	if c1, ok := selfCPU(); ok && b.N > 0 {
		b.ReportMetric(float64(c1-c0)/float64(b.N)/float64(time.Nanosecond), "cpu-ns/op")
	}
}

// BenchmarkHTTPSTS is POST /v1/token with OIDC subject tokens.
func BenchmarkHTTPSTS(b *testing.B) { benchHTTP(b, "sts") }

// BenchmarkHTTPAssumeRole is POST / AssumeRoleWithWebIdentity.
func BenchmarkHTTPAssumeRole(b *testing.B) { benchHTTP(b, "assume-role") }

// BenchmarkHTTPAWS4 is POST /v1/token with aws4_request subject tokens signed with
// keyless-issued AWS credentials.
func BenchmarkHTTPAWS4(b *testing.B) { benchHTTP(b, "aws4") }
