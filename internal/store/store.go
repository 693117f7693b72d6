package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with detail; callers test with errors.Is.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness or optimistic-concurrency rule was violated
	// (duplicate kid or decision id, stale config version, immutable field).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid: the caller passed an argument the contract forbids
	// (empty id, negative limit, ...). Nothing was written.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrClosed: the Store was used after Close.
	ErrClosed = errors.New("store: closed")
)

// Query limits for QueryAudit.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// SigningKey is one of keyless's own token-signing keys and its rotation
// schedule. A key signs from ActivateAt until RetireAt and is published in
// the JWKS until RemoveAt, so verifiers holding tokens it signed keep working
// through the overlap.
type SigningKey struct {
	KID string
	// Owner is "" for keyless's own issuer keys (published in its JWKS), or a service
	// account's unique id for that account's keys (signBlob, signJwt), which are
	// published only under the account. Immutable.
	Owner      string
	Alg        string // ES256 | RS256 | EdDSA
	PrivateKey []byte // PKCS#8 DER; secret: never log it
	CreatedAt  time.Time
	ActivateAt time.Time  // becomes the signing key at
	RetireAt   *time.Time // stops signing; still published until RemoveAt
	RemoveAt   *time.Time // removed from the JWKS at
}

// AuditRecord is one audit event as stored: the indexed columns plus the full
// JSON event (package audit owns its shape).
type AuditRecord struct {
	ID      string // decision id
	Time    time.Time
	Dialect string
	Method  string
	Outcome string
	Reason  string
	Data    []byte // the full JSON event
}

// AuditQuery selects audit records. Zero fields do not filter.
type AuditQuery struct {
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	Outcome string    // exact match
	Dialect string    // exact match
	Limit   int       // 0 means DefaultAuditLimit; larger than MaxAuditLimit is clamped; negative is ErrInvalid
	AfterID string    // cursor: only records after this one in (Time, ID) order; ErrNotFound if unknown
}

// ConfigDoc is one version of the declarative configuration document.
type ConfigDoc struct {
	Version   int64 // 1 for the first document, then +1 per PutConfig
	Doc       []byte
	UpdatedAt time.Time
}

// Store is the persistence contract. Implementations are safe for concurrent
// use. Byte slices passed in or returned are never retained or shared.
type Store interface {
	// SigningKeys returns every stored key ordered by (ActivateAt, KID).
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// PutSigningKey inserts a key; ErrConflict when the kid already exists.
	// KID, Alg and PrivateKey must be non-empty (ErrInvalid).
	PutSigningKey(ctx context.Context, k SigningKey) error
	// UpdateSigningKey replaces the schedule (ActivateAt, RetireAt, RemoveAt)
	// of the key k.KID; ErrNotFound when it does not exist. Alg, PrivateKey
	// and CreatedAt are immutable: each must be zero or equal to the stored
	// value, else ErrConflict.
	UpdateSigningKey(ctx context.Context, k SigningKey) error

	// AppendAudit stores recs in one transaction: all or nothing, durable
	// when it returns nil. A duplicate ID (stored or within recs) is
	// ErrConflict; an empty ID is ErrInvalid. An empty recs is a no-op.
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	// AuditByID returns one record; ErrNotFound when absent.
	AuditByID(ctx context.Context, id string) (AuditRecord, error)
	// QueryAudit returns matching records ordered by (Time, ID) ascending.
	QueryAudit(ctx context.Context, q AuditQuery) ([]AuditRecord, error)

	// LatestConfig returns the newest document; ErrNotFound when none.
	LatestConfig(ctx context.Context) (ConfigDoc, error)
	// PutConfig stores doc as version expectVersion+1 when the latest stored
	// version is expectVersion (0 when none), else ErrConflict. An empty doc
	// or a negative expectVersion is ErrInvalid.
	PutConfig(ctx context.Context, doc []byte, expectVersion int64) (ConfigDoc, error)

	// Close releases resources. Later calls return ErrClosed; Close itself
	// is idempotent.
	Close() error
}
