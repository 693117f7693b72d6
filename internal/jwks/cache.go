package jwks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/keylessdev/keyless/internal/jose"
)

// Cache holds the discovered JWKS of each external issuer. It is safe for concurrent use;
// create one per process (or per configuration snapshot) with New.
type Cache struct {
	opts    Options
	urls    urlPolicy
	hook    dialHook
	client  *http.Client // without pins
	flights singleflight.Group

	mu      sync.Mutex
	entries map[string]*entry       // key: entryKey(issuer, pins)
	pinned  map[string]*http.Client // key: pinSet.key(); created on first use
}

// entry is the cached state of one issuer. Fields below mu are guarded by it.
type entry struct {
	key       string // Cache.entries key and singleflight key
	issuer    string
	pins      pinSet
	client    *http.Client
	discovery *url.URL    // nil when invalid is set
	invalid   *FetchError // the configured issuer itself is unacceptable

	mu           sync.Mutex
	keys         *jose.KeySet
	fetchedAt    time.Time
	expiresAt    time.Time
	jwksURI      *url.URL
	discoveredAt time.Time
	rediscover   bool // the last attempt failed: re-run discovery before the next JWKS fetch
	lastAttempt  time.Time
	lastErr      *FetchError // the last attempt's error; nil after a success
	attempts     uint64      // completed attempts; a generation number for refresh dedup
	failures     uint64
	keyCount     int
	dropped      int
}

// New returns an empty Cache. Options are defaulted as documented on Options.
func New(opts Options) *Cache {
	return newCache(opts, nil)
}

// newCache lets tests observe dials the address policy allowed (see dialHook).
func newCache(opts Options, hook dialHook) *Cache {
	o := opts.withDefaults()
	urls := urlPolicy{allowInsecureHTTP: o.AllowInsecureHTTP, addrs: newAddrPolicy(o.AllowPrivateNetworks, false)}
	rt := o.Transport
	if rt == nil {
		rt = newTransport(o, hook, nil)
	}
	return &Cache{opts: o, urls: urls, hook: hook, client: newClient(rt, urls),
		entries: make(map[string]*entry), pinned: make(map[string]*http.Client)}
}

// clientFor returns the client for a pin set, with c.mu held. Options.Transport (tests
// only) replaces pinned transports too, so pins have no effect with it.
func (c *Cache) clientFor(pins pinSet) *http.Client {
	if len(pins) == 0 || c.opts.Transport != nil {
		return c.client
	}
	k := pins.key()
	cl, ok := c.pinned[k]
	if !ok {
		cl = newClient(newTransport(c.opts, c.hook, pins), c.urls)
		c.pinned[k] = cl
	}
	return cl
}

// entryKey keeps sources of one issuer with different pin sets apart: keys fetched
// under one trust rule are never served to a source configured with another.
func entryKey(issuer string, pins pinSet) string {
	if len(pins) == 0 {
		return issuer
	}
	return issuer + "\x00" + pins.key()
}

// Source is the key source of one issuer; it satisfies the verifier's
// KeySet(ctx, kid) (*jose.KeySet, error) interface. Sources for the same issuer share
// their cache entry.
type Source struct {
	c *Cache
	e *entry
}

// Source returns the key source for issuer, registering it (so it appears in Stats) on
// first use. issuer is the exact "iss" value; discovery is fetched from issuer (without a
// trailing slash) + "/.well-known/openid-configuration". An unacceptable issuer URL is
// reported by every KeySet call.
func (c *Cache) Source(issuer string) *Source {
	return c.SourceWithThumbprints(issuer, nil)
}

// SourceWithThumbprints is Source for an issuer whose TLS certificate may also be trusted
// by thumbprint, like an AWS IAM OIDC provider's ThumbprintList: SHA-1 fingerprints (40
// hex digits, any case) of the last certificate the server presents. A chain that the
// standard verification refuses only for want of a trusted root is accepted when that
// last certificate is pinned (see the package documentation). Entries that are not 40 hex
// digits never match. Without thumbprints it is Source. Sources of one issuer with
// different thumbprint sets have separate cache entries.
func (c *Cache) SourceWithThumbprints(issuer string, thumbprints []string) *Source {
	pins := newPinSet(thumbprints)
	key := entryKey(issuer, pins)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		e = &entry{key: key, issuer: issuer, pins: pins, client: c.clientFor(pins)}
		if _, err := c.urls.checkIssuer(issuer); err != nil {
			e.invalid = wrapErr(issuer, StageDiscovery, err)
		} else if u, err := url.Parse(discoveryURL(issuer)); err != nil {
			e.invalid = wrapErr(issuer, StageDiscovery, fmt.Errorf("%w: discovery URL: %w", ErrInvalidURL, err))
		} else {
			e.discovery = u
		}
		c.entries[key] = e
	}
	return &Source{c: c, e: e}
}

// Issuer returns the issuer this source serves.
func (s *Source) Issuer() string { return s.e.issuer }

// KeySet returns the issuer's current keys. A cached, unexpired set is returned as is
// when it has kid (or kid is ""). For an unknown kid the set is refreshed at most once
// per MinRefreshInterval; otherwise the cached set is returned and the verifier reports
// the unknown key. When a refresh fails, cached keys are returned until MaxStale past
// their expiry; after that, or with nothing cached, the error (a *FetchError) is returned
// and reused, without a new fetch, for MinRefreshInterval.
func (s *Source) KeySet(ctx context.Context, kid string) (*jose.KeySet, error) {
	c, e := s.c, s.e
	if e.invalid != nil {
		return nil, e.invalid
	}
	e.mu.Lock()
	keys, ferr, gen, fetch := c.decide(e, c.opts.Now(), kid)
	e.mu.Unlock()
	if !fetch {
		if ferr != nil {
			return nil, ferr
		}
		return keys, nil
	}

	ch := c.flights.DoChan(e.key, func() (any, error) { return c.refresh(ctx, e, gen) })
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("jwks: issuer %q: waiting for keys: %w", e.issuer, context.Cause(ctx))
	case r := <-ch:
		if r.Err == nil {
			return r.Val.(*jose.KeySet), nil
		}
		now := c.opts.Now()
		e.mu.Lock()
		keys, staleUntil := e.keys, e.expiresAt.Add(c.opts.MaxStale)
		e.mu.Unlock()
		if keys != nil && now.Before(staleUntil) {
			return keys, nil
		}
		return nil, r.Err
	}
}

// decide reports, with e.mu held, whether a fetch is needed; if not, it returns the
// answer (keys, or the recent error). gen identifies the state the decision saw.
func (c *Cache) decide(e *entry, now time.Time, kid string) (keys *jose.KeySet, err *FetchError, gen uint64, fetch bool) {
	recent := !e.lastAttempt.IsZero() && now.Sub(e.lastAttempt) < c.opts.MinRefreshInterval
	if e.keys != nil && now.Before(e.expiresAt) {
		if kid == "" || hasKID(e.keys, kid) || recent {
			return e.keys, nil, 0, false
		}
		return nil, nil, e.attempts, true
	}
	if recent && e.lastErr != nil { // negative cache, bounded by MinRefreshInterval
		if e.keys != nil && now.Before(e.expiresAt.Add(c.opts.MaxStale)) {
			return e.keys, nil, 0, false
		}
		return nil, e.lastErr, 0, false
	}
	return nil, nil, e.attempts, true
}

func hasKID(ks *jose.KeySet, kid string) bool {
	for i := range ks.Keys {
		if ks.Keys[i].KID == kid {
			return true
		}
	}
	return false
}

// refresh runs inside the issuer's single flight. If another attempt completed after the
// caller decided to fetch (gen changed), its outcome is returned instead of fetching again.
func (c *Cache) refresh(ctx context.Context, e *entry, gen uint64) (*jose.KeySet, error) {
	e.mu.Lock()
	if e.attempts != gen {
		keys, lastErr := e.keys, e.lastErr
		e.mu.Unlock()
		if lastErr != nil {
			return nil, lastErr
		}
		return keys, nil
	}
	jwksURI := e.jwksURI
	needDiscovery := jwksURI == nil || e.rediscover || !c.opts.Now().Before(e.discoveredAt.Add(c.opts.TTL))
	e.mu.Unlock()

	var discovered *url.URL
	if needDiscovery {
		u, ferr := c.discover(ctx, e)
		if ferr != nil {
			return nil, c.recordFailure(e, nil, ferr)
		}
		discovered, jwksURI = u, u
	}
	resp, ferr := c.get(ctx, e.client, e.issuer, StageJWKS, jwksURI, "application/jwk-set+json, application/json;q=0.9, */*;q=0.1")
	if ferr != nil {
		return nil, c.recordFailure(e, discovered, ferr)
	}
	keys, dropped, err := jose.ParseKeySet(resp.body)
	if err != nil {
		return nil, c.recordFailure(e, discovered, newFetchError(e.issuer, StageJWKS, ErrInvalidDocument, err,
			fmt.Sprintf("JWKS from %s: %v", jwksURI.Redacted(), err)))
	}
	ttl := freshness(resp.header, c.opts.TTL)
	now := c.opts.Now()

	e.mu.Lock()
	e.attempts++
	e.lastAttempt = now
	if discovered != nil {
		e.jwksURI, e.discoveredAt, e.rediscover = discovered, now, false
	}
	e.keys, e.fetchedAt, e.expiresAt, e.lastErr = keys, now, now.Add(ttl), nil
	e.keyCount, e.dropped = len(keys.Keys), len(dropped)
	e.mu.Unlock()

	log := c.opts.Logger.With(slog.String("issuer", e.issuer))
	for _, d := range dropped {
		log.Warn("jwks: key dropped by policy", slog.Int("index", d.Index), slog.String("kid", truncate(d.KID, 128)), slog.String("reason", d.Reason))
	}
	if len(keys.Keys) == 0 {
		log.Warn("jwks: issuer publishes no usable keys; every token will be rejected", slog.String("jwks_uri", jwksURI.Redacted()))
	}
	log.Debug("jwks: refreshed", slog.Int("keys", len(keys.Keys)), slog.Duration("ttl", ttl))
	return keys, nil
}

// discover fetches and validates the discovery document and returns the jwks_uri.
func (c *Cache) discover(ctx context.Context, e *entry) (*url.URL, *FetchError) {
	resp, ferr := c.get(ctx, e.client, e.issuer, StageDiscovery, e.discovery, "application/json")
	if ferr != nil {
		return nil, ferr
	}
	doc, err := parseDiscovery(resp.body)
	if err != nil {
		return nil, wrapErr(e.issuer, StageDiscovery, err)
	}
	u, err := validateDiscovery(doc, e.issuer, c.urls)
	if err != nil {
		return nil, wrapErr(e.issuer, StageDiscovery, err)
	}
	return u, nil
}

// recordFailure stores a failed attempt and logs it with what callers will be served.
func (c *Cache) recordFailure(e *entry, discovered *url.URL, ferr *FetchError) *FetchError {
	now := c.opts.Now()
	e.mu.Lock()
	e.attempts++
	e.failures++
	e.lastAttempt = now
	e.lastErr = ferr
	if discovered != nil {
		e.jwksURI, e.discoveredAt = discovered, now
	}
	e.rediscover = true
	hasKeys, staleUntil := e.keys != nil, e.expiresAt.Add(c.opts.MaxStale)
	e.mu.Unlock()

	attrs := []any{slog.String("issuer", e.issuer), slog.String("stage", string(ferr.Stage)), slog.String("error", ferr.Detail)}
	if hasKeys && now.Before(staleUntil) {
		c.opts.Logger.Warn("jwks: refresh failed; serving cached keys", append(attrs, slog.Time("stale_until", staleUntil))...)
	} else {
		c.opts.Logger.Error("jwks: refresh failed; no usable cached keys", attrs...)
	}
	return ferr
}

// wrapErr turns a validation error that wraps one of the sentinels into a FetchError.
func wrapErr(issuer string, stage Stage, err error) *FetchError {
	sentinel := ErrInvalidDocument
	for _, s := range []error{ErrIssuerMismatch, ErrBlockedAddress, ErrInsecureURL, ErrInvalidURL, ErrInvalidDocument} {
		if errors.Is(err, s) {
			sentinel = s
			break
		}
	}
	return newFetchError(issuer, stage, sentinel, err, err.Error())
}

// IssuerStats is a snapshot of one issuer's cache entry, for metrics and status pages.
// LastError is the operator detail of the last failed attempt (no response bodies beyond
// a short sanitised excerpt), or "" after a success.
type IssuerStats struct {
	Issuer    string
	JWKSURI   string
	FetchedAt time.Time     // last successful JWKS fetch; zero if none
	ExpiresAt time.Time     // when the cached set needs a refresh
	Age       time.Duration // since FetchedAt; zero if none
	Fetches   uint64        // refresh attempts (discovery when due, then JWKS)
	Failures  uint64        // failed refresh attempts
	LastError string
	KeyCount  int // usable keys in the cached set
	Dropped   int // keys the last successful fetch dropped by policy
	// Entries counts the issuer's cache entries: one per distinct thumbprint set
	// (SourceWithThumbprints), usually 1.
	Entries int
}

// Stats returns one row per registered issuer, sorted by issuer. When an issuer has
// several entries (different thumbprint sets), Fetches and Failures are summed and the
// other fields come from the entry with the most recent attempt.
func (c *Cache) Stats() []IssuerStats {
	now := c.opts.Now()
	c.mu.Lock()
	entries := make([]*entry, 0, len(c.entries))
	for _, e := range c.entries {
		entries = append(entries, e)
	}
	c.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		return a.issuer < b.issuer || (a.issuer == b.issuer && a.key < b.key)
	})

	out := make([]IssuerStats, 0, len(entries))
	latest := map[string]time.Time{}
	for _, e := range entries {
		s, last := e.stats(now)
		if n := len(out); n > 0 && out[n-1].Issuer == s.Issuer {
			agg := &out[n-1]
			fetches, failures, count := agg.Fetches+s.Fetches, agg.Failures+s.Failures, agg.Entries+1
			if last.After(latest[s.Issuer]) {
				*agg, latest[s.Issuer] = s, last
			}
			agg.Fetches, agg.Failures, agg.Entries = fetches, failures, count
			continue
		}
		latest[s.Issuer] = last
		out = append(out, s)
	}
	return out
}

// stats returns the entry's row and the time of its last attempt.
func (e *entry) stats(now time.Time) (IssuerStats, time.Time) {
	s := IssuerStats{Issuer: e.issuer, Entries: 1}
	if e.invalid != nil {
		s.LastError = e.invalid.Error()
		return s, time.Time{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.jwksURI != nil {
		s.JWKSURI = e.jwksURI.Redacted()
	}
	s.FetchedAt, s.ExpiresAt = e.fetchedAt, e.expiresAt
	if !e.fetchedAt.IsZero() {
		s.Age = now.Sub(e.fetchedAt)
	}
	s.Fetches, s.Failures = e.attempts, e.failures
	if e.lastErr != nil {
		s.LastError = e.lastErr.Error()
	}
	s.KeyCount, s.Dropped = e.keyCount, e.dropped
	return s, e.lastAttempt
}
