package audit_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/store/storetest"
)

// BenchmarkRecordParallel measures durable group-committed auditing on
// SQLite (synchronous=FULL) with 16 waiting callers per CPU.
func BenchmarkRecordParallel(b *testing.B) {
	f := &storetest.Faulty{Store: openStore(b)} // counts commits
	w := audit.NewWriter(audit.WriterOptions{Store: f})
	defer w.Close()
	ev := newEvent(audit.OutcomeAllow)
	b.SetParallelism(16)
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := ev
			e.DecisionID = audit.NewDecisionID(time.Now(), rand.Reader)
			if err := w.Record(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(f.Appended())/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(f.AppendCalls()), "commits")
	if f.AppendCalls() > 0 {
		b.ReportMetric(float64(f.Appended())/float64(f.AppendCalls()), "events/commit")
	}
}

// BenchmarkRecordSerial is one caller at a time: every event pays a full
// fsync, the latency an idle server sees.
func BenchmarkRecordSerial(b *testing.B) {
	w := audit.NewWriter(audit.WriterOptions{Store: openStore(b)})
	defer w.Close()
	ev := newEvent(audit.OutcomeAllow)
	for b.Loop() {
		e := ev
		e.DecisionID = audit.NewDecisionID(time.Now(), rand.Reader)
		if err := w.Record(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode is the per-event CPU spent in the caller's goroutine
// (validation, redaction scan, JSON encoding).
func BenchmarkEncode(b *testing.B) {
	var sink discard
	w := audit.NewWriter(audit.WriterOptions{Sink: &sink})
	defer w.Close()
	ev := newEvent(audit.OutcomeAllow)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Record(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }
