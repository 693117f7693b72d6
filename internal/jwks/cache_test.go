package jwks

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHappyPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.iss.setJWKS(jwksOf("k1", "k2"))

	ks := f.mustKeySet(t, "k1")
	if got := kids(ks); !slices.Equal(got, []string{"k1", "k2"}) {
		t.Fatalf("kids = %v", got)
	}
	f.wantHits(t, 1, 1)
	// Cached: neither a known kid nor an empty kid fetches again.
	f.mustKeySet(t, "k2")
	f.mustKeySet(t, "")
	f.wantHits(t, 1, 1)

	f.clock.Advance(90 * time.Second)
	st := f.stats(t)
	if st.JWKSURI != f.iss.URL+"/jwks" || st.KeyCount != 2 || st.Dropped != 0 || st.Fetches != 1 ||
		st.Failures != 0 || st.LastError != "" || st.Age != 90*time.Second || st.ExpiresAt.Sub(st.FetchedAt) != DefaultTTL {
		t.Fatalf("stats = %+v", st)
	}
	if f.src.Issuer() != f.iss.URL {
		t.Fatalf("Issuer() = %q", f.src.Issuer())
	}
	// A second Source for the same issuer shares the entry.
	if _, err := f.cache.Source(f.iss.URL).KeySet(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	f.wantHits(t, 1, 1)
	if n := len(f.cache.Stats()); n != 1 {
		t.Fatalf("%d stats entries, want 1", n)
	}
}

func TestContentTypeNotEnforced(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(jwksOf("k1"))
	})
	if ks := f.mustKeySet(t, "k1"); !hasKey(ks, "k1") {
		t.Fatal("k1 missing")
	}
}

func TestIssuerPathAndTrailingSlash(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"/", "/tenant", "/tenant/"} {
		t.Run(suffix, func(t *testing.T) {
			t.Parallel()
			iss := newTestIssuer(t, true)
			issuer := iss.URL + suffix
			wantPath := strings.TrimSuffix("/"+strings.Trim(suffix, "/"), "/") + wellKnownPath
			var gotPath string
			h := func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.Path
				writeJSON(w, map[string]any{"issuer": issuer, "jwks_uri": iss.URL + "/jwks"})
			}
			if wantPath == wellKnownPath {
				iss.setDiscovery(h)
			} else {
				iss.extra.HandleFunc(wantPath, h)
			}
			c := New(Options{RootCAs: iss.pool(), AllowPrivateNetworks: true})
			if _, err := c.Source(issuer).KeySet(context.Background(), "k1"); err != nil {
				t.Fatal(err)
			}
			if gotPath != wantPath {
				t.Fatalf("discovery path %q, want %q", gotPath, wantPath)
			}
		})
	}
}

func TestTTLExpiryRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.TTL = 10 * time.Minute })
	f.mustKeySet(t, "k1")
	f.clock.Advance(10*time.Minute - time.Second)
	f.mustKeySet(t, "k1")
	f.wantHits(t, 1, 1)

	f.iss.setJWKS(jwksOf("k1", "k2"))
	f.clock.Advance(time.Second)
	if ks := f.mustKeySet(t, "k1"); !hasKey(ks, "k2") {
		t.Fatalf("expired set not refreshed: %v", kids(ks))
	}
	// Discovery is as old as TTL too, so it is repeated.
	f.wantHits(t, 2, 2)
	if st := f.stats(t); st.Fetches != 2 || st.KeyCount != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestCacheControl(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, cc, age string
		want          time.Duration
	}{
		{"max-age honoured", "public, max-age=120", "", 2 * time.Minute},
		{"case and spacing", "Public,  MAX-AGE=300 ,must-revalidate", "", 5 * time.Minute},
		{"quoted", `max-age="600"`, "", 10 * time.Minute},
		{"clamped up", "max-age=5", "", MinMaxAge},
		{"zero clamped up", "no-cache, max-age=0", "", MinMaxAge},
		{"clamped down", "max-age=9999999", "", MaxMaxAge},
		{"overflow clamped down", "max-age=99999999999999999999999", "", MaxMaxAge},
		{"age subtracted", "max-age=600", "120", 8 * time.Minute},
		{"age beyond max-age", "max-age=600", "6000", MinMaxAge},
		{"bad age ignored", "max-age=600", "-5", 10 * time.Minute},
		{"absent", "", "", DefaultTTL},
		{"no-store alone", "no-store", "", DefaultTTL},
		{"negative", "max-age=-1", "", DefaultTTL},
		{"garbage", "max-age=1e3", "", DefaultTTL},
		{"empty value", "max-age=", "", DefaultTTL},
		{"conflicting", "max-age=60, max-age=600", "", DefaultTTL},
		{"repeated equal", "max-age=600, max-age=600", "", 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.cc != "" {
				h.Set("Cache-Control", tc.cc)
			}
			if tc.age != "" {
				h.Set("Age", tc.age)
			}
			if got := freshness(h, DefaultTTL); got != tc.want {
				t.Fatalf("freshness(%q, Age %q) = %v, want %v", tc.cc, tc.age, got, tc.want)
			}
		})
	}

	// End to end: the header decides when the next fetch happens.
	t.Run("drives refresh", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.iss.setCacheControl("max-age=120")
		f.mustKeySet(t, "k1")
		f.clock.Advance(119 * time.Second)
		f.mustKeySet(t, "k1")
		f.wantHits(t, 1, 1)
		f.clock.Advance(time.Second)
		f.mustKeySet(t, "k1")
		f.wantHits(t, 1, 2) // discovery is younger than TTL: not repeated
		if st := f.stats(t); st.ExpiresAt.Sub(st.FetchedAt) != 2*time.Minute {
			t.Fatalf("expiry %v after fetch", st.ExpiresAt.Sub(st.FetchedAt))
		}
	})
}

func TestUnknownKidRefreshRateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.mustKeySet(t, "k1")

	// Rotation at the issuer; a token with the new kid arrives within MinRefreshInterval
	// of the last fetch: no fetch, the cached set is returned.
	f.iss.setJWKS(jwksOf("k1", "k2"))
	f.clock.Advance(DefaultMinRefresh - time.Second)
	ks := f.mustKeySet(t, "k2")
	if hasKey(ks, "k2") {
		t.Fatal("k2 found without a fetch")
	}
	f.wantHits(t, 1, 1)

	// Once the interval has passed, the unknown kid triggers one refresh.
	f.clock.Advance(time.Second)
	if ks := f.mustKeySet(t, "k2"); !hasKey(ks, "k2") {
		t.Fatalf("k2 not found after refresh: %v", kids(ks))
	}
	f.wantHits(t, 1, 2)

	// A flood of random kids right after is served from cache.
	for i := range 50 {
		f.clock.Advance(100 * time.Millisecond)
		ks := f.mustKeySet(t, "attacker-"+string(rune('a'+i%26)))
		if !hasKey(ks, "k1") || !hasKey(ks, "k2") {
			t.Fatal("cached set not returned")
		}
	}
	f.wantHits(t, 1, 2)
	f.clock.Advance(DefaultMinRefresh)
	f.mustKeySet(t, "still-unknown")
	f.wantHits(t, 1, 3)
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	f.iss.setJWKSHandler(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write(jwksOf("k1"))
	})

	const callers = 100
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			ks, err := f.src.KeySet(context.Background(), "k1")
			if err == nil && !hasKey(ks, "k1") {
				err = errors.New("k1 missing")
			}
			errs <- err
		})
	}
	<-arrived
	time.Sleep(50 * time.Millisecond) // let the other callers join the flight
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.wantHits(t, 1, 1)
}

func TestCallerContextCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	f.iss.setJWKSHandler(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write(jwksOf("k1"))
	})

	// A patient caller starts the flight; an impatient one joins and gives up.
	patient := make(chan error, 1)
	go func() {
		_, err := f.src.KeySet(context.Background(), "k1")
		patient <- err
	}()
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	impatient := make(chan error, 1)
	go func() {
		_, err := f.src.KeySet(ctx, "k1")
		impatient <- err
	}()
	cancel()
	if err := <-impatient; !errors.Is(err, context.Canceled) {
		t.Fatalf("impatient caller: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-patient; err != nil {
		t.Fatalf("patient caller: %v", err)
	}
	f.wantHits(t, 1, 1)
}

func TestStaleIfError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) {
		o.TTL = 10 * time.Minute
		o.MaxStale = time.Hour
	})
	f.mustKeySet(t, "k1")

	var failing sync.Mutex
	failing.Lock()
	down := true
	failing.Unlock()
	f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) {
		failing.Lock()
		defer failing.Unlock()
		if down {
			http.Error(w, "upstream on fire", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(jwksOf("k1", "k2"))
	})

	// Expired, refresh fails: cached keys are served and the failure is recorded.
	f.clock.Advance(10 * time.Minute)
	if ks := f.mustKeySet(t, "k1"); !hasKey(ks, "k1") {
		t.Fatal("stale keys not served")
	}
	f.wantHits(t, 2, 2)
	st := f.stats(t)
	if st.Failures != 1 || st.Fetches != 2 || !strings.Contains(st.LastError, "status 503") || st.KeyCount != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if !strings.Contains(f.logs.String(), "serving cached keys") {
		t.Fatalf("stale serving not logged: %s", f.logs)
	}

	// Negative cache: within MinRefreshInterval no new attempt is made.
	f.clock.Advance(DefaultMinRefresh - time.Second)
	f.mustKeySet(t, "k1")
	f.wantHits(t, 2, 2)
	// After it, one new attempt (rediscovery first, since the last attempt failed).
	f.clock.Advance(time.Second)
	f.mustKeySet(t, "k1")
	f.wantHits(t, 3, 3)

	// Just inside TTL+MaxStale the stale set is still served ...
	f.clock.Advance(time.Hour - DefaultMinRefresh - time.Second)
	if _, err := f.keySet(t, "k1"); err != nil {
		t.Fatalf("within stale bound: %v", err)
	}
	// ... and at the bound the failure is returned.
	f.clock.Advance(time.Second + DefaultMinRefresh)
	_, err := f.keySet(t, "k1")
	wantFetchError(t, err, StageJWKS, ErrHTTPStatus)
	// The negative cache returns the same error without a fetch.
	d, j := f.hits()
	_, err = f.keySet(t, "k1")
	wantFetchError(t, err, StageJWKS, ErrHTTPStatus)
	f.wantHits(t, d, j)

	// Recovery.
	failing.Lock()
	down = false
	failing.Unlock()
	f.clock.Advance(DefaultMinRefresh)
	if ks := f.mustKeySet(t, "k1"); !hasKey(ks, "k2") {
		t.Fatal("not recovered")
	}
	if st := f.stats(t); st.LastError != "" || st.KeyCount != 2 {
		t.Fatalf("stats after recovery = %+v", st)
	}
}

func TestUnknownKidRefreshFailureKeepsFreshSet(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.mustKeySet(t, "k1")
	f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	f.clock.Advance(DefaultMinRefresh)
	ks, err := f.keySet(t, "k9")
	if err != nil || !hasKey(ks, "k1") {
		t.Fatalf("KeySet = %v, %v; want the cached set", kids(ks), err)
	}
}

func TestFailureWithoutCacheIsNegativelyCachedBriefly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) })

	_, err := f.keySet(t, "k1")
	fe := wantFetchError(t, err, StageJWKS, ErrHTTPStatus)
	if fe.Public() == "" || strings.Contains(fe.Public(), f.iss.URL) {
		t.Fatalf("public text %q", fe.Public())
	}
	f.wantHits(t, 1, 1)
	f.clock.Advance(DefaultMinRefresh - time.Millisecond)
	_, err = f.keySet(t, "k1")
	wantFetchError(t, err, StageJWKS, ErrHTTPStatus)
	f.wantHits(t, 1, 1)

	f.iss.setJWKSHandler(nil)
	f.clock.Advance(time.Millisecond)
	f.mustKeySet(t, "k1")
	f.wantHits(t, 2, 2)
}

func TestRediscoveryAfterJWKSFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.mustKeySet(t, "k1")

	// The issuer moves its JWKS; the old URL now 404s.
	f.iss.extra.HandleFunc("/v2/keys", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jwksOf("k1", "k2")) })
	f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) })
	f.iss.serveDiscovery(map[string]any{"issuer": f.iss.URL, "jwks_uri": f.iss.URL + "/v2/keys"})

	f.clock.Advance(DefaultMinRefresh)
	f.mustKeySet(t, "k2") // fails against the old URL, cached set returned
	f.wantHits(t, 1, 2)
	f.clock.Advance(DefaultMinRefresh)
	if ks := f.mustKeySet(t, "k2"); !hasKey(ks, "k2") {
		t.Fatal("new jwks_uri not discovered")
	}
	f.wantHits(t, 2, 2)
	if st := f.stats(t); st.JWKSURI != f.iss.URL+"/v2/keys" {
		t.Fatalf("JWKSURI = %q", st.JWKSURI)
	}
}

func TestDroppedKeysLoggedAndCounted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const secret = "c2VjcmV0LXNoYXJlZC1rZXktbWF0ZXJpYWw"
	encKey := testJWK("enc1", 9)
	encKey["use"] = "enc"
	f.iss.setJWKS(mustJSON(map[string]any{"keys": []any{
		testJWK("k1", 1),
		map[string]any{"kty": "oct", "kid": "sym", "k": secret},
		encKey,
	}}))
	ks := f.mustKeySet(t, "k1")
	if got := kids(ks); !slices.Equal(got, []string{"k1"}) {
		t.Fatalf("kids = %v", got)
	}
	if st := f.stats(t); st.Dropped != 2 || st.KeyCount != 1 {
		t.Fatalf("stats = %+v", st)
	}
	logs := f.logs.String()
	for _, want := range []string{`"kid":"sym"`, `"kid":"enc1"`, "oct", `\"use\"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	for _, leak := range []string{secret, encKey["x"].(string)} {
		if strings.Contains(logs, leak) {
			t.Errorf("log contains key material %q", leak)
		}
	}
}

func TestNoUsableKeysWarns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.iss.setJWKS([]byte(`{"keys":[]}`))
	ks := f.mustKeySet(t, "k1")
	if len(ks.Keys) != 0 {
		t.Fatalf("keys = %v", kids(ks))
	}
	if !strings.Contains(f.logs.String(), "no usable keys") {
		t.Fatal("empty set not logged")
	}
}

func TestOptionsDefaults(t *testing.T) {
	t.Parallel()
	o := Options{}.withDefaults()
	if o.Timeout != 5*time.Second || o.MaxBodyBytes != 512<<10 || o.TTL != 15*time.Minute ||
		o.MinRefreshInterval != 30*time.Second || o.MaxStale != 24*time.Hour || o.Now == nil || o.Logger == nil {
		t.Fatalf("defaults = %+v", o)
	}
	if o := (Options{MaxStale: -1}).withDefaults(); o.MaxStale != 0 {
		t.Fatalf("negative MaxStale = %v, want 0 (disabled)", o.MaxStale)
	}
}

func TestMaxStaleDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.MaxStale = -1 })
	f.mustKeySet(t, "k1")
	f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	f.clock.Advance(DefaultTTL)
	_, err := f.keySet(t, "k1")
	wantFetchError(t, err, StageJWKS, ErrHTTPStatus)
}

// TestRefreshSkipsWhenStateMoved covers callers that decided to fetch just before another
// refresh completed: they get that refresh's outcome instead of fetching again.
func TestRefreshSkipsWhenStateMoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.mustKeySet(t, "k1")
	ctx := context.Background()

	ks, err := f.cache.refresh(ctx, f.src.e, 0) // generation 0: before the first fetch
	if err != nil || !hasKey(ks, "k1") {
		t.Fatalf("refresh = %v, %v", kids(ks), err)
	}
	f.wantHits(t, 1, 1)

	f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	if _, err := f.cache.refresh(ctx, f.src.e, 1); !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("current generation: %v", err)
	}
	f.wantHits(t, 1, 2)
	if _, err := f.cache.refresh(ctx, f.src.e, 1); !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("stale generation: %v", err)
	}
	f.wantHits(t, 1, 2)
}
