// Package store defines keyless's persistence contract: the entities the
// server keeps durably (signing keys, audit records, the declarative config
// document) and the Store interface every backend implements.
//
// The model is deliberately small. The request path never reads
// configuration from a Store: the server loads the latest ConfigDoc, compiles
// it into an immutable snapshot and swaps it in memory. A Store therefore
// serves three kinds of traffic:
//
//   - signing keys: few rows, read at start-up and on rotation;
//   - audit records: append-only, written in group-committed batches by
//     package audit, queried by `keyless audit` and `keyless explain`;
//   - config documents: a versioned history written with optimistic
//     concurrency (PutConfig fails with ErrConflict when another writer got
//     there first), so replicas sharing one database cannot lose updates.
//
// Backends report failures through the sentinel errors below (test them with
// errors.Is); the wrapped message carries the detail. Times are stored with
// microsecond precision (the precision PostgreSQL keeps) and returned in UTC.
//
// Package storetest holds the conformance suite every backend must pass.
package store
