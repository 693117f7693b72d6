package exchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/awssession"
	"github.com/keylessdev/keyless/internal/credential/awsreq"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/signing"
)

// Auditor commits audit events; Record returns once the event is durable.
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Signer mints keyless's own tokens (implemented by *signing.Keyring).
// Keys have an owner: "" is keyless's issuer; a service account's unique id is that
// account (signBlob and signJwt), so an account's signature never verifies as a
// keyless token.
type Signer interface {
	Sign(ctx context.Context, alg string, typ signing.Typ, claims any) (token, kid string, err error)
	SignAs(ctx context.Context, owner, alg string, typ signing.Typ, claims any) (token, kid string, err error)
	SignBytesAs(ctx context.Context, owner, alg string, payload []byte) (sig []byte, kid string, err error)
	PublicKeys() *jose.KeySet
	OwnerJWKS(owner string) []byte
}

// Observer receives decision outcomes for metrics. Optional.
type Observer interface {
	Decision(dialect, method, provider, outcome, reason string, d time.Duration)
	Subject(provider, subject string)
}

// Options configure an Engine.
type Options struct {
	Signer  Signer
	Auditor Auditor
	// SigningAlg for access tokens and ID tokens: ES256 (default), RS256 or EdDSA.
	SigningAlg string
	// MaxTokenLifetime caps STS and generateAccessToken tokens (default 1h).
	MaxTokenLifetime time.Duration
	Now              func() time.Time
	Rand             io.Reader
	Observer         Observer
	// SessionKeys seals AWS session credentials (signing.Keyring). Required for the
	// AWS dialect and for verifying keyless-issued AWS credentials.
	SessionKeys SessionKeys
	// AWSForwarder verifies AWS credentials keyless did not issue by forwarding the
	// signed GetCallerIdentity to AWS STS. nil refuses such credentials.
	AWSForwarder AWSForwarder
	// AWSAllowedHosts decides which STS hosts a serialized GetCallerIdentity may name
	// (nil: sts.amazonaws.com and sts.REGION.amazonaws.com).
	AWSAllowedHosts func(host string) bool
}

// SessionKeys provides the symmetric keys that seal AWS session tokens, the active
// key first (implemented by *signing.Keyring).
type SessionKeys interface {
	EnsureSecrets(ctx context.Context, owner string) ([]signing.Secret, error)
}

// AWSForwarder sends a checked GetCallerIdentity to AWS STS and returns the identity
// it answers with (implemented by *awsreq.Forwarder).
type AWSForwarder interface {
	Forward(ctx context.Context, g *awsreq.GCIRequest) (*awsreq.CallerIdentity, error)
}

// Engine runs decisions against the current Snapshot.
type Engine struct {
	snap   atomic.Pointer[Snapshot]
	opts   Options
	sealer atomic.Pointer[sealerCache]
}

// sealerCache is the Sealer built from one generation of session keys.
type sealerCache struct {
	first *signing.Secret // identity of the key slice it was built from
	n     int
	s     *awssession.Sealer
}

// sessionSealer returns a Sealer for the current session keys, rebuilt when the
// keyring's keys change (rotation).
func (e *Engine) sessionSealer(ctx context.Context) (*awssession.Sealer, error) {
	if e.opts.SessionKeys == nil {
		return nil, errors.New("no session keys configured")
	}
	secs, err := e.opts.SessionKeys.EnsureSecrets(ctx, signing.OwnerAWSSession)
	if err != nil {
		return nil, err
	}
	if len(secs) == 0 {
		return nil, errors.New("no session keys")
	}
	if c := e.sealer.Load(); c != nil && c.first == &secs[0] && c.n == len(secs) {
		return c.s, nil
	}
	keys := make([]awssession.Key, 0, len(secs))
	for _, sec := range secs {
		id, err := strconv.ParseUint(sec.KID, 16, 32)
		if err != nil || len(sec.KID) != 8 {
			return nil, fmt.Errorf("session key id %q is not 8 hex digits", sec.KID)
		}
		keys = append(keys, awssession.Key{ID: uint32(id), Secret: sec.Value})
	}
	s, err := awssession.NewSealer(keys)
	if err != nil {
		return nil, err
	}
	e.sealer.Store(&sealerCache{first: &secs[0], n: len(secs), s: s})
	return s, nil
}

// New returns an Engine serving snap.
func New(snap *Snapshot, opts Options) *Engine {
	if opts.SigningAlg == "" {
		opts.SigningAlg = signing.ES256
	}
	if opts.MaxTokenLifetime == 0 {
		opts.MaxTokenLifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	e := &Engine{opts: opts}
	e.snap.Store(snap)
	return e
}

// Snapshot returns the configuration currently served.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// Swap atomically replaces the served configuration.
func (e *Engine) Swap(s *Snapshot) { e.snap.Store(s) }

// Issuer is the iss of every token keyless mints.
func (e *Engine) Issuer() string { return e.snap.Load().Issuer }

// Meta is what a dialect knows about the caller, for audit.
type Meta struct {
	Dialect, Method string
	CallerIP        string
	UserAgent       string
	// DryRun runs every check but mints nothing and writes no audit event (explain).
	DryRun bool
	// Secure is true when the request came over TLS (aws:SecureTransport).
	Secure bool
}

// finish audits a decision and stamps the decision id on the error. An allowed decision
// whose audit event cannot be committed is turned into an internal error: no token
// leaves the server unaudited.
func (e *Engine) finish(ctx context.Context, ev *audit.Event, tr *Trace, derr *Error, started time.Time, meta Meta) *Error {
	ev.Version = 1
	ev.Time = started.UTC()
	ev.Dialect, ev.Method = meta.Dialect, meta.Method
	ev.CallerIP, ev.UserAgent = meta.CallerIP, meta.UserAgent
	if ev.DecisionID == "" {
		ev.DecisionID = audit.NewDecisionID(started, e.opts.Rand)
	}
	if derr != nil {
		ev.Outcome, ev.Reason, ev.Detail = "deny", derr.Stage, derr.Detail
		if derr.Code == CodeInternal {
			ev.Outcome = "error"
		}
		derr.DecisionID = ev.DecisionID
	} else {
		ev.Outcome = "allow"
	}
	if tr != nil {
		if b, err := json.Marshal(tr); err == nil {
			ev.Trace = b
		}
	}
	if e.opts.Observer != nil && !meta.DryRun {
		e.opts.Observer.Decision(meta.Dialect, meta.Method, ev.Provider, ev.Outcome, ev.Reason, e.opts.Now().Sub(started))
	}
	if meta.DryRun || e.opts.Auditor == nil {
		return derr
	}
	if err := e.opts.Auditor.Record(ctx, *ev); err != nil {
		if derr != nil {
			return derr
		}
		return &Error{Code: CodeInternal, Stage: "audit", Public: "the decision could not be recorded",
			Detail: fmt.Sprintf("audit commit failed: %v", err), DecisionID: ev.DecisionID}
	}
	return derr
}

// derivedUniqueID gives a service account without a configured uniqueId a stable
// 21-digit id, as Google's are.
func derivedUniqueID(email string) string {
	h := sha256.Sum256([]byte("keyless-sa:" + email))
	n := binary.BigEndian.Uint64(h[:8]) % 10_000_000_000_000_000_000
	return fmt.Sprintf("10%019d", n)
}

func (e *Engine) newJTI() string {
	var b [16]byte
	_, _ = io.ReadFull(e.opts.Rand, b[:])
	return fmt.Sprintf("%x", b)
}

// Reject audits a request that failed before reaching the pipeline (wrong content type,
// oversized or malformed body), so every request to a token endpoint yields exactly one
// audit event.
func (e *Engine) Reject(ctx context.Context, meta Meta, derr *Error) *Error {
	tr := &Trace{}
	tr.fail("request", "", nil, "%s", derr.Detail)
	return e.finish(ctx, &audit.Event{}, tr, derr, e.opts.Now(), meta)
}

// NewRequestError builds an invalid_request-class error for dialect parsers.
func NewRequestError(stage, public, detail string) *Error {
	return deny(CodeInvalidRequest, stage, public, detail)
}

// ServiceAccountJWKS returns the JWKS of a service account's own keys (what its
// signBlob and signJwt results verify with), like Google's
// /service_accounts/v1/metadata/jwk/EMAIL. ok is false for unknown accounts.
func (e *Engine) ServiceAccountJWKS(emailOrID string) (jwks []byte, ok bool) {
	sa := e.snap.Load().ServiceAccount(emailOrID)
	if sa == nil || e.opts.Signer == nil {
		return nil, false
	}
	return e.opts.Signer.OwnerJWKS(sa.UniqueID), true
}
