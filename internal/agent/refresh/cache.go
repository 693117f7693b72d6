package refresh

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Credential is one cached credential: an opaque value and when it expires.
type Credential struct {
	Value any
	// Expiry is when the credential stops being valid upstream.
	Expiry time.Time
	// Fetched is when it was obtained. A FetchFunc may set it (for example to the issue time);
	// if it is zero or in the future the cache sets it to the time the fetch completed.
	Fetched time.Time
}

// FetchFunc obtains a fresh credential.
type FetchFunc func(ctx context.Context) (Credential, error)

// Status is a snapshot of one cache for the status endpoint and metrics.
type Status struct {
	Name string
	Key  string // Group key; empty for a standalone Cache
	// Valid: a usable credential is cached now (Get returns it without waiting).
	Valid bool
	// Expiry and Fetched of the cached credential (zero if none).
	Expiry, Fetched time.Time
	// Age is now − Fetched (zero if none).
	Age time.Duration
	// LastAttempt is when the last fetch started; LastSuccess when the last good one completed.
	LastAttempt, LastSuccess time.Time
	// NextRefresh is when the next attempt is due (zero before the first one).
	NextRefresh time.Time
	// InFlight: a fetch is running now.
	InFlight bool
	// Refreshes counts successful fetches, Failures failed ones.
	Refreshes, Failures, ConsecutiveFailures int64
	// LastError is the cause of the last failure; empty once a fetch succeeds.
	LastError string
}

// entry is the immutable value Get reads through an atomic pointer.
type entry struct {
	cred        Credential
	usableUntil time.Time
}

// call is one fetch attempt; waiters block on done, then read cred and err.
type call struct {
	done   chan struct{}
	cancel context.CancelFunc
	cred   Credential
	err    error // nil or *FetchError
}

// Cache holds one refreshed credential. See the package documentation for the model.
type Cache struct {
	cfg  config
	key  string
	kick chan struct{} // wakes Run when a fetch completes

	// Read without the lock on the hot path.
	cur         atomic.Pointer[entry]
	nextAttempt atomic.Int64 // st.next in Unix nanoseconds
	fetching    atomic.Bool  // inflight != nil
	running     atomic.Bool  // Run is active

	mu       sync.Mutex // guards the fields below and cfg.rng; never held during Fetch
	inflight *call
	st       stats
}

type stats struct {
	lastAttempt, lastSuccess, lastEnd, next time.Time
	refreshes, failures, consecutive        int64
	lastErr                                 error
}

// New returns a Cache. Nothing is fetched until Run, Get or Refresh is called.
func New(opts Options) (*Cache, error) {
	cfg, err := opts.resolve(true)
	if err != nil {
		return nil, err
	}
	return newCache(cfg, ""), nil
}

func newCache(cfg config, key string) *Cache {
	c := &Cache{cfg: cfg, key: key, kick: make(chan struct{}, 1)}
	c.nextAttempt.Store(math.MinInt64)
	return c
}

// Get returns the cached credential if it is usable, without waiting on any fetch in
// progress. Otherwise it joins the fetch in flight or starts one (unless the last attempt
// ended less than MinBackoff ago), and waits for it until ctx is done. A fetch started here
// runs detached from ctx, bounded by FetchTimeout, so other waiters are unaffected if this
// caller gives up. Errors are *UnavailableError (errors.Is(err, ErrUnavailable)).
func (c *Cache) Get(ctx context.Context) (Credential, error) { return c.get(ctx, c.cfg.now()) }

func (c *Cache) get(ctx context.Context, now time.Time) (Credential, error) {
	if e := c.cur.Load(); e != nil && now.Before(e.usableUntil) {
		if !c.running.Load() && !c.fetching.Load() && now.UnixNano() >= c.nextAttempt.Load() {
			c.refreshAhead(ctx, now)
		}
		return e.cred, nil
	}
	return c.getSlow(ctx, now)
}

// refreshAhead starts a background fetch when no Run loop is active and the refresh time has
// come, so a cache that is only read (a Group member) still refreshes ahead of expiry.
func (c *Cache) refreshAhead(ctx context.Context, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight == nil && !now.Before(c.st.next) {
		c.startLocked(context.WithoutCancel(ctx), now)
	}
}

func (c *Cache) getSlow(ctx context.Context, now time.Time) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, c.unavailable(err)
	}
	c.mu.Lock()
	cl := c.inflight
	if cl == nil {
		if !c.st.lastEnd.IsZero() && now.Before(c.st.lastEnd.Add(c.cfg.minBackoff)) {
			// Throttled: the last attempt just ended. Serve its result rather than refetch.
			lastErr, e := c.st.lastErr, c.cur.Load()
			c.mu.Unlock()
			if lastErr != nil {
				return Credential{}, c.unavailable(lastErr)
			}
			if e != nil && now.Before(e.cred.Expiry) {
				return e.cred, nil // fresh from upstream but inside the margin: best available
			}
			return Credential{}, c.unavailable(ErrExpiredCredential)
		}
		cl = c.startLocked(context.WithoutCancel(ctx), now)
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		if cl.err != nil {
			return Credential{}, c.unavailable(cl.err)
		}
		return cl.cred, nil
	case <-ctx.Done():
		return Credential{}, c.unavailable(ctx.Err())
	}
}

func (c *Cache) unavailable(err error) error {
	return &UnavailableError{Name: c.cfg.name, Key: c.key, Err: err}
}

// Refresh fetches now, or joins the fetch already in flight, and waits for it until ctx is
// done. The fetch is detached from ctx. It returns the attempt's *FetchError, or ctx's error.
func (c *Cache) Refresh(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	cl := c.inflight
	if cl == nil {
		cl = c.startLocked(context.WithoutCancel(ctx), c.cfg.now())
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run keeps the credential fresh until ctx is done: an initial fetch, then one at each
// scheduled refresh or retry time. Cancelling ctx cancels a fetch that Run itself started
// and waits for it to return. Only one Run may be active per Cache; a second concurrent call
// returns immediately.
func (c *Cache) Run(ctx context.Context) {
	if !c.running.CompareAndSwap(false, true) {
		return
	}
	defer c.running.Store(false)
	for ctx.Err() == nil {
		now := c.cfg.now()
		c.mu.Lock()
		next, cl, started := c.st.next, c.inflight, false
		if cl == nil && !now.Before(next) {
			cl, started = c.startLocked(ctx, now), true
		}
		c.mu.Unlock()

		if cl != nil {
			select {
			case <-cl.done:
			case <-ctx.Done():
				if started {
					cl.cancel()
					<-cl.done
				}
				return
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-c.cfg.after(next.Sub(now)):
		case <-c.kick: // another caller's fetch completed: recompute
		}
	}
}

// startLocked launches a fetch; c.mu must be held and no fetch be in flight.
func (c *Cache) startLocked(parent context.Context, now time.Time) *call {
	ctx, cancel := context.WithTimeout(parent, c.cfg.fetchTimeout)
	cl := &call{done: make(chan struct{}), cancel: cancel}
	c.inflight = cl
	c.fetching.Store(true)
	c.st.lastAttempt = now
	go c.do(ctx, cl, now)
	return cl
}

func (c *Cache) do(ctx context.Context, cl *call, start time.Time) {
	defer cl.cancel()
	cred, err := c.safeFetch(ctx)
	end := c.cfg.now()
	if err == nil {
		if cred.Fetched.IsZero() || cred.Fetched.After(end) {
			cred.Fetched = end
		}
		if !end.Before(cred.Expiry) {
			err = fmt.Errorf("%w: expiry %s is not after %s", ErrExpiredCredential,
				cred.Expiry.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
		}
	}
	if err != nil {
		err = &FetchError{Name: c.cfg.name, Key: c.key, Err: err}
		cred = Credential{}
	}
	ev := c.complete(cl, cred, err, start, end)
	if c.cfg.onEvent != nil {
		c.cfg.onEvent(ev)
	}
	close(cl.done)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *Cache) safeFetch(ctx context.Context) (cred Credential, err error) {
	defer func() {
		if recover() != nil {
			cred, err = Credential{}, ErrFetchPanic
		}
	}()
	return c.cfg.fetch(ctx)
}

// complete records an attempt's outcome and schedules the next one.
func (c *Cache) complete(cl *call, cred Credential, err error, start, end time.Time) Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := Event{Name: c.cfg.name, Key: c.key, Start: start, Duration: end.Sub(start)}
	st := &c.st
	st.lastEnd = end
	if err == nil {
		c.cur.Store(&entry{cred: cred, usableUntil: cred.Expiry.Add(-c.cfg.margin)})
		st.refreshes++
		st.consecutive = 0
		st.lastErr = nil
		st.lastSuccess = end
		st.next = c.cfg.refreshTime(cred.Fetched, cred.Expiry, end, c.cfg.rng.Float64())
		ev.Kind, ev.Expiry = EventFetchOK, cred.Expiry
	} else {
		st.failures++
		st.consecutive++
		st.lastErr = err
		var usableUntil time.Time
		e := c.cur.Load()
		if e != nil {
			usableUntil = e.usableUntil
		}
		st.next = c.cfg.retryTime(st.consecutive, end, usableUntil, e != nil && end.Before(usableUntil), c.cfg.rng.Float64())
		ev.Kind, ev.Err = EventFetchFailed, err
	}
	c.nextAttempt.Store(st.next.UnixNano())
	c.inflight = nil
	c.fetching.Store(false)
	cl.cred, cl.err = cred, err
	ev.ConsecutiveFailures, ev.NextRefresh = st.consecutive, st.next
	return ev
}

// Status returns a snapshot of the cache.
func (c *Cache) Status() Status {
	now := c.cfg.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Status{
		Name:                c.cfg.name,
		Key:                 c.key,
		LastAttempt:         c.st.lastAttempt,
		LastSuccess:         c.st.lastSuccess,
		NextRefresh:         c.st.next,
		InFlight:            c.inflight != nil,
		Refreshes:           c.st.refreshes,
		Failures:            c.st.failures,
		ConsecutiveFailures: c.st.consecutive,
	}
	if c.st.lastErr != nil {
		s.LastError = cause(c.st.lastErr).Error()
	}
	if e := c.cur.Load(); e != nil {
		s.Valid = now.Before(e.usableUntil)
		s.Expiry, s.Fetched = e.cred.Expiry, e.cred.Fetched
		s.Age = max(0, now.Sub(e.cred.Fetched))
	}
	return s
}

// cause strips the *FetchError wrapper, whose name and key Status already carries.
func cause(err error) error {
	if fe, ok := err.(*FetchError); ok && fe.Err != nil {
		return fe.Err
	}
	return err
}
