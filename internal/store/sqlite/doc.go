// Package sqlite is the embedded store.Store backend: one SQLite database
// file (modernc.org/sqlite, pure Go, no cgo) inside keyless's data directory.
//
// Connections. Writes go through a single dedicated connection whose
// transactions begin IMMEDIATE, so writers are serialised by the pool and
// never hit a lock-upgrade deadlock; reads use a small separate pool of
// query_only connections which, thanks to WAL, never block the writer and are
// never blocked by it.
//
// Durability. The journal is WAL with synchronous=FULL. In WAL mode the
// default synchronous=NORMAL only fsyncs the log at checkpoints, so a commit
// acknowledged just before a power loss can vanish. keyless promises that an
// allowed exchange's audit event is durable before the token leaves the
// server, so every commit must fsync the WAL; package audit's group commit
// amortises that fsync over many events.
//
// Files. Open creates the parent directory 0700 and the database file 0600
// (it holds private signing keys; SQLite gives the -wal and -shm files the
// same mode) and refuses an existing file readable or writable by group or
// others.
//
// Schema. Migrations are numbered, applied in order, each in its own
// transaction, and recorded in schema_migrations; a database written by a
// newer keyless (a version this binary does not know) is refused rather than
// guessed at. Times are INTEGER microseconds since the Unix epoch, UTC.
package sqlite
