package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/keylessdev/keyless/internal/store"
)

const (
	busyTimeout = 5 * time.Second
	readerConns = 4
)

// ErrInsecureFile is returned by Open when an existing database file is
// accessible by group or others.
var ErrInsecureFile = errors.New("sqlite: database file permissions too open")

// Store is the SQLite implementation of store.Store.
type Store struct {
	writer *sql.DB // exactly one connection; IMMEDIATE transactions
	reader *sql.DB // query_only pool
	now    func() time.Time
	closed atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock used for ConfigDoc.UpdatedAt (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open opens (creating if needed) the database at path and applies pending
// schema migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("%w: sqlite: path must be a file system path, got %q", store.ErrInvalid, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolve %q: %w", path, err)
	}
	if err := prepareFile(abs); err != nil {
		return nil, err
	}
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.writer, err = openDB(abs, writerParams())
	if err != nil {
		return nil, err
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if err := checkWAL(ctx, s.writer); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := migrate(ctx, s.writer, migrations(), s.now); err != nil {
		s.writer.Close()
		return nil, err
	}
	s.reader, err = openDB(abs, readerParams())
	if err != nil {
		s.writer.Close()
		return nil, err
	}
	s.reader.SetMaxOpenConns(readerConns)
	s.reader.SetMaxIdleConns(readerConns)
	if err := s.reader.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	return s, nil
}

// prepareFile creates the parent directory (0700) and the database file
// (0600) so SQLite never creates them with the process umask, and refuses an
// existing file that group or others can access.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlite: create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sqlite: create database file: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("sqlite: stat database file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: sqlite: %s is not a regular file", store.ErrInvalid, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o (it holds private signing keys); run chmod 600 on it", ErrInsecureFile, path, perm)
	}
	return nil
}

func writerParams() []string {
	return []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)", // see doc.go: every commit fsyncs the WAL
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}
}

func readerParams() []string {
	return []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	}
}

// dsn builds a SQLite URI for path. SQLite decodes %HH in URI paths and
// treats '?' and '#' as delimiters, so those three are escaped.
func dsn(path string, params []string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + esc + "?" + strings.Join(params, "&")
}

func openDB(path string, params []string) (*sql.DB, error) {
	c, err := msqlite.NewConnector(dsn(path, params))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return sql.OpenDB(c), nil
}

func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: journal_mode is %q, want wal", mode)
	}
	return nil
}

// Close closes both connection pools. It is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	errs = append(errs, s.writer.Close())
	return errors.Join(errs...)
}

func (s *Store) check() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// isUniqueViolation reports whether err is a PRIMARY KEY or UNIQUE violation.
func isUniqueViolation(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// wrap adds the operation to err; a failure caused by a concurrent Close is
// reported as store.ErrClosed.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: %s: %w (%v)", op, store.ErrClosed, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func toDB(t time.Time) int64 { return t.UnixMicro() }

func fromDB(us int64) time.Time { return time.UnixMicro(us).UTC() }

func toDBPtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toDB(*t), Valid: true}
}

func fromDBPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromDB(v.Int64)
	return &t
}

// tx runs fn in a writer transaction and commits it.
func (s *Store) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	if err := s.check(); err != nil {
		return err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(op, err)
	}
	return nil
}
