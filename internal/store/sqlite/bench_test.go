package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/store"
)

func benchRecord(i int) store.AuditRecord {
	return store.AuditRecord{
		ID: fmt.Sprintf("%026d", i), Time: time.Unix(1_700_000_000, int64(i)*1000),
		Dialect: "google.sts", Method: "token", Outcome: "allow",
		Data: []byte(`{"v":1,"dialect":"google.sts","method":"token","outcome":"allow","principal":"principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/p/subject/repo:o/r:ref:refs/heads/main"}`),
	}
}

// BenchmarkAppendAuditSingle is one durable (fsynced) commit per event: the
// cost group commit amortises.
func BenchmarkAppendAuditSingle(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "keyless.db"))
	defer s.Close()
	i := 0
	for b.Loop() {
		if err := s.AppendAudit(b.Context(), []store.AuditRecord{benchRecord(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAppendAuditBatch256 commits 256 events per transaction; ns/op is
// per batch, see events/s.
func BenchmarkAppendAuditBatch256(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "keyless.db"))
	defer s.Close()
	i := 0
	start := time.Now()
	for b.Loop() {
		recs := make([]store.AuditRecord, 256)
		for j := range recs {
			recs[j] = benchRecord(i)
			i++
		}
		if err := s.AppendAudit(b.Context(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "events/s")
}
