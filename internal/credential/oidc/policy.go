package oidc

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

// Policy defaults and bounds.
const (
	DefaultLeeway        = 60 * time.Second
	MaxLeeway            = 60 * time.Second
	DefaultMaxLifetime   = 48 * time.Hour
	DefaultMaxTokenBytes = 16 << 10
	maxMaxTokenBytes     = 1 << 20
)

// Policy is what one provider requires of its tokens. The zero value of each
// optional field selects its default.
type Policy struct {
	// Issuer must equal the token's iss exactly. Required.
	Issuer string
	// Audiences: the token's aud (a string or an array of strings) must
	// contain at least one of these, compared byte for byte. Required.
	Audiences []string
	// AllowedAlgs is the exact, case-sensitive alg allowlist; nil means
	// jose.DefaultAlgorithms(). Entries jose cannot verify are a policy error.
	AllowedAlgs []string
	// Leeway is the clock skew allowed on exp, nbf and iat: 0 means 60s;
	// negative or more than 60s is a policy error.
	Leeway time.Duration
	// MaxLifetime bounds exp - iat: 0 means 48h; a negative value disables
	// the check, and iat becomes optional. With a limit, iat is required
	// (Google's STS rule).
	MaxLifetime time.Duration
	// RequireKID refuses tokens without a kid header (Google requires one).
	RequireKID bool
	// MaxTokenBytes bounds the token after trimming: 0 means 16 KiB;
	// negative or above 1 MiB is a policy error.
	MaxTokenBytes int
}

// KeySource supplies verification keys. kid is the token's kid ("" when it
// has none) so that a remote cache can refresh on an unknown kid.
type KeySource interface {
	KeySet(ctx context.Context, kid string) (*jose.KeySet, error)
}

// StaticKeys is a KeySource over a fixed key set (inline jwksJson).
type StaticKeys struct{ Set *jose.KeySet }

// KeySet returns the fixed set; it fails if ctx is done or no set is configured.
func (s StaticKeys) KeySet(ctx context.Context, _ string) (*jose.KeySet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.Set == nil {
		return nil, errors.New("no static key set configured")
	}
	return s.Set, nil
}

// Validate reports whether p is usable. It is the check Verify applies
// first; configuration loading should call it to fail early.
func (p *Policy) Validate() error {
	_, err := p.withDefaults()
	return err
}

// withDefaults returns a copy of p with defaults applied, or a StagePolicy error.
func (p *Policy) withDefaults() (Policy, error) {
	bad := func(detail string) (Policy, error) { return Policy{}, fail(StagePolicy, detail, nil) }
	if p == nil {
		return bad("no policy")
	}
	q := *p
	if q.Issuer == "" {
		return bad("issuer is empty")
	}
	if len(q.Audiences) == 0 || slices.Contains(q.Audiences, "") {
		return bad("audiences are empty or contain an empty string")
	}
	if q.AllowedAlgs == nil {
		q.AllowedAlgs = jose.DefaultAlgorithms()
	}
	if len(q.AllowedAlgs) == 0 {
		return bad("no algorithm is allowed")
	}
	supported := jose.DefaultAlgorithms()
	for _, a := range q.AllowedAlgs {
		if !slices.Contains(supported, a) {
			return bad("allowed algorithm " + quote(a) + " is not supported")
		}
	}
	switch {
	case q.Leeway == 0:
		q.Leeway = DefaultLeeway
	case q.Leeway < 0 || q.Leeway > MaxLeeway:
		return bad("leeway must be between 0 and 60s")
	}
	if q.MaxLifetime == 0 {
		q.MaxLifetime = DefaultMaxLifetime
	}
	switch {
	case q.MaxTokenBytes == 0:
		q.MaxTokenBytes = DefaultMaxTokenBytes
	case q.MaxTokenBytes < 0 || q.MaxTokenBytes > maxMaxTokenBytes:
		return bad("max token bytes must be between 1 and 1 MiB")
	}
	return q, nil
}
