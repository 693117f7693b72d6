package storetest_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/store/sqlite"
	"github.com/keylessdev/keyless/internal/store/storetest"
)

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keyless.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Faulty without hooks is a transparent wrapper: it passes the suite.
func TestFaultyPassesConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return &storetest.Faulty{Store: openSQLite(t)}
	})
}

func TestFaultyInjects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	boom := errors.New("boom")
	inner := openSQLite(t)
	defer inner.Close()
	var seen int
	f := &storetest.Faulty{
		Store: inner,
		FailAppend: func(_ context.Context, recs []store.AuditRecord) error {
			seen += len(recs)
			if recs[0].ID == "fail" {
				return boom
			}
			return nil
		},
		FailRead:  func(context.Context) error { return boom },
		FailWrite: func(context.Context) error { return boom },
	}
	if err := f.AppendAudit(ctx, []store.AuditRecord{{ID: "ok"}, {ID: "ok2"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.AppendAudit(ctx, []store.AuditRecord{{ID: "fail"}}); !errors.Is(err, boom) {
		t.Fatalf("AppendAudit err = %v, want injected", err)
	}
	if err := f.AppendAudit(ctx, []store.AuditRecord{{ID: "ok"}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("inner errors pass through: err = %v", err)
	}
	if f.AppendCalls() != 3 || f.Appended() != 2 || seen != 4 {
		t.Errorf("AppendCalls %d, Appended %d, hook saw %d; want 3, 2, 4", f.AppendCalls(), f.Appended(), seen)
	}
	if _, err := inner.AuditByID(ctx, "fail"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed append reached the inner store (err %v)", err)
	}
	reads := map[string]error{
		"SigningKeys":  second(f.SigningKeys(ctx)),
		"AuditByID":    second(f.AuditByID(ctx, "ok")),
		"QueryAudit":   second(f.QueryAudit(ctx, store.AuditQuery{})),
		"LatestConfig": second(f.LatestConfig(ctx)),
	}
	writes := map[string]error{
		"PutSigningKey":    f.PutSigningKey(ctx, store.SigningKey{KID: "k", Alg: "ES256", PrivateKey: []byte{1}}),
		"UpdateSigningKey": f.UpdateSigningKey(ctx, store.SigningKey{KID: "k"}),
		"PutConfig":        second(f.PutConfig(ctx, []byte("x"), 0)),
	}
	for name, err := range reads {
		if !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want injected", name, err)
		}
	}
	for name, err := range writes {
		if !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want injected", name, err)
		}
	}
	if keys, _ := inner.SigningKeys(ctx); len(keys) != 0 {
		t.Error("a failed write reached the inner store")
	}
}

func second[T any](_ T, err error) error { return err }
