package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/store"
)

func openTest(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keyless.db")
	s, err := Open(t.Context(), p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, p
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	for _, c := range []struct {
		db         *sql.DB
		name, want string
	}{
		{s.writer, "journal_mode", "wal"},
		{s.writer, "synchronous", "2"}, // FULL: fsync the WAL on every commit
		{s.writer, "foreign_keys", "1"},
		{s.writer, "busy_timeout", "5000"},
		{s.reader, "journal_mode", "wal"},
		{s.reader, "query_only", "1"},
		{s.reader, "busy_timeout", "5000"},
		{s.reader, "foreign_keys", "1"},
	} {
		if got := pragma(t, c.db, c.name); got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.name, got, c.want)
		}
	}
	if s.writer.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", s.writer.Stats().MaxOpenConnections)
	}
	if _, err := s.reader.ExecContext(t.Context(), `INSERT INTO config_docs VALUES (1, x'00', 0)`); err == nil {
		t.Error("reader pool accepted a write")
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("X", 7200))
	s, _ := openTest(t, WithClock(func() time.Time { return now }))
	d, err := s.PutConfig(t.Context(), []byte("x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := now.Truncate(time.Microsecond).UTC()
	if d.UpdatedAt != want {
		t.Errorf("UpdatedAt = %v, want %v", d.UpdatedAt, want)
	}
	got, _ := s.LatestConfig(t.Context())
	if got.UpdatedAt != want {
		t.Errorf("stored UpdatedAt = %v, want %v", got.UpdatedAt, want)
	}
}

func TestTimesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{
		{}, time.Unix(0, 0), time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2025, 6, 1, 0, 0, 0, 123456000, time.FixedZone("Y", -3600)),
	} {
		got := fromDB(toDB(tm))
		if !got.Equal(tm) || got.Location() != time.UTC {
			t.Errorf("round trip of %v = %v", tm, got)
		}
	}
}

func TestMigrationsAppliedOnce(t *testing.T) {
	t.Parallel()
	s, p := openTest(t)
	s.Close()
	s2, err := Open(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var n, max int
	if err := s2.reader.QueryRowContext(t.Context(), `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations()) || max != len(migrations()) {
		t.Errorf("schema_migrations has %d rows up to %d, want %d", n, max, len(migrations()))
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	s, p := openTest(t)
	if _, err := s.writer.ExecContext(t.Context(), `INSERT INTO schema_migrations VALUES (?, 'from the future', 0)`, len(migrations())+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(t.Context(), p)
	if err == nil || !strings.Contains(err.Error(), "newer than this keyless supports") {
		t.Fatalf("Open of a newer schema: err = %v", err)
	}
}

func TestMigrateInOrderAndAtomic(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	now := time.Now
	base := len(migrations())
	migs := append(migrations(),
		migration{version: base + 1, name: "two", stmts: []string{`CREATE TABLE t2 (x INTEGER) STRICT`}},
		migration{version: base + 2, name: "three", stmts: []string{`INSERT INTO t2 VALUES (3)`, `CREATE TABLE t2 (y)`}},
	)
	err := migrate(ctx, s.writer, migs, now)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migration %d (three)", base+2)) {
		t.Fatalf("failing migration: err = %v", err)
	}
	var version, rows int
	if err := s.writer.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != base+1 {
		t.Errorf("schema version %d after failed migration %d, want %d", version, base+2, base+1)
	}
	if err := s.writer.QueryRowContext(ctx, `SELECT COUNT(*) FROM t2`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("failed migration left rows behind: %d, %v", rows, err)
	}
	migs[base+1].stmts = migs[base+1].stmts[:1]
	if err := migrate(ctx, s.writer, migs, now); err != nil {
		t.Fatalf("fixed migration: %v", err)
	}
	if err := s.writer.QueryRowContext(ctx, `SELECT COUNT(*) FROM t2`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("migration 3 applied %d times, %v", rows, err)
	}

	bad := []migration{{version: 2, name: "gap"}}
	if err := migrate(ctx, s.writer, bad, now); err == nil || !strings.Contains(err.Error(), "want 1") {
		t.Errorf("misnumbered migrations: err = %v", err)
	}
}

func TestIsUniqueViolation(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	_, err := s.writer.ExecContext(t.Context(), `INSERT INTO config_docs VALUES (1, x'00', 0), (1, x'00', 0)`)
	if !isUniqueViolation(err) {
		t.Errorf("duplicate primary key not recognised: %v", err)
	}
	_, err = s.writer.ExecContext(t.Context(), `INSERT INTO config_docs VALUES (2, NULL, 0)`)
	if err == nil || isUniqueViolation(err) {
		t.Errorf("NOT NULL violation classified as unique: %v", err)
	}
	if isUniqueViolation(errors.New("UNIQUE constraint failed")) {
		t.Error("a plain error classified as unique violation")
	}
}

func TestCloseDuringUse(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if err := s.AppendAudit(ctx, []store.AuditRecord{{ID: strconv.Itoa(i)}}); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	if err := <-done; !errors.Is(err, store.ErrClosed) {
		t.Fatalf("append racing Close: err = %v, want ErrClosed", err)
	}
}
