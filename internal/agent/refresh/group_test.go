package refresh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keyFetches counts fetches per key; each returns "key#n" valid for an hour.
type keyFetches struct {
	clk     *fakeClock
	mu      sync.Mutex
	n       map[string]int
	created map[string]int
	block   chan struct{} // if non-nil, fetches wait for it to close
	started chan string
}

func newKeyFetches(clk *fakeClock) *keyFetches {
	return &keyFetches{clk: clk, n: map[string]int{}, created: map[string]int{}, started: make(chan string, 64)}
}

func (k *keyFetches) newFetch(key string) FetchFunc {
	k.mu.Lock()
	k.created[key]++
	k.mu.Unlock()
	return func(ctx context.Context) (Credential, error) {
		select {
		case k.started <- key:
		default: // only the tests that read started keep it from filling
		}
		if k.block != nil {
			select {
			case <-k.block:
			case <-ctx.Done():
				return Credential{}, ctx.Err()
			}
		}
		k.mu.Lock()
		k.n[key]++
		v := fmt.Sprintf("%s#%d", key, k.n[key])
		k.mu.Unlock()
		return Credential{Value: v, Expiry: k.clk.Now().Add(time.Hour)}, nil
	}
}

func (k *keyFetches) waitStarted(t *testing.T) string {
	t.Helper()
	select {
	case key := <-k.started:
		return key
	case <-time.After(5 * time.Second):
		t.Fatal("fetch was not called")
		return ""
	}
}

func newTestGroup(clk *fakeClock, k *keyFetches, maxKeys int, idle time.Duration) *Group {
	o := testOptions(clk, nil, nil)
	o.Name = "idtoken"
	return NewGroup(GroupOptions{Template: o, NewFetch: k.newFetch, MaxKeys: maxKeys, IdleTTL: idle})
}

func groupGet(t *testing.T, g *Group, key, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cred, err := g.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if cred.Value != want {
		t.Fatalf("Get(%q) = %v, want %v", key, cred.Value, want)
	}
}

func statusKeys(g *Group) []string {
	var keys []string
	for _, s := range g.Status() {
		keys = append(keys, s.Key)
	}
	return keys
}

func TestGroupCachesPerKey(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 0, 0)
	groupGet(t, g, "aud-b", "aud-b#1")
	groupGet(t, g, "aud-a", "aud-a#1")
	groupGet(t, g, "aud-b", "aud-b#1")
	groupGet(t, g, "aud-a", "aud-a#1")
	if k.created["aud-a"] != 1 || k.created["aud-b"] != 1 {
		t.Fatalf("NewFetch calls = %v", k.created)
	}
	st := g.Status()
	if len(st) != 2 || st[0].Key != "aud-a" || st[1].Key != "aud-b" || st[0].Name != "idtoken" || !st[0].Valid || st[0].Refreshes != 1 {
		t.Fatalf("status = %+v", st)
	}
}

// Keys beyond MaxKeys are served uncached; cached keys are never evicted for them.
func TestGroupMaxKeys(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 2, time.Hour)
	groupGet(t, g, "a", "a#1")
	groupGet(t, g, "b", "b#1")
	for i := 1; i <= 3; i++ {
		groupGet(t, g, "c", fmt.Sprintf("c#%d", i))
	}
	groupGet(t, g, "a", "a#1")
	groupGet(t, g, "b", "b#1")
	if keys := statusKeys(g); fmt.Sprint(keys) != "[a b]" {
		t.Fatalf("cached keys = %v", keys)
	}
	for i := range 100 {
		key := fmt.Sprintf("flood-%d", i)
		groupGet(t, g, key, key+"#1")
	}
	if keys := statusKeys(g); len(keys) != 2 {
		t.Fatalf("group grew to %v", keys)
	}
}

func TestGroupUncachedSingleFlight(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 1, time.Hour)
	groupGet(t, g, "a", "a#1")
	k.waitStarted(t)
	k.block = make(chan struct{})

	const n = 10
	errs := make(chan error, n)
	ctx1, cancel1 := context.WithCancel(context.Background())
	go func() { _, err := g.Get(ctx1, "x"); errs <- err }()
	if key := k.waitStarted(t); key != "x" {
		t.Fatalf("started %q", key)
	}
	for range n - 1 {
		go func() {
			cred, err := g.Get(context.Background(), "x")
			if err == nil && cred.Value != "x#1" {
				err = fmt.Errorf("got %v", cred.Value)
			}
			errs <- err
		}()
	}
	cancel1() // the first caller gives up; the shared fetch continues for the others
	if err := <-errs; !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("cancelled caller: %v", err)
	}
	// While the first fetch is blocked, no caller may start another one for the same key.
	time.Sleep(2 * time.Millisecond)
	select {
	case key := <-k.started:
		t.Fatalf("second concurrent fetch started for %q", key)
	default:
	}
	close(k.block)
	for range n - 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	drainStarted(k)
}

func drainStarted(k *keyFetches) {
	for {
		select {
		case <-k.started:
		default:
			return
		}
	}
}

func TestGroupUncachedCancelledContext(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 1, time.Hour)
	groupGet(t, g, "a", "a#1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Get(ctx, "b"); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v", err)
	}
	if k.created["b"] != 0 {
		t.Fatal("fetch created for a cancelled caller")
	}
}

func TestGroupIdleKeysDropped(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 2, 10*time.Minute)
	groupGet(t, g, "a", "a#1")
	groupGet(t, g, "b", "b#1")
	clk.Advance(6 * time.Minute)
	groupGet(t, g, "b", "b#1") // keeps b alive
	clk.Advance(5 * time.Minute)
	if keys := statusKeys(g); fmt.Sprint(keys) != "[b]" {
		t.Fatalf("after idle TTL keys = %v, want [b]", keys)
	}
	groupGet(t, g, "c", "c#1") // fits in a's slot and is cached
	groupGet(t, g, "c", "c#1")
	// a comes back as a new member with a fresh fetch (it is no longer cached).
	clk.Advance(11 * time.Minute)
	groupGet(t, g, "a", "a#2")
	if k.created["a"] != 2 {
		t.Fatalf("NewFetch(a) calls = %d, want 2", k.created["a"])
	}
}

// A key that is read continuously is not dropped even though each read is far below the
// touch resolution apart in total.
func TestGroupTouchKeepsKeyAlive(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 1, 16*time.Second) // touch resolution 1s
	groupGet(t, g, "a", "a#1")
	for range 40 {
		clk.Advance(500 * time.Millisecond)
		groupGet(t, g, "a", "a#1")
	}
	if keys := statusKeys(g); fmt.Sprint(keys) != "[a]" {
		t.Fatalf("keys = %v", keys)
	}
	clk.Advance(17 * time.Second)
	if keys := statusKeys(g); len(keys) != 0 {
		t.Fatalf("idle key kept: %v", keys)
	}
}

func TestGroupRefreshAhead(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 0, 0)
	groupGet(t, g, "a", "a#1")
	k.waitStarted(t)
	clk.Advance(40 * time.Minute)
	groupGet(t, g, "a", "a#1") // starts the background refresh, returns at once
	k.waitStarted(t)
	deadline := time.Now().Add(5 * time.Second)
	for g.Status()[0].Refreshes != 2 {
		if time.Now().After(deadline) {
			t.Fatal("background refresh did not complete")
		}
		time.Sleep(100 * time.Microsecond)
	}
	groupGet(t, g, "a", "a#2")
}

func TestGroupInvalidOptions(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	k := newKeyFetches(clk)
	for name, o := range map[string]GroupOptions{
		"no NewFetch":      {Template: Options{Now: clk.Now}},
		"bad template":     {Template: Options{RefreshAt: 2}, NewFetch: k.newFetch},
		"negative MaxKeys": {NewFetch: k.newFetch, MaxKeys: -1},
		"negative IdleTTL": {NewFetch: k.newFetch, IdleTTL: -time.Second},
	} {
		g := NewGroup(o)
		if _, err := g.Get(context.Background(), "a"); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: Get = %v, want ErrInvalidOptions", name, err)
		}
	}
	// A nil FetchFunc for a key fails that key's fetches instead of panicking.
	g := NewGroup(GroupOptions{Template: Options{Now: clk.Now}, NewFetch: func(string) FetchFunc { return nil }})
	if _, err := g.Get(context.Background(), "a"); !errors.Is(err, ErrFetchPanic) {
		t.Errorf("nil FetchFunc: Get = %v", err)
	}
}

func TestGroupConcurrent(t *testing.T) {
	t.Parallel()
	var fetches atomic.Int64
	g := NewGroup(GroupOptions{
		Template: Options{Name: "race", MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		NewFetch: func(key string) FetchFunc {
			return func(context.Context) (Credential, error) {
				fetches.Add(1)
				return Credential{Value: key, Expiry: time.Now().Add(time.Hour)}, nil
			}
		},
		MaxKeys: 4,
		IdleTTL: time.Millisecond,
	})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				key := fmt.Sprintf("k%d", (w+i)%7)
				cred, err := g.Get(context.Background(), key)
				if err != nil || cred.Value != key {
					t.Errorf("Get(%s) = %v, %v", key, cred.Value, err)
					return
				}
				if i%50 == 0 {
					if n := len(g.Status()); n > 4 {
						t.Errorf("group holds %d keys", n)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestGroupGetCachedAllocs(t *testing.T) {
	clk := newFakeClock()
	k := newKeyFetches(clk)
	g := newTestGroup(clk, k, 0, 0)
	groupGet(t, g, "aud", "aud#1")
	ctx := context.Background()
	if a := testing.AllocsPerRun(1000, func() { _, _ = g.Get(ctx, "aud") }); a != 0 {
		t.Fatalf("Group.Get allocates %v per call", a)
	}
}
