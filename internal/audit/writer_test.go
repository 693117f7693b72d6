package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/store/sqlite"
	"github.com/keylessdev/keyless/internal/store/storetest"
)

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keyless.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newWriter starts a writer that the test closes at the end.
func newWriter(t testing.TB, opts audit.WriterOptions) *audit.Writer {
	t.Helper()
	w := audit.NewWriter(opts)
	t.Cleanup(func() { w.Close() })
	return w
}

// gate makes the first AppendAudit block until release; later calls return
// the result of then (nil when unset).
type gate struct {
	entered, release chan struct{}
	first            atomic.Bool
	then             func() error
}

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) hook(context.Context, []store.AuditRecord) error {
	if g.first.CompareAndSwap(false, true) {
		close(g.entered)
		<-g.release
		return nil
	}
	if g.then != nil {
		return g.then()
	}
	return nil
}

// waitFor polls cond (the writer runs in its own goroutine).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recordAll starts n Records and returns a function collecting their errors.
func recordAll(w *audit.Writer, evs []audit.Event) func() []error {
	errs := make([]error, len(evs))
	var wg sync.WaitGroup
	for i, ev := range evs {
		wg.Go(func() { errs[i] = w.Record(context.Background(), ev) })
	}
	return func() []error { wg.Wait(); return errs }
}

// canceled returns a canceled context: a Record probe with it never enqueues.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func events(n int) []audit.Event {
	evs := make([]audit.Event, n)
	for i := range evs {
		evs[i] = newEvent(audit.OutcomeAllow)
		evs[i].Time = t0.Add(time.Duration(i) * time.Millisecond)
	}
	return evs
}

func TestRecordIsDurableOnReturn(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	w := newWriter(t, audit.WriterOptions{Store: st})
	ev := newEvent(audit.OutcomeDeny)
	if err := w.Record(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	rec, err := st.AuditByID(t.Context(), ev.DecisionID)
	if err != nil {
		t.Fatalf("event not in the store when Record returned: %v", err)
	}
	want := store.AuditRecord{ID: ev.DecisionID, Time: t0.Truncate(time.Microsecond), Dialect: "google.sts",
		Method: "token", Outcome: "deny", Reason: "attribute_condition", Data: rec.Data}
	if d := cmp.Diff(want, rec); d != "" {
		t.Errorf("record columns (-want +got):\n%s", d)
	}
	got, err := audit.DecodeEvent(rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	ev.Version, ev.Time = audit.EventVersion, ev.Time.Truncate(time.Microsecond)
	exp := ev.Expiry.Truncate(time.Microsecond)
	ev.Expiry = &exp
	if d := cmp.Diff(ev, got); d != "" {
		t.Errorf("stored event (-want +got):\n%s", d)
	}
}

func TestGroupCommitBatches(t *testing.T) {
	t.Parallel()
	f := &storetest.Faulty{Store: openStore(t), FailAppend: func(context.Context, []store.AuditRecord) error {
		time.Sleep(5 * time.Millisecond) // a slow disk
		return nil
	}}
	var committed, maxBatch atomic.Int64
	w := newWriter(t, audit.WriterOptions{Store: f, OnCommit: func(n int, d time.Duration) {
		committed.Add(int64(n))
		if int64(n) > maxBatch.Load() {
			maxBatch.Store(int64(n))
		}
		if d < 5*time.Millisecond {
			t.Errorf("OnCommit duration %v is shorter than the commit", d)
		}
	}})
	const n = 200
	for i, err := range recordAll(w, events(n))() {
		if err != nil {
			t.Errorf("Record %d: %v", i, err)
		}
	}
	if calls := f.AppendCalls(); calls > n/4 {
		t.Errorf("%d events took %d AppendAudit calls; group commit should batch them", n, calls)
	} else {
		t.Logf("%d events in %d commits (largest %d)", n, calls, maxBatch.Load())
	}
	if f.Appended() != n || committed.Load() != n {
		t.Errorf("stored %d, OnCommit counted %d; want %d", f.Appended(), committed.Load(), n)
	}
	if maxBatch.Load() < 2 {
		t.Errorf("largest batch %d", maxBatch.Load())
	}
}

func TestFailingStoreFailsEveryWaiter(t *testing.T) {
	t.Parallel()
	injected := errors.New("disk on fire")
	g := newGate()
	g.then = func() error { return injected }
	f := &storetest.Faulty{Store: openStore(t), FailAppend: g.hook}
	var sink bytes.Buffer
	var onCommit atomic.Int64
	w := newWriter(t, audit.WriterOptions{Store: f, Sink: &sink, OnCommit: func(n int, _ time.Duration) { onCommit.Add(int64(n)) }})

	evs := events(21)
	first := recordAll(w, evs[:1])
	<-g.entered
	rest := recordAll(w, evs[1:])
	waitFor(t, "20 queued events", func() bool { return w.QueueDepth() == 20 })
	close(g.release)

	if errs := first(); errs[0] != nil {
		t.Fatalf("first event: %v", errs[0])
	}
	for i, err := range rest() {
		if !errors.Is(err, injected) {
			t.Errorf("waiter %d: err = %v, want the store's error", i, err)
		}
	}
	if f.AppendCalls() != 2 {
		t.Errorf("AppendAudit called %d times, want 2 (one batch for the 20)", f.AppendCalls())
	}
	w.Close()
	if lines := strings.Count(sink.String(), "\n"); lines != 1 || !strings.Contains(sink.String(), evs[0].DecisionID) {
		t.Errorf("sink has %d lines, want only the committed event:\n%s", lines, sink.String())
	}
	if onCommit.Load() != 1 {
		t.Errorf("OnCommit counted %d events, want 1", onCommit.Load())
	}
}

func TestDuplicateIDFailsOnlyItself(t *testing.T) {
	t.Parallel()
	g := newGate()
	f := &storetest.Faulty{Store: openStore(t), FailAppend: g.hook}
	w := newWriter(t, audit.WriterOptions{Store: f})
	evs := events(6)
	evs[3].DecisionID = evs[0].DecisionID
	first := recordAll(w, evs[:1])
	<-g.entered
	rest := recordAll(w, evs[1:])
	waitFor(t, "5 queued events", func() bool { return w.QueueDepth() == 5 })
	close(g.release)
	if err := first()[0]; err != nil {
		t.Fatal(err)
	}
	for i, err := range rest() {
		if i == 2 {
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("duplicate: err = %v, want ErrConflict", err)
			}
		} else if err != nil {
			t.Errorf("event %d failed because of its neighbour: %v", i+1, err)
		}
	}
	if f.Appended() != 5 {
		t.Errorf("stored %d events, want 5", f.Appended())
	}
}

func TestSinkLines(t *testing.T) {
	t.Parallel()
	jws := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + ".eyJzdWIiOiJ4In0.c2ln"
	st := openStore(t)
	var sink bytes.Buffer
	w := audit.NewWriter(audit.WriterOptions{Store: st, Sink: &sink})
	evs := events(50)
	for i := range evs {
		evs[i].Detail = "rejected subject token " + jws
		evs[i].Trace = json.RawMessage(`{"input":{"subject_token":"` + jws + `"}}`)
	}
	attrs := evs[0].Attributes
	for i, err := range recordAll(w, evs)() {
		if err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sink.String(), jws) {
		t.Fatal("a raw JWT reached the sink")
	}
	ids := map[string]bool{}
	sc := bufio.NewScanner(&sink)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("sink line is not JSON: %v\n%s", err, sc.Text())
		}
		checkNoTokenKeys(t, "", m)
		ev, err := audit.DecodeEvent(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		ids[ev.DecisionID] = true
		if !strings.Contains(ev.Detail, "[redacted-jwt sha256:"+audit.TokenHash(jws)+"]") {
			t.Errorf("detail not redacted to the token hash: %q", ev.Detail)
		}
		rec, err := st.AuditByID(t.Context(), ev.DecisionID)
		if err != nil || !bytes.Equal(append(rec.Data, '\n'), append(sc.Bytes(), '\n')) {
			t.Errorf("sink line and stored data differ (%v)", err)
		}
	}
	if len(ids) != len(evs) {
		t.Errorf("sink has %d distinct events, want %d", len(ids), len(evs))
	}
	if len(attrs) != 1 || attrs["attribute.repository"][0] != "o/r" {
		t.Errorf("caller's attributes map was modified: %v", attrs)
	}
}

// checkNoTokenKeys fails on an object key that names a token but is not a hash.
func checkNoTokenKeys(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if strings.Contains(strings.ToLower(k), "token") && !strings.HasSuffix(k, "_sha256") && !strings.HasPrefix(path, ".trace") {
				t.Errorf("sink line has field %s.%s", path, k)
			}
			checkNoTokenKeys(t, path+"."+k, child)
		}
	case []any:
		for _, child := range v {
			checkNoTokenKeys(t, path, child)
		}
	}
}

func TestSinkOnly(t *testing.T) {
	t.Parallel()
	var sink bytes.Buffer
	w := audit.NewWriter(audit.WriterOptions{Sink: &sink})
	if err := w.Record(t.Context(), newEvent(audit.OutcomeError)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if strings.Count(sink.String(), "\n") != 1 {
		t.Errorf("sink = %q", sink.String())
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestSinkErrorFailsRecord(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	broken := errors.New("broken pipe")
	w := newWriter(t, audit.WriterOptions{Store: st, Sink: failWriter{broken}})
	ev := newEvent(audit.OutcomeAllow)
	err := w.Record(t.Context(), ev)
	if !errors.Is(err, audit.ErrSink) || !errors.Is(err, broken) {
		t.Fatalf("err = %v, want ErrSink wrapping the write error", err)
	}
	if _, err := st.AuditByID(t.Context(), ev.DecisionID); err != nil {
		t.Errorf("the store commit precedes the sink write; event missing: %v", err)
	}
}

func TestCloseFlushes(t *testing.T) {
	t.Parallel()
	g := newGate()
	f := &storetest.Faulty{Store: openStore(t), FailAppend: g.hook}
	w := audit.NewWriter(audit.WriterOptions{Store: f, MaxBatch: 7})
	evs := events(31)
	first := recordAll(w, evs[:1])
	<-g.entered
	rest := recordAll(w, evs[1:])
	waitFor(t, "30 queued events", func() bool { return w.QueueDepth() == 30 })
	closed := make(chan error)
	go func() { closed <- w.Close() }()
	// Close must refuse new events while it waits for the queued ones.
	waitFor(t, "Close to refuse new events", func() bool {
		return errors.Is(w.Record(canceled(), newEvent(audit.OutcomeAllow)), audit.ErrClosed)
	})
	close(g.release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, err := range append(first(), rest()...) {
		if err != nil {
			t.Errorf("Record %d: %v", i, err)
		}
	}
	if f.Appended() != 31 {
		t.Errorf("stored %d events, want 31", f.Appended())
	}
	if calls := f.AppendCalls(); calls != 1+5 { // 30 queued / MaxBatch 7
		t.Errorf("AppendAudit calls = %d, want 6", calls)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseReportsFlushError(t *testing.T) {
	t.Parallel()
	injected := errors.New("fsync failed")
	g := newGate()
	g.then = func() error { return injected }
	f := &storetest.Faulty{Store: openStore(t), FailAppend: g.hook}
	w := audit.NewWriter(audit.WriterOptions{Store: f})
	evs := events(4)
	first := recordAll(w, evs[:1])
	<-g.entered
	rest := recordAll(w, evs[1:])
	waitFor(t, "queued events", func() bool { return w.QueueDepth() == 3 })
	closed := make(chan error)
	go func() { closed <- w.Close() }()
	waitFor(t, "Close to start", func() bool {
		return errors.Is(w.Record(canceled(), newEvent(audit.OutcomeAllow)), audit.ErrClosed)
	})
	close(g.release)
	if err := <-closed; !errors.Is(err, injected) {
		t.Errorf("Close = %v, want the flush error", err)
	}
	first()
	for _, err := range rest() {
		if !errors.Is(err, injected) {
			t.Errorf("Record = %v, want the flush error", err)
		}
	}
}

func TestContextEndsWait(t *testing.T) {
	t.Parallel()
	g := newGate()
	st := openStore(t)
	f := &storetest.Faulty{Store: st, FailAppend: g.hook}
	w := newWriter(t, audit.WriterOptions{Store: f})
	ctx, cancel := context.WithCancel(t.Context())
	ev := newEvent(audit.OutcomeAllow)
	done := make(chan error)
	go func() { done <- w.Record(ctx, ev) }()
	<-g.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Record = %v, want context.Canceled", err)
	}
	close(g.release)
	w.Close()
	if _, err := st.AuditByID(t.Context(), ev.DecisionID); err != nil {
		t.Errorf("an event whose waiter left is still written; got %v", err)
	}

	if err := w.Record(ctx, newEvent(audit.OutcomeAllow)); err == nil {
		t.Error("Record with a canceled context after Close succeeded")
	}
}

func TestCanceledContextNotEnqueued(t *testing.T) {
	t.Parallel()
	f := &storetest.Faulty{Store: openStore(t)}
	w := newWriter(t, audit.WriterOptions{Store: f})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := w.Record(ctx, newEvent(audit.OutcomeAllow)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	w.Close()
	if f.AppendCalls() != 0 {
		t.Error("an event with a canceled context was committed")
	}
}

func TestBackPressure(t *testing.T) {
	t.Parallel()
	g := newGate()
	st := openStore(t)
	w := newWriter(t, audit.WriterOptions{Store: &storetest.Faulty{Store: st, FailAppend: g.hook}, QueueSize: 1, MaxBatch: 1})
	evs := events(3)
	a := recordAll(w, evs[:1])
	<-g.entered
	b := recordAll(w, evs[1:2])
	waitFor(t, "the queue to fill", func() bool { return w.QueueDepth() == 1 })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if err := w.Record(ctx, evs[2]); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Record on a full queue = %v, want DeadlineExceeded", err)
	}
	close(g.release)
	if err := errors.Join(a()[0], b()[0]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := st.AuditByID(t.Context(), evs[2].DecisionID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused event was written (err %v)", err)
	}
}

func TestCommitTimeout(t *testing.T) {
	t.Parallel()
	f := &storetest.Faulty{Store: openStore(t), FailAppend: func(ctx context.Context, _ []store.AuditRecord) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	w := newWriter(t, audit.WriterOptions{Store: f, CommitTimeout: 20 * time.Millisecond})
	if err := w.Record(t.Context(), newEvent(audit.OutcomeAllow)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded from the commit", err)
	}
}

func TestInvalidEvents(t *testing.T) {
	t.Parallel()
	f := &storetest.Faulty{Store: openStore(t)}
	var sink bytes.Buffer
	w := newWriter(t, audit.WriterOptions{Store: f, Sink: &sink})
	raw := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	for name, mut := range map[string]func(*audit.Event){
		"version":        func(e *audit.Event) { e.Version = 2 },
		"no time":        func(e *audit.Event) { e.Time = time.Time{} },
		"no dialect":     func(e *audit.Event) { e.Dialect = "" },
		"no method":      func(e *audit.Event) { e.Method = "" },
		"outcome":        func(e *audit.Event) { e.Outcome = "Allow" },
		"decision id":    func(e *audit.Event) { e.DecisionID = "req-1" },
		"lower-case id":  func(e *audit.Event) { e.DecisionID = strings.ToLower(e.DecisionID) },
		"raw subject":    func(e *audit.Event) { e.SubjectTokenSHA256 = raw },
		"raw issued":     func(e *audit.Event) { e.IssuedTokenSHA256 = raw },
		"upper hex":      func(e *audit.Event) { e.IssuedTokenSHA256 = strings.ToUpper(e.IssuedTokenSHA256) },
		"short hash":     func(e *audit.Event) { e.SubjectTokenSHA256 = e.SubjectTokenSHA256[:63] },
		"trace not json": func(e *audit.Event) { e.Trace = json.RawMessage(`{"a":`) },
		"too large":      func(e *audit.Event) { e.Detail = strings.Repeat("x", audit.MaxEventSize) },
	} {
		ev := newEvent(audit.OutcomeAllow)
		mut(&ev)
		err := w.Record(t.Context(), ev)
		if !errors.Is(err, audit.ErrInvalidEvent) {
			t.Errorf("%s: err = %v, want ErrInvalidEvent", name, err)
		}
		if err != nil && strings.Contains(err.Error(), raw) {
			t.Errorf("%s: the error echoes the raw token", name)
		}
	}
	w.Close()
	if f.AppendCalls() != 0 || sink.Len() != 0 {
		t.Errorf("invalid events reached a destination (%d commits, %d sink bytes)", f.AppendCalls(), sink.Len())
	}
}

func TestNoDestination(t *testing.T) {
	t.Parallel()
	w := newWriter(t, audit.WriterOptions{})
	if err := w.Record(t.Context(), newEvent(audit.OutcomeAllow)); !errors.Is(err, audit.ErrNoDestination) {
		t.Fatalf("err = %v, want ErrNoDestination", err)
	}
}

func TestVersionDefaulted(t *testing.T) {
	t.Parallel()
	var sink bytes.Buffer
	w := audit.NewWriter(audit.WriterOptions{Sink: &sink})
	ev := newEvent(audit.OutcomeAllow)
	ev.Version = 0
	if err := w.Record(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !strings.HasPrefix(sink.String(), `{"v":1,`) {
		t.Errorf("line = %s", sink.String())
	}
}
