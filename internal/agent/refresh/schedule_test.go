package refresh

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func mustResolve(t *testing.T, o Options) config {
	t.Helper()
	o.Fetch = newFetcher().Fetch
	cfg, err := o.resolve(true)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestResolveDefaults(t *testing.T) {
	t.Parallel()
	cfg := mustResolve(t, Options{Name: "x"})
	if cfg.refreshAt != DefaultRefreshAt || cfg.jitter != DefaultJitter || cfg.margin != DefaultExpiryMargin ||
		cfg.minBackoff != DefaultMinBackoff || cfg.maxBackoff != DefaultMaxBackoff || cfg.fetchTimeout != DefaultFetchTimeout ||
		cfg.now == nil || cfg.after == nil || cfg.rng == nil {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	cfg = mustResolve(t, Options{Jitter: -1, ExpiryMargin: -1})
	if cfg.jitter != 0 || cfg.margin != 0 {
		t.Fatalf("negative Jitter/ExpiryMargin: got %v, %v; want 0, 0", cfg.jitter, cfg.margin)
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	f := newFetcher().Fetch
	for name, o := range map[string]Options{
		"no fetch":          {Name: "x"},
		"refreshAt 1":       {Fetch: f, RefreshAt: 1},
		"refreshAt >1":      {Fetch: f, RefreshAt: 1.5},
		"refreshAt <0":      {Fetch: f, RefreshAt: -0.1},
		"refreshAt NaN":     {Fetch: f, RefreshAt: math.NaN()},
		"jitter >0.5":       {Fetch: f, Jitter: 0.6},
		"jitter NaN":        {Fetch: f, Jitter: math.NaN()},
		"min backoff <0":    {Fetch: f, MinBackoff: -time.Second},
		"max backoff <0":    {Fetch: f, MaxBackoff: -time.Second},
		"fetch timeout <0":  {Fetch: f, FetchTimeout: -time.Second},
		"max below min":     {Fetch: f, MinBackoff: time.Minute, MaxBackoff: time.Second},
		"max below default": {Fetch: f, MaxBackoff: time.Millisecond},
	} {
		if _, err := New(o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: New error = %v, want ErrInvalidOptions", name, err)
		}
	}
	if _, err := New(Options{Fetch: f, RefreshAt: 0.5, Jitter: 0.5}); err != nil {
		t.Errorf("boundary options rejected: %v", err)
	}
}

func TestRefreshTime(t *testing.T) {
	t.Parallel()
	cfg := mustResolve(t, Options{Jitter: -1}) // 2/3, margin 30s, backoff 1s..2m, timeout 30s
	t0 := epoch
	for _, tc := range []struct {
		name                 string
		fetched, expiry, end time.Time
		want                 time.Time
	}{
		{"one hour", t0, t0.Add(time.Hour), t0, t0.Add(40 * time.Minute)},
		{"fetched earlier (issue time)", t0.Add(-30 * time.Minute), t0.Add(30 * time.Minute), t0, t0.Add(10 * time.Minute)},
		// usable 90s: buffer = min(31s, 30s) = 30s, latest = 60s; 2/3·120s = 80s is clamped.
		{"clamped before usable end", t0, t0.Add(2 * time.Minute), t0, t0.Add(60 * time.Second)},
		{"inside margin", t0, t0.Add(20 * time.Second), t0, t0.Add(time.Second)},
		{"lifetime shorter than floor", t0, t0.Add(500 * time.Millisecond), t0, t0.Add(time.Second)},
		{"issued long ago, floor from end", t0.Add(-time.Hour), t0.Add(10 * time.Minute), t0, t0.Add(time.Second)},
	} {
		if got := cfg.refreshTime(tc.fetched, tc.expiry, tc.end, 0.5); !got.Equal(tc.want) {
			t.Errorf("%s: refreshTime = %v, want %v", tc.name, got.Sub(t0), tc.want.Sub(t0))
		}
	}
	// Clamp with the fetch-timeout buffer: RefreshAt 0.999 on a 1h credential.
	cfg2 := mustResolve(t, Options{Jitter: -1, RefreshAt: 0.999})
	if got, want := cfg2.refreshTime(t0, t0.Add(time.Hour), t0, 0.5), t0.Add(time.Hour-30*time.Second-31*time.Second); !got.Equal(want) {
		t.Errorf("RefreshAt 0.999: refreshTime = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	// Far-future expiry saturates instead of overflowing.
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := cfg.refreshTime(t0, far, t0, 0.99); !got.After(t0.Add(100*365*24*time.Hour)) || !got.Before(far) {
		t.Errorf("far expiry: refreshTime = %v", got)
	}
}

func TestRefreshTimeJitter(t *testing.T) {
	t.Parallel()
	cfg := mustResolve(t, Options{}) // jitter 0.1
	t0, exp := epoch, epoch.Add(time.Hour)
	if got, want := cfg.refreshTime(t0, exp, t0, 0), t0.Add(36*time.Minute); !got.Equal(want) {
		t.Errorf("r=0: %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	if got, want := cfg.refreshTime(t0, exp, t0, 1), t0.Add(44*time.Minute); !got.Equal(want) {
		t.Errorf("r=1: %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	seen := map[time.Time]bool{}
	for range 100 {
		got := cfg.refreshTime(t0, exp, t0, rng.Float64())
		if got.Before(t0.Add(36*time.Minute)) || got.After(t0.Add(44*time.Minute)) {
			t.Fatalf("jittered refresh %v outside 40m ± 10%%", got.Sub(t0))
		}
		seen[got] = true
	}
	if len(seen) < 50 {
		t.Errorf("jitter produced only %d distinct times in 100 draws", len(seen))
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	cfg := mustResolve(t, Options{MinBackoff: time.Second, MaxBackoff: 10 * time.Second})
	for _, tc := range []struct {
		n    int64
		r    float64
		want time.Duration
	}{
		{1, 0.99, time.Second}, // first retry: exactly MinBackoff
		{2, 0, time.Second},
		{2, 0.5, 1500 * time.Millisecond},
		{3, 0.5, 2500 * time.Millisecond},
		{4, 1, 8 * time.Second},
		{5, 1, 10 * time.Second}, // capped
		{1000, 0.5, 5500 * time.Millisecond},
	} {
		if got := cfg.backoff(tc.n, tc.r); got != tc.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", tc.n, tc.r, got, tc.want)
		}
	}
	huge := mustResolve(t, Options{MinBackoff: time.Second, MaxBackoff: math.MaxInt64})
	for _, n := range []int64{62, 63, 64, 1 << 40} {
		if got := huge.backoff(n, 0.999); got < time.Second {
			t.Errorf("huge backoff(%d) = %v overflowed", n, got)
		}
	}
}

func TestRetryTime(t *testing.T) {
	t.Parallel()
	cfg := mustResolve(t, Options{MinBackoff: time.Second, MaxBackoff: time.Hour})
	t0 := epoch
	// Plain backoff when it lands before the usable end, or when nothing is usable.
	if got, want := cfg.retryTime(1, t0, t0.Add(time.Hour), true, 0.5), t0.Add(time.Second); !got.Equal(want) {
		t.Errorf("early retry = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	if got, want := cfg.retryTime(20, t0, time.Time{}, false, 0.5), t0.Add(cfg.backoff(20, 0.5)); !got.Equal(want) {
		t.Errorf("no usable credential: retry = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	// Pulled forward to halfway through the remaining usable time.
	if got, want := cfg.retryTime(20, t0, t0.Add(10*time.Minute), true, 0.9), t0.Add(5*time.Minute); !got.Equal(want) {
		t.Errorf("pulled-forward retry = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	// Halfway would be under MinBackoff: MinBackoff, still before the usable end.
	if got, want := cfg.retryTime(20, t0, t0.Add(1500*time.Millisecond), true, 0.9), t0.Add(time.Second); !got.Equal(want) {
		t.Errorf("short room retry = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	// Less than MinBackoff left: plain backoff (the credential will lapse; Get fetches on demand).
	if got, want := cfg.retryTime(20, t0, t0.Add(time.Second), true, 0.5), t0.Add(cfg.backoff(20, 0.5)); !got.Equal(want) {
		t.Errorf("no room retry = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
}

// FuzzSchedule checks the scheduling invariants over arbitrary lifetimes and options.
func FuzzSchedule(f *testing.F) {
	f.Add(int64(0), int64(time.Hour), int64(0), 0.5, 2.0/3, 0.1, int64(30*time.Second), int64(time.Second), int64(2*time.Minute), int64(3))
	f.Add(int64(-time.Hour), int64(10*time.Minute), int64(0), 0.0, 0.9, 0.5, int64(0), int64(time.Millisecond), int64(time.Hour), int64(40))
	f.Add(int64(0), int64(time.Second), int64(0), 0.99, 0.5, 0.0, int64(time.Minute), int64(time.Second), int64(time.Second), int64(1))
	f.Fuzz(func(t *testing.T, fetchedOff, lifetime, endOff int64, r, refreshAt, jitter float64, margin, minB, maxB, n int64) {
		if r < 0 || r >= 1 || math.IsNaN(r) || lifetime <= 0 || fetchedOff > 0 || endOff < 0 || n < 1 || margin < 0 {
			t.Skip()
		}
		o := Options{RefreshAt: refreshAt, Jitter: jitter, ExpiryMargin: time.Duration(margin),
			MinBackoff: time.Duration(minB), MaxBackoff: time.Duration(maxB)}
		if jitter == 0 {
			o.Jitter = -1
		}
		if margin == 0 {
			o.ExpiryMargin = -1
		}
		o.Fetch = newFetcher().Fetch
		cfg, err := o.resolve(true)
		if err != nil {
			t.Skip()
		}
		end := epoch.Add(time.Duration(endOff))
		fetched := end.Add(time.Duration(fetchedOff))
		expiry := end.Add(time.Duration(lifetime))
		at := cfg.refreshTime(fetched, expiry, end, r)
		if at.Before(end.Add(cfg.minBackoff)) {
			t.Fatalf("refresh %v before floor %v", at, end.Add(cfg.minBackoff))
		}
		usableUntil := expiry.Add(-cfg.margin)
		if floor := end.Add(cfg.minBackoff); floor.Before(usableUntil) && !at.Before(usableUntil) {
			t.Fatalf("refresh %v not before usable end %v", at, usableUntil)
		}
		d := cfg.backoff(n, r)
		if d < cfg.minBackoff || d > cfg.maxBackoff {
			t.Fatalf("backoff %v outside [%v, %v]", d, cfg.minBackoff, cfg.maxBackoff)
		}
		retry := cfg.retryTime(n, end, usableUntil, end.Before(usableUntil), r)
		if retry.Before(end.Add(cfg.minBackoff)) {
			t.Fatalf("retry %v sooner than MinBackoff after %v", retry, end)
		}
		if usableUntil.Sub(end) > cfg.minBackoff && !retry.Before(usableUntil) {
			t.Fatalf("retry %v not before usable end %v", retry, usableUntil)
		}
	})
}
