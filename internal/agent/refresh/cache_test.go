package refresh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGetFetchesWhenEmpty(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	done := make(chan struct{})
	go func() { defer close(done); mustGet(t, c, "v1") }()
	f.waitStarted(t)
	f.give(t, ok(clk, "v1", time.Hour))
	<-done
	mustGet(t, c, "v1") // cached now
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("fetch calls = %d, want 1", n)
	}
	st := c.Status()
	if !st.Valid || st.Refreshes != 1 || st.Failures != 0 || !st.Fetched.Equal(epoch) || !st.Expiry.Equal(epoch.Add(time.Hour)) ||
		!st.NextRefresh.Equal(epoch.Add(40*time.Minute)) || st.InFlight || st.Name != "test" {
		t.Fatalf("status = %+v", st)
	}
}

// A usable credential is served while a refresh is blocked, even to a caller whose context
// is already cancelled (so it cannot have waited for anything).
func TestGetDoesNotWaitOnRefreshInFlight(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	go c.Refresh(context.Background())
	f.waitStarted(t)
	f.give(t, ok(clk, "old", time.Hour))
	waitStatus(t, c, func(s Status) bool { return s.Refreshes == 1 })

	refreshed := make(chan error, 1)
	go func() { refreshed <- c.Refresh(context.Background()) }()
	f.waitStarted(t) // now blocked in fetch
	if !c.Status().InFlight {
		t.Fatal("status does not report the fetch in flight")
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 3 {
		cred, err := c.Get(cancelled)
		if err != nil || cred.Value != "old" {
			t.Fatalf("Get during refresh = %v, %v; want old", cred.Value, err)
		}
	}
	f.give(t, ok(clk, "new", time.Hour))
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	mustGet(t, c, "new")
}

func TestGetSingleFlight(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	getter := func() {
		defer wg.Done()
		cred, err := get(t, c)
		if err == nil && cred.Value != "v" {
			err = errors.New("wrong value")
		}
		errs <- err
	}
	wg.Add(1)
	go getter()
	f.waitStarted(t)
	for range n - 1 {
		wg.Add(1)
		go getter()
	}
	waitStatus(t, c, func(s Status) bool { return s.InFlight })
	f.give(t, ok(clk, "v", time.Hour))
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls := f.calls.Load(); calls != 1 {
		t.Fatalf("fetch calls = %d, want 1", calls)
	}
}

// One waiter giving up neither cancels the shared fetch nor fails the other waiters.
func TestGetWaiterCancelDoesNotCancelFetch(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	ctxA, cancelA := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-1"))
	errA := make(chan error, 1)
	go func() {
		_, err := c.Get(ctxA)
		errA <- err
	}()
	fctx := f.waitStarted(t)
	if fctx.Value(ctxKey{}) != "trace-1" {
		t.Error("fetch context lost the initiating caller's values")
	}
	if _, ok := fctx.Deadline(); !ok {
		t.Error("fetch context has no FetchTimeout deadline")
	}
	resB := make(chan error, 1)
	go func() {
		_, err := get(t, c)
		resB <- err
	}()
	cancelA()
	err := <-errA
	var ue *UnavailableError
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) || !errors.As(err, &ue) || ue.Name != "test" {
		t.Fatalf("cancelled waiter error = %v", err)
	}
	if fctx.Err() != nil {
		t.Fatalf("shared fetch was cancelled with its first waiter: %v", fctx.Err())
	}
	f.give(t, ok(clk, "v", time.Hour))
	if err := <-resB; err != nil {
		t.Fatalf("second waiter: %v", err)
	}
	if calls := f.calls.Load(); calls != 1 {
		t.Fatalf("fetch calls = %d, want 1", calls)
	}
}

type ctxKey struct{}

func TestGetAlreadyCancelledStartsNothing(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v", err)
	}
	f.noneStarted(t)
}

func TestGetFailureIsTyped(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	res := make(chan error, 1)
	go func() { _, err := get(t, c); res <- err }()
	f.waitStarted(t)
	f.give(t, result{err: errUpstream})
	err := <-res
	var ue *UnavailableError
	var fe *FetchError
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errUpstream) || !errors.As(err, &ue) || !errors.As(err, &fe) {
		t.Fatalf("Get error = %v", err)
	}
	if fe.Name != "test" || ue.Public() == "" || fe.Public() == "" || strings.Contains(ue.Public(), "upstream") {
		t.Fatalf("error fields: %+v %+v", ue, fe)
	}
	if !strings.Contains(err.Error(), "upstream said no") || !strings.Contains(err.Error(), `"test"`) {
		t.Fatalf("error text %q lacks cause or name", err)
	}
	st := c.Status()
	if st.Valid || st.Failures != 1 || st.ConsecutiveFailures != 1 || st.LastError != errUpstream.Error() {
		t.Fatalf("status = %+v", st)
	}
}

// Without a usable credential, Get does not refetch within MinBackoff of the last attempt.
func TestGetThrottledAfterFailure(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	go get(t, c)
	f.waitStarted(t)
	f.give(t, result{err: errUpstream})
	waitStatus(t, c, func(s Status) bool { return s.Failures == 1 && !s.InFlight })

	clk.Advance(500 * time.Millisecond)
	if _, err := get(t, c); !errors.Is(err, ErrUnavailable) || !errors.Is(err, errUpstream) {
		t.Fatalf("throttled Get = %v", err)
	}
	f.noneStarted(t)

	clk.Advance(500 * time.Millisecond) // MinBackoff reached
	res := make(chan error, 1)
	go func() { _, err := get(t, c); res <- err }()
	f.waitStarted(t)
	f.give(t, ok(clk, "v", time.Hour))
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.ConsecutiveFailures != 0 || st.LastError != "" || st.Refreshes != 1 {
		t.Fatalf("status after recovery = %+v", st)
	}
}

// A credential inside its expiry margin is returned to the caller that fetched it and, for
// MinBackoff, to later callers; after that they refetch.
func TestGetShortLivedCredential(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	res := make(chan error, 1)
	go func() { _, err := get(t, c); res <- err }()
	f.waitStarted(t)
	f.give(t, ok(clk, "short", 10*time.Second)) // margin is 30s
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if c.Status().Valid {
		t.Fatal("credential inside its margin reported valid")
	}
	mustGet(t, c, "short")
	f.noneStarted(t)
	clk.Advance(time.Second)
	go get(t, c)
	f.waitStarted(t)
	f.give(t, ok(clk, "short2", 10*time.Second))
}

// A successful fetch whose credential has already expired by the throttled read.
func TestGetThrottledExpired(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	o := testOptions(clk, f, nil)
	o.MinBackoff = time.Minute
	c := mustNew(t, o)
	go get(t, c)
	f.waitStarted(t)
	f.give(t, ok(clk, "brief", 5*time.Second))
	waitStatus(t, c, func(s Status) bool { return s.Refreshes == 1 })
	clk.Advance(10 * time.Second)
	if _, err := get(t, c); !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrExpiredCredential) {
		t.Fatalf("Get = %v", err)
	}
	f.noneStarted(t)
}

func TestFetchedCredentialValidation(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cred    func(clk *fakeClock) Credential
		wantErr error
	}{
		"expiry now":     {func(clk *fakeClock) Credential { return Credential{Value: 1, Expiry: clk.Now()} }, ErrExpiredCredential},
		"expiry past":    {func(clk *fakeClock) Credential { return Credential{Value: 1, Expiry: clk.Now().Add(-time.Hour)} }, ErrExpiredCredential},
		"zero expiry":    {func(clk *fakeClock) Credential { return Credential{Value: 1} }, ErrExpiredCredential},
		"one ns to live": {func(clk *fakeClock) Credential { return Credential{Value: 1, Expiry: clk.Now().Add(1)} }, nil},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk, f := newFakeClock(), newFetcher()
			c := mustNew(t, testOptions(clk, f, nil))
			// A good credential first: a rejected fetch must not replace it.
			go c.Refresh(context.Background())
			f.waitStarted(t)
			f.give(t, ok(clk, "good", time.Hour))
			waitStatus(t, c, func(s Status) bool { return s.Refreshes == 1 })

			res := make(chan error, 1)
			go func() { res <- c.Refresh(context.Background()) }()
			f.waitStarted(t)
			f.give(t, result{cred: tc.cred(clk)})
			err := <-res
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Refresh = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				mustGet(t, c, "good")
				if st := c.Status(); st.Failures != 1 || !strings.Contains(st.LastError, "expired") {
					t.Fatalf("status = %+v", st)
				}
			}
		})
	}
}

func TestFetchPanicIsRecovered(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	o := testOptions(clk, nil, nil)
	o.Fetch = func(context.Context) (Credential, error) { panic("secret-token-value") }
	c := mustNew(t, o)
	err := c.Refresh(context.Background())
	if !errors.Is(err, ErrFetchPanic) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Refresh = %v", err)
	}
	if st := c.Status(); st.Failures != 1 || strings.Contains(st.LastError, "secret") {
		t.Fatalf("status = %+v", st)
	}
}

func TestFetchTimeout(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	o := testOptions(clk, nil, nil)
	o.FetchTimeout = 5 * time.Millisecond
	o.Fetch = func(ctx context.Context) (Credential, error) {
		<-ctx.Done()
		return Credential{}, ctx.Err()
	}
	c := mustNew(t, o)
	if err := c.Refresh(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Refresh = %v, want DeadlineExceeded", err)
	}
}

func TestFetchedTimeNormalised(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		fetchedOff, wantOff time.Duration
		zero                bool
	}{
		"zero":   {zero: true},
		"future": {fetchedOff: time.Hour},
		"past":   {fetchedOff: -20 * time.Minute, wantOff: -20 * time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk, f := newFakeClock(), newFetcher()
			c := mustNew(t, testOptions(clk, f, nil))
			go c.Refresh(context.Background())
			f.waitStarted(t)
			r := ok(clk, "v", time.Hour)
			if !tc.zero {
				r.cred.Fetched = clk.Now().Add(tc.fetchedOff)
			}
			f.give(t, r)
			waitStatus(t, c, func(s Status) bool { return s.Refreshes == 1 })
			st := c.Status()
			if want := epoch.Add(tc.wantOff); !st.Fetched.Equal(want) {
				t.Fatalf("Fetched = %v, want %v", st.Fetched, want)
			}
			// The schedule runs from Fetched: 2/3 of (Expiry − Fetched).
			if want := st.Fetched.Add(st.Expiry.Sub(st.Fetched) * 2 / 3); !st.NextRefresh.Equal(want) {
				t.Fatalf("NextRefresh = %v, want %v", st.NextRefresh, want)
			}
			if tc.wantOff < 0 && st.Age != -tc.wantOff {
				t.Fatalf("Age = %v, want %v", st.Age, -tc.wantOff)
			}
		})
	}
}

func TestRefreshJoinsInFlightAndHonoursContext(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	first := make(chan error, 1)
	go func() { first <- c.Refresh(context.Background()) }()
	fctx := f.waitStarted(t)

	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- c.Refresh(ctx) }()
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Refresh = %v", err)
	}
	if fctx.Err() != nil {
		t.Fatal("cancelling a joined Refresh cancelled the fetch")
	}
	f.give(t, result{err: errUpstream})
	err := <-first
	var fe *FetchError
	if !errors.As(err, &fe) || !errors.Is(err, errUpstream) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Refresh = %v, want *FetchError", err)
	}
	if calls := f.calls.Load(); calls != 1 {
		t.Fatalf("fetch calls = %d, want 1", calls)
	}
	if err := c.Refresh(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Refresh with done ctx = %v", err)
	}
	f.noneStarted(t)
}

func TestOnEvent(t *testing.T) {
	t.Parallel()
	clk, f, ev := newFakeClock(), newFetcher(), newEvents()
	c := mustNew(t, testOptions(clk, f, ev))
	go c.Refresh(context.Background())
	f.waitStarted(t)
	clk.Advance(2 * time.Second)
	f.give(t, ok(clk, "secret-value", time.Hour))
	e := ev.next(t)
	if e.Kind != EventFetchOK || e.Name != "test" || !e.Start.Equal(epoch) || e.Duration != 2*time.Second ||
		!e.Expiry.Equal(epoch.Add(2*time.Second+time.Hour)) || e.Err != nil || e.ConsecutiveFailures != 0 ||
		!e.NextRefresh.Equal(epoch.Add(2*time.Second+40*time.Minute)) {
		t.Fatalf("ok event = %+v", e)
	}
	go c.Refresh(context.Background())
	f.waitStarted(t)
	f.give(t, result{err: errUpstream})
	e = ev.next(t)
	if e.Kind != EventFetchFailed || !errors.Is(e.Err, errUpstream) || e.ConsecutiveFailures != 1 ||
		!e.NextRefresh.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("failed event = %+v", e)
	}
	if EventFetchOK.String() != "fetch_ok" || EventFetchFailed.String() != "fetch_failed" || EventKind(9).String() != "EventKind(9)" {
		t.Fatal("EventKind.String")
	}
}

func TestRunRefreshesOnSchedule(t *testing.T) {
	t.Parallel()
	clk, f, ev := newFakeClock(), newFetcher(), newEvents()
	c := mustNew(t, testOptions(clk, f, ev))
	startRun(t, c)
	f.waitStarted(t)
	f.give(t, ok(clk, "v1", time.Hour))
	e := ev.next(t)
	if !e.NextRefresh.Equal(epoch.Add(40 * time.Minute)) {
		t.Fatalf("NextRefresh = %v", e.NextRefresh)
	}
	clk.waitTimer(t, e.NextRefresh)
	clk.Advance(40*time.Minute - time.Nanosecond)
	f.noneStarted(t)
	mustGet(t, c, "v1")
	clk.Advance(time.Nanosecond)
	f.waitStarted(t)
	mustGet(t, c, "v1") // still served during the refresh
	f.give(t, ok(clk, "v2", time.Hour))
	e = ev.next(t)
	mustGet(t, c, "v2")
	if !e.NextRefresh.Equal(epoch.Add(80 * time.Minute)) {
		t.Fatalf("second NextRefresh = %v", e.NextRefresh)
	}
	if st := c.Status(); st.Refreshes != 2 || !st.LastSuccess.Equal(epoch.Add(40*time.Minute)) || !st.LastAttempt.Equal(epoch.Add(40*time.Minute)) {
		t.Fatalf("status = %+v", st)
	}
}

// On failures Run keeps serving the old credential, backs off exponentially, and always
// retries before the credential stops being usable.
func TestRunBackoffKeepsServingAndRetriesBeforeExpiry(t *testing.T) {
	t.Parallel()
	clk, f, ev := newFakeClock(), newFetcher(), newEvents()
	o := testOptions(clk, f, ev)
	o.MaxBackoff = time.Hour
	c := mustNew(t, o)
	startRun(t, c)
	f.waitStarted(t)
	f.give(t, ok(clk, "v1", time.Hour))
	usableUntil := epoch.Add(time.Hour - 30*time.Second)
	next := ev.next(t).NextRefresh

	var delays []time.Duration
	for i := int64(1); clk.Now().Before(usableUntil); i++ {
		clk.waitTimer(t, next)
		clk.Set(next)
		f.waitStarted(t)
		if clk.Now().Before(usableUntil) {
			mustGet(t, c, "v1")
		}
		f.give(t, result{err: errUpstream})
		e := ev.next(t)
		if e.ConsecutiveFailures != i {
			t.Fatalf("ConsecutiveFailures = %d, want %d", e.ConsecutiveFailures, i)
		}
		d := e.NextRefresh.Sub(clk.Now())
		if d < time.Second {
			t.Fatalf("retry %d after %v: sooner than MinBackoff", i, d)
		}
		if room := usableUntil.Sub(clk.Now()); room > time.Second && !e.NextRefresh.Before(usableUntil) {
			t.Fatalf("retry %d at %v is not before the usable end (room %v)", i, e.NextRefresh, room)
		}
		delays = append(delays, d)
		next = e.NextRefresh
		if i > 200 {
			t.Fatal("too many retries")
		}
	}
	if delays[0] != time.Second {
		t.Errorf("first retry delay = %v, want MinBackoff", delays[0])
	}
	if grew := slicesMax(delays[:8]); grew < 16*time.Second {
		t.Errorf("backoff did not grow: %v", delays[:8])
	}
	// Now unusable: Get fetches on demand, joined with Run's attempt or started afresh.
	res := make(chan error, 1)
	clk.Advance(time.Hour)
	go func() { _, err := get(t, c); res <- err }()
	f.waitStarted(t)
	f.give(t, ok(clk, "v2", time.Hour))
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	mustGet(t, c, "v2")
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func TestRunStopsWhileWaiting(t *testing.T) {
	t.Parallel()
	clk, f, ev := newFakeClock(), newFetcher(), newEvents()
	c := mustNew(t, testOptions(clk, f, ev))
	stop := startRun(t, c)
	f.waitStarted(t)
	f.give(t, ok(clk, "v", time.Hour))
	clk.waitTimer(t, ev.next(t).NextRefresh)
	stop()
	if calls := f.calls.Load(); calls != 1 {
		t.Fatalf("fetch calls = %d", calls)
	}
}

func TestRunStopCancelsItsFetch(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	stop := startRun(t, c)
	fctx := f.waitStarted(t)
	stop() // returns only after the fetch has returned
	if fctx.Err() == nil {
		t.Fatal("Run's fetch not cancelled")
	}
	if st := c.Status(); st.InFlight || st.Failures != 1 {
		t.Fatalf("status after stop = %+v", st)
	}
}

func TestRunSecondCallReturns(t *testing.T) {
	t.Parallel()
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	startRun(t, c)
	f.waitStarted(t)
	done := make(chan struct{})
	go func() { defer close(done); c.Run(context.Background()) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second Run did not return")
	}
	f.give(t, ok(clk, "v", time.Hour))
	f.noneStarted(t)
}

// Run reschedules when another caller's fetch completes.
func TestRunFollowsExternalRefresh(t *testing.T) {
	t.Parallel()
	clk, f, ev := newFakeClock(), newFetcher(), newEvents()
	c := mustNew(t, testOptions(clk, f, ev))
	startRun(t, c)
	f.waitStarted(t)
	f.give(t, ok(clk, "v1", time.Hour))
	clk.waitTimer(t, ev.next(t).NextRefresh) // 40m

	clk.Advance(10 * time.Minute)
	res := make(chan error, 1)
	go func() { res <- c.Refresh(context.Background()) }()
	f.waitStarted(t)
	f.give(t, ok(clk, "v2", 15*time.Minute)) // next refresh at 10m + 10m = 20m
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	next := ev.next(t).NextRefresh
	if !next.Equal(epoch.Add(20 * time.Minute)) {
		t.Fatalf("NextRefresh = %v", next.Sub(epoch))
	}
	clk.waitTimer(t, next)
	clk.Set(next)
	f.waitStarted(t) // Run's own refresh, well before the stale 40m timer
	f.give(t, ok(clk, "v3", time.Hour))
	ev.next(t)
	mustGet(t, c, "v3")
}

// Without Run, a read past the refresh time starts a background fetch and returns the cached
// credential at once; failures back off.
func TestRefreshAheadOnAccess(t *testing.T) {
	t.Parallel()
	clk, f, ev := newFakeClock(), newFetcher(), newEvents()
	c := mustNew(t, testOptions(clk, f, ev))
	go get(t, c)
	f.waitStarted(t)
	f.give(t, ok(clk, "v1", time.Hour))
	ev.next(t)

	clk.Advance(39 * time.Minute)
	mustGet(t, c, "v1")
	f.noneStarted(t)
	clk.Advance(time.Minute)
	mustGet(t, c, "v1")
	f.waitStarted(t)
	mustGet(t, c, "v1") // the background fetch is in flight
	f.give(t, result{err: errUpstream})
	e := ev.next(t)
	if !e.NextRefresh.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("retry at %v", e.NextRefresh.Sub(clk.Now()))
	}
	clk.Advance(999 * time.Millisecond)
	mustGet(t, c, "v1")
	f.noneStarted(t) // backing off
	clk.Advance(time.Millisecond)
	mustGet(t, c, "v1")
	f.waitStarted(t)
	f.give(t, ok(clk, "v2", time.Hour))
	ev.next(t)
	mustGet(t, c, "v2")
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	var n atomicCounter
	o := Options{
		Name: "race",
		Fetch: func(ctx context.Context) (Credential, error) {
			i := n.add()
			if i%3 == 0 {
				return Credential{}, errUpstream
			}
			return Credential{Value: i, Expiry: time.Now().Add(40 * time.Millisecond)}, nil
		},
		ExpiryMargin: 10 * time.Millisecond,
		MinBackoff:   time.Millisecond,
		MaxBackoff:   5 * time.Millisecond,
	}
	c := mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Run(ctx) }()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if cred, err := c.Get(ctx); err == nil && cred.Value == nil {
					t.Error("nil value without error")
				}
				_ = c.Status()
				if n.get()%7 == 0 {
					_ = c.Refresh(ctx)
				}
				if n.get() >= 12 {
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	if st := c.Status(); st.Refreshes == 0 || st.Failures == 0 {
		t.Fatalf("status = %+v", st)
	}
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (a *atomicCounter) add() int { a.mu.Lock(); defer a.mu.Unlock(); a.n++; return a.n }
func (a *atomicCounter) get() int { a.mu.Lock(); defer a.mu.Unlock(); return a.n }

func TestGetCachedAllocs(t *testing.T) {
	clk, f := newFakeClock(), newFetcher()
	c := mustNew(t, testOptions(clk, f, nil))
	go c.Refresh(context.Background())
	f.waitStarted(t)
	f.give(t, ok(clk, "v", time.Hour))
	waitStatus(t, c, func(s Status) bool { return s.Refreshes == 1 })
	ctx := context.Background()
	if a := testing.AllocsPerRun(1000, func() { _, _ = c.Get(ctx) }); a != 0 {
		t.Fatalf("Get allocates %v per call", a)
	}
}

// waitStatus polls Status until cond holds (fetch completion is asynchronous to Refresh callers
// that gave up and to background fetches).
func waitStatus(t *testing.T, c *Cache, cond func(Status) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond(c.Status()) {
		if time.Now().After(deadline) {
			t.Fatalf("status never satisfied: %+v", c.Status())
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// A credential that is born inside its margin is refetched every MinBackoff, not in a loop.
func TestRunShortLivedNoTightLoop(t *testing.T) {
	t.Parallel()
	clk, f, ev := newFakeClock(), newFetcher(), newEvents()
	c := mustNew(t, testOptions(clk, f, ev))
	startRun(t, c)
	for i := range 3 {
		f.waitStarted(t)
		f.give(t, ok(clk, fmt.Sprint(i), 10*time.Second))
		e := ev.next(t)
		if e.Kind != EventFetchOK || !e.NextRefresh.Equal(clk.Now().Add(time.Second)) {
			t.Fatalf("event %d = %+v", i, e)
		}
		clk.waitTimer(t, e.NextRefresh)
		f.noneStarted(t)
		clk.Set(e.NextRefresh)
	}
	f.waitStarted(t)
	f.give(t, ok(clk, "last", time.Hour))
	ev.next(t)
}
