package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/store/sqlite"
	"github.com/keylessdev/keyless/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openAt(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return s
}

// pathStore remembers where a store lives so the reopen hook can find it.
type pathStore struct {
	*sqlite.Store
	path string
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		p := filepath.Join(t.TempDir(), "data", "keyless.db")
		return pathStore{openAt(t, p), p}
	}, storetest.WithReopen(func(t *testing.T, old store.Store) store.Store {
		p := old.(pathStore).path
		if err := old.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		return pathStore{openAt(t, p), p}
	}))
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	p := filepath.Join(dir, "keyless.db")
	s := openAt(t, p)
	defer s.Close()
	if err := s.AppendAudit(t.Context(), []store.AuditRecord{{ID: "x"}}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir:               0o700 | os.ModeDir,
		p:                 0o600,
		p + "-wal":        0o600,
		p + "-shm":        0o600,
		filepath.Dir(dir): 0o700 | os.ModeDir,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
}

func TestOpenRefusesInsecureFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "keyless.db")
	s := openAt(t, p)
	s.Close()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(t.Context(), p)
	if !errors.Is(err, sqlite.ErrInsecureFile) {
		t.Fatalf("Open of a 0644 database: err = %v, want ErrInsecureFile", err)
	}
}

func TestOpenBadPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if _, err := sqlite.Open(t.Context(), p); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%q): err = %v, want ErrInvalid", p, err)
		}
	}
	if _, err := sqlite.Open(t.Context(), dir); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open(directory): err = %v, want ErrInvalid", err)
	}
	notADB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notADB, []byte("this is not a database, just some text padding it out"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlite.Open(t.Context(), notADB); err == nil {
		s.Close()
		t.Errorf("Open(text file) succeeded")
	}
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(blocker, "keyless.db")); err == nil {
		t.Errorf("Open under a regular file succeeded")
	}
}

// Characters SQLite URIs treat specially must reach the file system verbatim.
func TestOpenSpecialCharacters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "we?ird#dir %41", "db?mode=memory&x=%2f.db")
	s := openAt(t, p)
	if _, err := s.PutConfig(t.Context(), []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("database not at the literal path: %v", err)
	}
	s = openAt(t, p)
	defer s.Close()
	if d, err := s.LatestConfig(t.Context()); err != nil || string(d.Doc) != "x" {
		t.Fatalf("reopen at the literal path: %+v, %v", d, err)
	}
}

// Two Stores on one file (two processes, say) share it safely: writes wait
// on busy_timeout instead of failing, and each sees the other's commits.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "keyless.db")
	a, b := openAt(t, p), openAt(t, p)
	defer a.Close()
	defer b.Close()
	errc := make(chan error, 2)
	for i, s := range []*sqlite.Store{a, b} {
		go func() {
			for j := range 50 {
				id := string(rune('a'+i)) + "-" + string(rune('A'+j))
				if err := s.AppendAudit(context.Background(), []store.AuditRecord{{ID: id}}); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.QueryAudit(t.Context(), store.AuditQuery{Limit: 1000})
	if err != nil || len(got) != 100 {
		t.Fatalf("QueryAudit: %d records, %v; want 100", len(got), err)
	}
}
