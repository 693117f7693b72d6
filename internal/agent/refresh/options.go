package refresh

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults applied by New for zero-valued Options fields.
const (
	DefaultRefreshAt    = 2.0 / 3.0
	DefaultJitter       = 0.1
	DefaultExpiryMargin = 30 * time.Second
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 2 * time.Minute
	DefaultFetchTimeout = 30 * time.Second
)

// Options configures a Cache. Only Name and Fetch are required.
type Options struct {
	// Name identifies the pipeline in Status, events and errors (for example "gce-access-token").
	Name string
	// Fetch obtains a fresh credential. It is called from a goroutine owned by the cache, at
	// most one call at a time per Cache, with a context bounded by FetchTimeout; it must
	// return promptly once that context is done.
	Fetch FetchFunc

	// Now returns the current time; default time.Now.
	Now func() time.Time
	// After returns a channel that receives once d has elapsed on the clock Now reads; default
	// time.After. Only Run uses it. FetchTimeout always runs on the real clock.
	After func(d time.Duration) <-chan time.Time
	// Rand is the jitter source. The cache uses it only while holding its own lock, so it must
	// not be shared with anything else (a Group derives one per key from it). Default: a
	// generator seeded from the runtime's random source.
	Rand *rand.Rand

	// RefreshAt is the fraction of a credential's lifetime after which it is refreshed; it must
	// lie in (0, 1). Zero means DefaultRefreshAt.
	RefreshAt float64
	// Jitter spreads the refresh time by ± this fraction of the refresh delay; it must be at
	// most 0.5. Zero means DefaultJitter; a negative value disables jitter.
	Jitter float64
	// ExpiryMargin: a credential is usable (served without a fetch) while now < Expiry −
	// ExpiryMargin. Zero means DefaultExpiryMargin; a negative value means no margin.
	ExpiryMargin time.Duration
	// MinBackoff and MaxBackoff bound the delay between failed attempts (see doc.go). MinBackoff
	// is also the minimum spacing between fetches. Zero means the defaults.
	MinBackoff, MaxBackoff time.Duration
	// FetchTimeout bounds each Fetch call. Zero means DefaultFetchTimeout.
	FetchTimeout time.Duration

	// OnEvent, when set, is called once after every completed fetch attempt, synchronously from
	// the fetch goroutine and before waiters are released. It must not block; it may call
	// Status. Group members share it, so it may be called concurrently.
	OnEvent func(Event)
}

// EventKind says how a fetch attempt ended.
type EventKind int

const (
	// EventFetchOK: the fetch returned a credential that was accepted into the cache.
	EventFetchOK EventKind = iota + 1
	// EventFetchFailed: the fetch failed or returned an unacceptable credential.
	EventFetchFailed
)

func (k EventKind) String() string {
	switch k {
	case EventFetchOK:
		return "fetch_ok"
	case EventFetchFailed:
		return "fetch_failed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event describes one completed fetch attempt, for metrics and logs. It never carries the
// credential value.
type Event struct {
	Name string
	Key  string // Group key; empty for a standalone Cache
	Kind EventKind
	// Start and Duration of the attempt, on the injected clock.
	Start    time.Time
	Duration time.Duration
	// Expiry of the credential fetched (EventFetchOK only).
	Expiry time.Time
	// Err is the *FetchError (EventFetchFailed only).
	Err error
	// ConsecutiveFailures after this attempt.
	ConsecutiveFailures int64
	// NextRefresh is when the next attempt is scheduled.
	NextRefresh time.Time
}

// config is Options with defaults applied and checked.
type config struct {
	name         string
	fetch        FetchFunc
	now          func() time.Time
	after        func(time.Duration) <-chan time.Time
	rng          *rand.Rand
	refreshAt    float64
	jitter       float64
	margin       time.Duration
	minBackoff   time.Duration
	maxBackoff   time.Duration
	fetchTimeout time.Duration
	onEvent      func(Event)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// resolve checks o and applies defaults. requireFetch is false for a Group template.
func (o Options) resolve(requireFetch bool) (config, error) {
	c := config{
		name:         o.Name,
		fetch:        o.Fetch,
		now:          o.Now,
		after:        o.After,
		rng:          o.Rand,
		refreshAt:    o.RefreshAt,
		jitter:       o.Jitter,
		margin:       o.ExpiryMargin,
		minBackoff:   o.MinBackoff,
		maxBackoff:   o.MaxBackoff,
		fetchTimeout: o.FetchTimeout,
		onEvent:      o.OnEvent,
	}
	if requireFetch && c.fetch == nil {
		return config{}, invalid("%q: Fetch is required", o.Name)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.after == nil {
		c.after = time.After
	}
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	switch {
	case c.refreshAt == 0:
		c.refreshAt = DefaultRefreshAt
	case !(c.refreshAt > 0 && c.refreshAt < 1): // also rejects NaN
		return config{}, invalid("%q: RefreshAt %v is not in (0, 1)", o.Name, o.RefreshAt)
	}
	switch {
	case c.jitter == 0:
		c.jitter = DefaultJitter
	case c.jitter < 0:
		c.jitter = 0
	case !(c.jitter <= 0.5):
		return config{}, invalid("%q: Jitter %v is greater than 0.5", o.Name, o.Jitter)
	}
	switch {
	case c.margin == 0:
		c.margin = DefaultExpiryMargin
	case c.margin < 0:
		c.margin = 0
	}
	if c.minBackoff == 0 {
		c.minBackoff = DefaultMinBackoff
	}
	if c.maxBackoff == 0 {
		c.maxBackoff = DefaultMaxBackoff
	}
	if c.fetchTimeout == 0 {
		c.fetchTimeout = DefaultFetchTimeout
	}
	switch {
	case c.minBackoff < 0 || c.maxBackoff < 0 || c.fetchTimeout < 0:
		return config{}, invalid("%q: negative MinBackoff, MaxBackoff or FetchTimeout", o.Name)
	case c.maxBackoff < c.minBackoff:
		return config{}, invalid("%q: MaxBackoff %v is less than MinBackoff %v", o.Name, c.maxBackoff, c.minBackoff)
	}
	return c, nil
}
