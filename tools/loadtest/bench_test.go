package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHTTPSTS is POST /v1/token through the whole HTTP stack of an in-process
// server (audit to SQLite included), from 8×GOMAXPROCS concurrent keep-alive clients.
// cpu-ns/op is the process's CPU per exchange and so includes the client's share; use
// it with -cpuprofile and pprof -focus=serverHandler to see the server's costs.
func BenchmarkHTTPSTS(b *testing.B) {
	is := startIssuer(b, "RS256")
	target := startServer(b, federation(is, true))
	tokens, err := mintPool(context.Background(), is, 256)
	if err != nil {
		b.Fatal(err)
	}
	p := &plan{url: target + "/v1/token", ctype: "application/x-www-form-urlencoded", success: []byte(`"access_token":"`)}
	for _, t := range tokens {
		p.bodies = append(p.bodies, stsBody(t))
	}
	client := newHTTPClient(64)
	defer client.CloseIdleConnections()
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ReportAllocs()
	c0, _ := selfCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if o := p.do(client, p.bodies[next.Add(1)%uint64(len(p.bodies))], "", false); o.err != nil {
				b.Errorf("exchange: %v", o.err)
				return
			}
		}
	})
	b.StopTimer()
	if c1, ok := selfCPU(); ok && b.N > 0 {
		b.ReportMetric(float64(c1-c0)/float64(b.N)/float64(time.Nanosecond), "cpu-ns/op")
	}
}
