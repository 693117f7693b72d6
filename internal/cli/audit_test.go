package cli

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/store/sqlite"
)

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTailAuditLateCommit: an event whose decision started before one already printed
// (a slow decision committing late) is still printed, and nothing is printed twice.
func TestTailAuditLateCommit(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out lockedBuilder
	done := make(chan error, 1)
	go func() { done <- tailAudit(ctx, st, &out, "", 20*time.Millisecond) }()
	rec := func(id string, at time.Time) store.AuditRecord {
		return store.AuditRecord{ID: id, Time: at, Dialect: "google.sts", Method: "token", Outcome: "allow", Data: []byte(`{"decision_id":"` + id + `"}`)}
	}
	now := time.Now()
	time.Sleep(50 * time.Millisecond)
	if err := st.AppendAudit(ctx, []store.AuditRecord{rec("B", now.Add(200*time.Millisecond))}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(s string) {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(out.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never printed; output %q", s, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(`"B"`)
	if err := st.AppendAudit(ctx, []store.AuditRecord{rec("A", now.Add(100*time.Millisecond))}); err != nil {
		t.Fatal(err)
	}
	waitFor(`"A"`)
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("printed %d lines, want 2: %q", n, out.String())
	}
}
