package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keylessdev/keyless/internal/store"
)

// OpenFunc opens a new, empty store. The suite closes it.
type OpenFunc func(t *testing.T) store.Store

// ReopenFunc closes s and opens the same underlying data again.
type ReopenFunc func(t *testing.T, s store.Store) store.Store

// Option configures Run.
type Option func(*suite)

// WithReopen enables the persistence tests: data written before reopen must
// be readable after it.
func WithReopen(reopen ReopenFunc) Option {
	return func(s *suite) { s.reopen = reopen }
}

type suite struct {
	open   OpenFunc
	reopen ReopenFunc
}

// Run runs the conformance suite against the backend that open creates.
func Run(t *testing.T, open OpenFunc, opts ...Option) {
	s := &suite{open: open}
	for _, o := range opts {
		o(s)
	}
	groups := []struct {
		name  string
		tests map[string]func(*testing.T)
	}{
		{"SigningKeys", s.keyTests()},
		{"Audit", s.auditTests()},
		{"Config", s.configTests()},
		{"Lifecycle", s.lifecycleTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, name := range slices.Sorted(maps.Keys(g.tests)) {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					g.tests[name](t)
				})
			}
		})
	}
}

// fresh opens a store that is closed when the test ends.
func (s *suite) fresh(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// base is an arbitrary instant with a non-zero microsecond part.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func at(us int) time.Time { return base.Add(time.Duration(us) * time.Microsecond) }

func ptr[T any](v T) *T { return &v }

var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

func diff(want, got any) string { return cmp.Diff(want, got, cmpOpts) }
