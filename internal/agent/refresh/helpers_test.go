package refresh

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// epoch is the fake clock's starting time.
var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is a manual clock with After timers that fire on Advance.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []fakeTimer
	changed chan struct{} // closed and replaced whenever a timer is added
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: epoch, changed: make(chan struct{})} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.timers = append(f.timers, fakeTimer{at: f.now.Add(d), ch: ch})
	close(f.changed)
	f.changed = make(chan struct{})
	return ch
}

// Advance moves the clock forward and fires every timer that is due.
func (f *fakeClock) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the clock to t (never backwards) and fires every timer that is due.
func (f *fakeClock) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	kept := f.timers[:0]
	for _, tm := range f.timers {
		if tm.at.After(f.now) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- f.now
	}
	f.timers = kept
}

// waitTimer blocks until a pending timer is due exactly at `at`.
func (f *fakeClock) waitTimer(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		ch := f.changed
		for _, tm := range f.timers {
			if tm.at.Equal(at) {
				f.mu.Unlock()
				return
			}
		}
		f.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no timer registered for %v", at)
		}
	}
}

// result is what a scripted fetch returns.
type result struct {
	cred Credential
	err  error
}

// fetcher is a scripted FetchFunc: each call announces itself on started (with its context)
// and blocks until the test sends a result or the context is done.
type fetcher struct {
	calls   atomic.Int64
	started chan context.Context
	results chan result
}

func newFetcher() *fetcher {
	return &fetcher{started: make(chan context.Context, 64), results: make(chan result)}
}

func (f *fetcher) Fetch(ctx context.Context) (Credential, error) {
	f.calls.Add(1)
	f.started <- ctx
	select {
	case r := <-f.results:
		return r.cred, r.err
	case <-ctx.Done():
		return Credential{}, ctx.Err()
	}
}

// waitStarted returns the context of the next fetch call.
func (f *fetcher) waitStarted(t *testing.T) context.Context {
	t.Helper()
	select {
	case ctx := <-f.started:
		return ctx
	case <-time.After(5 * time.Second):
		t.Fatal("fetch was not called")
		return nil
	}
}

// noneStarted asserts that no fetch call is pending announcement.
func (f *fetcher) noneStarted(t *testing.T) {
	t.Helper()
	select {
	case <-f.started:
		t.Fatal("unexpected fetch")
	default:
	}
}

func (f *fetcher) give(t *testing.T, r result) {
	t.Helper()
	select {
	case f.results <- r:
	case <-time.After(5 * time.Second):
		t.Fatal("fetch did not take its result")
	}
}

// ok returns a successful result expiring after lifetime from the clock's now.
func ok(clk *fakeClock, value string, lifetime time.Duration) result {
	return result{cred: Credential{Value: value, Expiry: clk.Now().Add(lifetime)}}
}

var errUpstream = errors.New("upstream said no")

// events collects OnEvent calls.
type events struct {
	ch chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 256)} }

func (e *events) hook(ev Event) { e.ch <- ev }

func (e *events) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return Event{}
	}
}

// testOptions returns Options on clk with jitter disabled and a deterministic Rand.
func testOptions(clk *fakeClock, f *fetcher, ev *events) Options {
	o := Options{
		Name:   "test",
		Now:    clk.Now,
		After:  clk.After,
		Rand:   rand.New(rand.NewPCG(1, 2)),
		Jitter: -1,
	}
	if f != nil {
		o.Fetch = f.Fetch
	}
	if ev != nil {
		o.OnEvent = ev.hook
	}
	return o
}

func mustNew(t *testing.T, o Options) *Cache {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startRun runs c.Run in a goroutine; the returned stop cancels it and waits for it to return.
func startRun(t *testing.T, c *Cache) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// get calls c.Get with a deadline, failing the test if it blocks.
func get(t *testing.T, c *Cache) (Credential, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Get(ctx)
}

func mustGet(t *testing.T, c *Cache, want string) {
	t.Helper()
	cred, err := get(t, c)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if cred.Value != want {
		t.Fatalf("Get = %v, want %v", cred.Value, want)
	}
}
