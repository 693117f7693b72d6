package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/store"
)

func rec(id string, t time.Time, dialect, outcome string) store.AuditRecord {
	return store.AuditRecord{
		ID: id, Time: t, Dialect: dialect, Method: "token", Outcome: outcome, Reason: "r-" + id,
		Data: fmt.Appendf(nil, `{"v":1,"decision_id":%q}`, id),
	}
}

// corpus returns n records with many equal times (so the id tie-break
// matters), in a shuffled order.
func corpus(n int) []store.AuditRecord {
	dialects := []string{"google.sts", "aws.sts", "google.iamcredentials"}
	outcomes := []string{"allow", "deny", "error"}
	recs := make([]store.AuditRecord, n)
	for i := range recs {
		recs[i] = rec(fmt.Sprintf("id-%05d", n-i), at(i/3), dialects[i%3], outcomes[(i/2)%3])
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(n, func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs
}

// sorted returns recs in (Time, ID) order, filtered by keep.
func sorted(recs []store.AuditRecord, keep func(store.AuditRecord) bool) []store.AuditRecord {
	var out []store.AuditRecord
	for _, r := range recs {
		if keep == nil || keep(r) {
			out = append(out, r)
		}
	}
	for i := 1; i < len(out); i++ { // insertion sort: small inputs, no extra deps
		for j := i; j > 0 && less(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func less(a, b store.AuditRecord) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	return a.ID < b.ID
}

func ids(recs []store.AuditRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func mustAppend(t *testing.T, st store.Store, recs []store.AuditRecord) {
	t.Helper()
	if err := st.AppendAudit(t.Context(), recs); err != nil {
		t.Fatalf("AppendAudit(%d records): %v", len(recs), err)
	}
}

// all pages through every record matching q with the given page size.
func all(t *testing.T, st store.Store, q store.AuditQuery, page int) []store.AuditRecord {
	t.Helper()
	q.Limit = page
	var out []store.AuditRecord
	for range 10_000 {
		got, err := st.QueryAudit(t.Context(), q)
		if err != nil {
			t.Fatalf("QueryAudit(%+v): %v", q, err)
		}
		if len(got) > page {
			t.Fatalf("QueryAudit returned %d records, limit %d", len(got), page)
		}
		if len(out) > 0 && len(got) > 0 && !less(out[len(out)-1], got[0]) {
			t.Fatalf("page after %s starts at %s: the cursor did not advance", q.AfterID, got[0].ID)
		}
		out = append(out, got...)
		if len(got) < page {
			return out
		}
		q.AfterID = got[len(got)-1].ID
	}
	t.Fatal("pagination does not terminate")
	return nil
}

func (s *suite) auditTests() map[string]func(*testing.T) {
	return map[string]func(*testing.T){
		"AppendAndGet": func(t *testing.T) {
			st := s.fresh(t)
			r := rec("01J0000000000000000000000A", at(0).In(time.FixedZone("CET", 3600)), "google.sts", "allow")
			mustAppend(t, st, []store.AuditRecord{r})
			got, err := st.AuditByID(t.Context(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(r, got); d != "" {
				t.Errorf("AuditByID (-want +got):\n%s", d)
			}
			if _, err := st.AuditByID(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("AuditByID(unknown) err = %v, want ErrNotFound", err)
			}
		},
		"AppendEmpty": func(t *testing.T) {
			st := s.fresh(t)
			if err := st.AppendAudit(t.Context(), nil); err != nil {
				t.Fatalf("AppendAudit(nil) = %v", err)
			}
			if got, err := st.QueryAudit(t.Context(), store.AuditQuery{}); err != nil || len(got) != 0 {
				t.Fatalf("QueryAudit on empty store = %v, %v", got, err)
			}
		},
		"NilData": func(t *testing.T) {
			st := s.fresh(t)
			r := rec("x", at(0), "aws.sts", "deny")
			r.Data, r.Reason = nil, ""
			mustAppend(t, st, []store.AuditRecord{r})
			got, err := st.AuditByID(t.Context(), "x")
			if err != nil || len(got.Data) != 0 || got.Reason != "" {
				t.Fatalf("AuditByID = %+v, %v", got, err)
			}
		},
		"InvalidBatchWritesNothing": func(t *testing.T) {
			st := s.fresh(t)
			err := st.AppendAudit(t.Context(), []store.AuditRecord{rec("ok", at(0), "d", "allow"), rec("", at(1), "d", "allow")})
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("empty id: err = %v, want ErrInvalid", err)
			}
			if _, err := st.AuditByID(t.Context(), "ok"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("valid record of a refused batch was stored (err = %v)", err)
			}
		},
		"DuplicateIsAllOrNothing": func(t *testing.T) {
			st := s.fresh(t)
			mustAppend(t, st, []store.AuditRecord{rec("a", at(0), "d", "allow")})
			err := st.AppendAudit(t.Context(), []store.AuditRecord{
				rec("b", at(1), "d", "allow"), rec("a", at(2), "d", "deny"), rec("c", at(3), "d", "allow"),
			})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("duplicate of stored id: err = %v, want ErrConflict", err)
			}
			err = st.AppendAudit(t.Context(), []store.AuditRecord{rec("d", at(1), "d", "allow"), rec("d", at(2), "d", "deny")})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("duplicate within batch: err = %v, want ErrConflict", err)
			}
			got, _ := st.QueryAudit(t.Context(), store.AuditQuery{})
			if d := diff([]store.AuditRecord{rec("a", at(0), "d", "allow")}, got); d != "" {
				t.Errorf("failed batches left records behind (-want +got):\n%s", d)
			}
		},
		"CanceledContext": func(t *testing.T) {
			st := s.fresh(t)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := st.AppendAudit(ctx, []store.AuditRecord{rec("a", at(0), "d", "allow")}); err == nil {
				t.Fatal("AppendAudit with a canceled context succeeded")
			}
			if _, err := st.AuditByID(t.Context(), "a"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("record written despite the error (err = %v)", err)
			}
		},
		"OrderAndFilters": func(t *testing.T) {
			st := s.fresh(t)
			recs := corpus(90)
			mustAppend(t, st, recs[:40])
			mustAppend(t, st, recs[40:])
			cases := map[string]struct {
				q    store.AuditQuery
				keep func(store.AuditRecord) bool
			}{
				"all": {store.AuditQuery{}, nil},
				"since inclusive": {store.AuditQuery{Since: at(10)},
					func(r store.AuditRecord) bool { return !r.Time.Before(at(10)) }},
				"until exclusive": {store.AuditQuery{Until: at(10)},
					func(r store.AuditRecord) bool { return r.Time.Before(at(10)) }},
				"outcome": {store.AuditQuery{Outcome: "deny"},
					func(r store.AuditRecord) bool { return r.Outcome == "deny" }},
				"dialect": {store.AuditQuery{Dialect: "aws.sts"},
					func(r store.AuditRecord) bool { return r.Dialect == "aws.sts" }},
				"combined": {store.AuditQuery{Since: at(5), Until: at(25), Outcome: "allow", Dialect: "google.sts"},
					func(r store.AuditRecord) bool {
						return !r.Time.Before(at(5)) && r.Time.Before(at(25)) && r.Outcome == "allow" && r.Dialect == "google.sts"
					}},
				"no match": {store.AuditQuery{Outcome: "maybe"}, func(store.AuditRecord) bool { return false }},
			}
			for name, c := range cases {
				want := sorted(recs, c.keep)
				got, err := st.QueryAudit(t.Context(), c.q)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if d := diff(want, got); d != "" {
					t.Errorf("%s (-want +got):\n%s", name, d)
				}
				if paged := all(t, st, c.q, 4); diff(want, paged) != "" {
					t.Errorf("%s: paging by 4 differs (-want +got):\n%s", name, diff(want, paged))
				}
			}
		},
		"Limits": func(t *testing.T) {
			st := s.fresh(t)
			recs := corpus(store.MaxAuditLimit + 50)
			for i := 0; i < len(recs); i += 300 {
				mustAppend(t, st, recs[i:min(i+300, len(recs))])
			}
			want := sorted(recs, nil)
			for _, c := range []struct{ limit, n int }{
				{0, store.DefaultAuditLimit}, {1, 1}, {7, 7}, {store.MaxAuditLimit, store.MaxAuditLimit},
				{store.MaxAuditLimit + 1, store.MaxAuditLimit}, {1 << 30, store.MaxAuditLimit},
			} {
				got, err := st.QueryAudit(t.Context(), store.AuditQuery{Limit: c.limit})
				if err != nil {
					t.Fatalf("limit %d: %v", c.limit, err)
				}
				if !slices.Equal(ids(want[:c.n]), ids(got)) {
					t.Errorf("limit %d: got %d records, want the first %d", c.limit, len(got), c.n)
				}
			}
			if _, err := st.QueryAudit(t.Context(), store.AuditQuery{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("negative limit: err = %v, want ErrInvalid", err)
			}
		},
		"Pagination": func(t *testing.T) {
			st := s.fresh(t)
			recs := corpus(50)
			mustAppend(t, st, recs)
			want := sorted(recs, nil)
			for _, page := range []int{1, 7, 50, 51} {
				if d := diff(want, all(t, st, store.AuditQuery{}, page)); d != "" {
					t.Errorf("page size %d (-want +got):\n%s", page, d)
				}
			}
			// The cursor is exclusive and works on a tie in time.
			got, err := st.QueryAudit(t.Context(), store.AuditQuery{AfterID: want[3].ID, Limit: 2})
			if err != nil || diff(want[4:6], got) != "" {
				t.Errorf("after %s: got %v, %v; want %v", want[3].ID, got, err, want[4:6])
			}
			got, err = st.QueryAudit(t.Context(), store.AuditQuery{AfterID: want[len(want)-1].ID})
			if err != nil || len(got) != 0 {
				t.Errorf("after the last record: got %v, %v", got, err)
			}
			if _, err := st.QueryAudit(t.Context(), store.AuditQuery{AfterID: "unknown"}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown cursor: err = %v, want ErrNotFound", err)
			}
		},
		"ConcurrentAppend": func(t *testing.T) {
			st := s.fresh(t)
			const workers, batches, per = 16, 20, 5
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for b := range batches {
						recs := make([]store.AuditRecord, per)
						for i := range recs {
							id := fmt.Sprintf("w%02d-b%02d-%d", w, b, i)
							recs[i] = rec(id, at(b*per+i), "google.sts", "allow")
						}
						if err := st.AppendAudit(context.Background(), recs); err != nil {
							t.Errorf("worker %d batch %d: %v", w, b, err)
							return
						}
					}
				})
			}
			wg.Wait()
			got := all(t, st, store.AuditQuery{}, store.MaxAuditLimit)
			if len(got) != workers*batches*per {
				t.Fatalf("stored %d records, want %d", len(got), workers*batches*per)
			}
			for i := 1; i < len(got); i++ {
				if !less(got[i-1], got[i]) {
					t.Fatalf("records %d and %d out of order: %s@%v, %s@%v", i-1, i, got[i-1].ID, got[i-1].Time, got[i].ID, got[i].Time)
				}
			}
		},
		"DataNotShared": func(t *testing.T) {
			st := s.fresh(t)
			r := rec("a", at(0), "d", "allow")
			in := []store.AuditRecord{r}
			in[0].Data = append([]byte(nil), r.Data...)
			mustAppend(t, st, in)
			in[0].Data[0] = 'X'
			got, _ := st.AuditByID(t.Context(), "a")
			got.Data[1] = 'Y'
			again, _ := st.AuditByID(t.Context(), "a")
			if string(again.Data) != string(r.Data) {
				t.Fatalf("stored data changed through a caller's slice: %q", again.Data)
			}
		},
	}
}
