package refresh

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Group defaults.
const (
	DefaultMaxKeys = 64
	DefaultIdleTTL = time.Hour
)

// GroupOptions configures a Group.
type GroupOptions struct {
	// Template configures every per-key Cache. Template.Fetch is ignored; Template.Name names
	// the group in Status, events and errors.
	Template Options
	// NewFetch returns the fetch function for a key (for example one ID-token audience).
	NewFetch func(key string) FetchFunc
	// MaxKeys bounds the number of cached keys; zero means DefaultMaxKeys.
	MaxKeys int
	// IdleTTL: a key not read for this long is dropped; zero means DefaultIdleTTL.
	IdleTTL time.Duration
}

// Group holds lazily created caches keyed by a string, such as an ID-token audience taken
// from a request. Memory is bounded: at most MaxKeys keys are cached and keys idle for
// IdleTTL are dropped. When the group is full of keys that are still in use, a new key is
// not cached: its Get performs a fetch shared only with concurrent Gets of the same key.
// Established keys are therefore never evicted by a flood of new ones; a flood only costs
// fetches for the flooding keys. Member caches have no Run loop: they refresh ahead on
// access (see the package documentation).
type Group struct {
	cfg      config
	err      error // from NewGroup's validation; returned by every Get
	newFetch func(string) FetchFunc
	maxKeys  int
	idleTTL  time.Duration
	touchRes int64 // granularity of last-use updates, in nanoseconds

	members  atomic.Pointer[map[string]*member] // copy-on-write; replaced under mu
	mu       sync.Mutex
	overflow singleflight.Group
}

type member struct {
	cache    *Cache
	lastUsed atomic.Int64 // Unix nanoseconds
}

// NewGroup returns a Group. Invalid options are reported by every Get (matching
// ErrInvalidOptions) rather than here.
func NewGroup(opts GroupOptions) *Group {
	g := &Group{newFetch: opts.NewFetch, maxKeys: opts.MaxKeys, idleTTL: opts.IdleTTL}
	g.cfg, g.err = opts.Template.resolve(false)
	switch {
	case g.err != nil:
	case g.newFetch == nil:
		g.err = invalid("group %q: NewFetch is required", opts.Template.Name)
	case g.maxKeys < 0 || g.idleTTL < 0:
		g.err = invalid("group %q: negative MaxKeys or IdleTTL", opts.Template.Name)
	}
	if g.maxKeys == 0 {
		g.maxKeys = DefaultMaxKeys
	}
	if g.idleTTL == 0 {
		g.idleTTL = DefaultIdleTTL
	}
	g.touchRes = int64(min(time.Second, g.idleTTL/16))
	m := map[string]*member{}
	g.members.Store(&m)
	return g
}

// Get returns a usable credential for key, with the same semantics as Cache.Get.
func (g *Group) Get(ctx context.Context, key string) (Credential, error) {
	if g.err != nil {
		return Credential{}, g.err
	}
	if m, ok := (*g.members.Load())[key]; ok {
		now := g.cfg.now()
		m.touch(now, g.touchRes)
		return m.cache.get(ctx, now)
	}
	return g.getSlow(ctx, key)
}

func (m *member) touch(now time.Time, res int64) {
	// Written at most once per res nanoseconds, so hot keys do not bounce a cache line.
	if n := now.UnixNano(); n-m.lastUsed.Load() >= res {
		m.lastUsed.Store(n)
	}
}

func (g *Group) getSlow(ctx context.Context, key string) (Credential, error) {
	now := g.cfg.now()
	g.mu.Lock()
	cur := *g.members.Load()
	m, ok := cur[key]
	if !ok {
		cur = g.sweepLocked(cur, now)
		if len(cur) < g.maxKeys {
			m = g.newMember(key, now)
			next := make(map[string]*member, len(cur)+1)
			for k, v := range cur {
				next[k] = v
			}
			next[key] = m
			g.members.Store(&next)
		}
	}
	g.mu.Unlock()
	if m == nil {
		return g.getUncached(ctx, key)
	}
	m.touch(now, g.touchRes)
	return m.cache.get(ctx, now)
}

// newMember builds the cache for key; g.mu must be held (it guards the template's Rand).
func (g *Group) newMember(key string, now time.Time) *member {
	cfg := g.cfg
	cfg.fetch = g.newFetch(key)
	cfg.rng = rand.New(rand.NewPCG(g.cfg.rng.Uint64(), g.cfg.rng.Uint64()))
	m := &member{cache: newCache(cfg, key)}
	m.lastUsed.Store(now.UnixNano())
	return m
}

// sweepLocked returns cur without idle members (a new map if any were dropped, and then
// published); g.mu must be held.
func (g *Group) sweepLocked(cur map[string]*member, now time.Time) map[string]*member {
	cutoff := now.Add(-g.idleTTL).UnixNano()
	var next map[string]*member
	for k, m := range cur {
		if m.lastUsed.Load() > cutoff {
			continue
		}
		if next == nil {
			next = make(map[string]*member, len(cur))
			for k2, v := range cur {
				next[k2] = v
			}
		}
		delete(next, k)
	}
	if next == nil {
		return cur
	}
	g.members.Store(&next)
	return next
}

// getUncached serves a key the full group cannot hold: one fetch per burst of concurrent
// callers, detached from any single caller's ctx, nothing kept afterwards.
func (g *Group) getUncached(ctx context.Context, key string) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, &UnavailableError{Name: g.cfg.name, Key: key, Err: err}
	}
	ch := g.overflow.DoChan(key, func() (any, error) {
		g.mu.Lock()
		c := g.newMember(key, g.cfg.now()).cache
		g.mu.Unlock()
		return c.Get(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Credential{}, r.Err
		}
		return r.Val.(Credential), nil
	case <-ctx.Done():
		return Credential{}, &UnavailableError{Name: g.cfg.name, Key: key, Err: ctx.Err()}
	}
}

// Status returns the status of every cached key, sorted by key, after dropping idle keys.
func (g *Group) Status() []Status {
	g.mu.Lock()
	cur := g.sweepLocked(*g.members.Load(), g.cfg.now())
	g.mu.Unlock()
	out := make([]Status, 0, len(cur))
	for _, m := range cur {
		out = append(out, m.cache.Status())
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Key, b.Key) })
	return out
}
