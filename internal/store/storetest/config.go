package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/keylessdev/keyless/internal/store"
)

func (s *suite) configTests() map[string]func(*testing.T) {
	return map[string]func(*testing.T){
		"Empty": func(t *testing.T) {
			if _, err := s.fresh(t).LatestConfig(t.Context()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("LatestConfig on empty store: err = %v, want ErrNotFound", err)
			}
		},
		"Versions": func(t *testing.T) {
			st := s.fresh(t)
			ctx := t.Context()
			if _, err := st.PutConfig(ctx, []byte("v1"), 1); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("first put expecting 1: err = %v, want ErrConflict", err)
			}
			d1, err := st.PutConfig(ctx, []byte("v1"), 0)
			if err != nil || d1.Version != 1 || string(d1.Doc) != "v1" || d1.UpdatedAt.IsZero() {
				t.Fatalf("first put = %+v, %v; want version 1", d1, err)
			}
			if _, err := st.PutConfig(ctx, []byte("stale"), 0); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("stale put: err = %v, want ErrConflict", err)
			}
			if _, err := st.PutConfig(ctx, []byte("future"), 5); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("future version: err = %v, want ErrConflict", err)
			}
			d2, err := st.PutConfig(ctx, []byte("v2"), 1)
			if err != nil || d2.Version != 2 {
				t.Fatalf("second put = %+v, %v; want version 2", d2, err)
			}
			got, err := st.LatestConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(d2, got); d != "" {
				t.Errorf("LatestConfig (-want +got):\n%s", d)
			}
		},
		"Invalid": func(t *testing.T) {
			st := s.fresh(t)
			if _, err := st.PutConfig(t.Context(), nil, 0); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("empty doc: err = %v, want ErrInvalid", err)
			}
			if _, err := st.PutConfig(t.Context(), []byte("x"), -1); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("negative version: err = %v, want ErrInvalid", err)
			}
			if _, err := st.LatestConfig(t.Context()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("invalid puts stored something: err = %v", err)
			}
		},
		"OptimisticConcurrency": func(t *testing.T) {
			st := s.fresh(t)
			if _, err := st.PutConfig(t.Context(), []byte("base"), 0); err != nil {
				t.Fatal(err)
			}
			const writers = 16
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				winners   []string
				conflicts int
			)
			for i := range writers {
				wg.Go(func() {
					doc := fmt.Sprintf("writer-%d", i)
					_, err := st.PutConfig(context.Background(), []byte(doc), 1)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						winners = append(winners, doc)
					case errors.Is(err, store.ErrConflict):
						conflicts++
					default:
						t.Errorf("writer %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			if len(winners) != 1 || conflicts != writers-1 {
				t.Fatalf("%d winners %v and %d conflicts; want exactly 1 winner", len(winners), winners, conflicts)
			}
			got, err := st.LatestConfig(t.Context())
			if err != nil || got.Version != 2 || string(got.Doc) != winners[0] {
				t.Fatalf("LatestConfig = %+v, %v; want version 2 with %q", got, err, winners[0])
			}
		},
		"DocNotShared": func(t *testing.T) {
			st := s.fresh(t)
			doc := []byte("original")
			d, err := st.PutConfig(t.Context(), doc, 0)
			if err != nil {
				t.Fatal(err)
			}
			doc[0], d.Doc[1] = 'X', 'Y'
			got, _ := st.LatestConfig(t.Context())
			if string(got.Doc) != "original" {
				t.Fatalf("stored doc changed through a caller's slice: %q", got.Doc)
			}
		},
	}
}

func (s *suite) lifecycleTests() map[string]func(*testing.T) {
	tests := map[string]func(*testing.T){
		"Closed": func(t *testing.T) {
			st := s.open(t)
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			ctx := t.Context()
			calls := map[string]error{
				"SigningKeys":      second(st.SigningKeys(ctx)),
				"PutSigningKey":    st.PutSigningKey(ctx, key("k", at(0))),
				"UpdateSigningKey": st.UpdateSigningKey(ctx, key("k", at(0))),
				"AppendAudit":      st.AppendAudit(ctx, []store.AuditRecord{rec("a", at(0), "d", "allow")}),
				"AuditByID":        second(st.AuditByID(ctx, "a")),
				"QueryAudit":       second(st.QueryAudit(ctx, store.AuditQuery{})),
				"LatestConfig":     second(st.LatestConfig(ctx)),
				"PutConfig":        second(st.PutConfig(ctx, []byte("x"), 0)),
			}
			for name, err := range calls {
				if !errors.Is(err, store.ErrClosed) {
					t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
				}
			}
		},
	}
	if s.reopen != nil {
		tests["Reopen"] = s.testReopen
	}
	return tests
}

func second[T any](_ T, err error) error { return err }

func (s *suite) testReopen(t *testing.T) {
	st := s.fresh(t)
	ctx := t.Context()
	k := key("k", at(0))
	k.RetireAt = ptr(at(7))
	if err := st.PutSigningKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	recs := corpus(30)
	mustAppend(t, st, recs)
	d, err := st.PutConfig(ctx, []byte("doc"), 0)
	if err != nil {
		t.Fatal(err)
	}

	st = s.reopen(t, st)
	t.Cleanup(func() { _ = st.Close() })

	keys, err := st.SigningKeys(ctx)
	if err != nil || diff([]store.SigningKey{k}, keys) != "" {
		t.Errorf("signing keys after reopen = %v, %v", keys, err)
	}
	got, err := st.QueryAudit(ctx, store.AuditQuery{})
	if err != nil || diff(sorted(recs, nil), got) != "" {
		t.Errorf("audit after reopen (-want +got):\n%s (err %v)", diff(sorted(recs, nil), got), err)
	}
	cfg, err := st.LatestConfig(ctx)
	if err != nil || diff(d, cfg) != "" {
		t.Errorf("config after reopen = %+v, %v; want %+v", cfg, err, d)
	}
	// Version numbering continues.
	if d2, err := st.PutConfig(ctx, []byte("doc2"), 1); err != nil || d2.Version != 2 {
		t.Errorf("put after reopen = %+v, %v", d2, err)
	}
}
