package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

// KeySource yields the verification keys of one issuer. kid is the token's key id, so a
// remote cache can refresh on an unknown kid.
type KeySource interface {
	KeySet(ctx context.Context, kid string) (*jose.KeySet, error)
}

// StaticKeys is a pinned key set (a provider's inline jwksJson).
type StaticKeys struct{ Set *jose.KeySet }

// KeySet implements KeySource.
func (s StaticKeys) KeySet(context.Context, string) (*jose.KeySet, error) { return s.Set, nil }

// Policy is what a provider accepts.
type Policy struct {
	Issuer        string        // exact match of iss
	Audiences     []string      // aud must contain one of these (exact string comparison)
	AllowedAlgs   []string      // default: jose.DefaultAlgorithms()
	Leeway        time.Duration // default and maximum 60 s
	MaxLifetime   time.Duration // exp − iat bound; default 48 h (Google's rule)
	RequireKID    bool          // Google requires a kid header
	MaxTokenBytes int           // default 16 KiB
}

// Stage names the check that failed.
type Stage string

// Stages, in the order they run.
const (
	StageFormat         Stage = "format"
	StageKeyFetch       Stage = "key_fetch"
	StageSignature      Stage = "signature"
	StageIssuer         Stage = "issuer"
	StageAudience       Stage = "audience"
	StageMissingClaim   Stage = "missing_claim"
	StageExpired        Stage = "expired"
	StageNotYetValid    Stage = "not_yet_valid"
	StageIssuedInFuture Stage = "issued_in_future"
	StageLifetime       Stage = "lifetime"
)

// Error is a verification failure. Error() is the internal reason (audit, explain);
// PublicMessage is safe for unauthenticated callers.
type Error struct {
	Stage  Stage
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Stage, e.Detail, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Stage, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// PublicMessage names the failed stage only: never claim values, key ids or issuers.
func (e *Error) PublicMessage() string {
	switch e.Stage {
	case StageFormat:
		return "the credential is not a well-formed JWT"
	case StageKeyFetch:
		return "the credential's issuer keys could not be obtained"
	case StageSignature:
		return "the credential's signature could not be verified"
	case StageIssuer:
		return "the credential's issuer is not the provider's issuer"
	case StageAudience:
		return "the credential's audience is not allowed by the provider"
	case StageMissingClaim:
		return "the credential lacks a required claim"
	case StageExpired:
		return "the credential has expired"
	case StageNotYetValid, StageIssuedInFuture:
		return "the credential is not valid yet"
	case StageLifetime:
		return "the credential's lifetime exceeds the allowed maximum"
	}
	return "the credential was rejected"
}

func fail(stage Stage, err error, format string, args ...any) *Error {
	return &Error{Stage: stage, Detail: fmt.Sprintf(format, args...), Err: err}
}

// Verified is a credential that passed every check.
type Verified struct {
	Claims           map[string]any
	Header           jose.Header
	Key              jose.Key
	Subject, Issuer  string
	Audience         []string
	IssuedAt, Expiry time.Time
	JTI              string
}

// Verify checks token against p: signature first (keys from keys), then claims. Nothing
// from the token is trusted before its signature verifies.
func Verify(ctx context.Context, p *Policy, keys KeySource, token string, now time.Time) (*Verified, error) {
	maxBytes := p.MaxTokenBytes
	if maxBytes <= 0 {
		maxBytes = 16 << 10
	}
	leeway := p.Leeway
	if leeway <= 0 || leeway > 60*time.Second {
		leeway = 60 * time.Second
	}
	maxLife := p.MaxLifetime
	if maxLife <= 0 {
		maxLife = 48 * time.Hour
	}
	algs := p.AllowedAlgs
	if len(algs) == 0 {
		algs = jose.DefaultAlgorithms()
	}
	token = strings.TrimSpace(token)
	tok, err := jose.ParseCompact(token, maxBytes)
	if err != nil {
		return nil, fail(StageFormat, err, "not a compact JWS")
	}
	if tok.Claims == nil {
		return nil, fail(StageFormat, nil, "payload is not a JSON object")
	}
	if p.RequireKID && tok.Header.KID == "" {
		return nil, fail(StageFormat, nil, "the header has no kid")
	}
	set, err := keys.KeySet(ctx, tok.Header.KID)
	if err != nil {
		return nil, fail(StageKeyFetch, err, "fetching the issuer's keys")
	}
	key, err := tok.Verify(set, algs)
	if err != nil {
		if errors.Is(err, jose.ErrUnknownKey) {
			return nil, fail(StageSignature, err, "no key with kid %q in the issuer's key set", tok.Header.KID)
		}
		return nil, fail(StageSignature, err, "%s signature", tok.Header.Alg)
	}

	// Verified: claims may now be read.
	c := tok.Claims
	v := &Verified{Claims: c, Header: tok.Header, Key: key}
	iss, ok := c["iss"].(string)
	if !ok {
		return nil, fail(StageMissingClaim, nil, "iss is missing or not a string")
	}
	if iss != p.Issuer {
		return nil, fail(StageIssuer, nil, "iss %q, the provider expects %q", iss, p.Issuer)
	}
	v.Issuer = iss
	switch a := c["aud"].(type) {
	case string:
		v.Audience = []string{a}
	case []any:
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return nil, fail(StageAudience, nil, "aud contains a non-string value")
			}
			v.Audience = append(v.Audience, s)
		}
	case nil:
		return nil, fail(StageMissingClaim, nil, "aud is missing")
	default:
		return nil, fail(StageAudience, nil, "aud is neither a string nor an array of strings")
	}
	if !audienceAllowed(v.Audience, p.Audiences) {
		return nil, fail(StageAudience, nil, "aud %q matches none of %q", v.Audience, p.Audiences)
	}
	exp, err := numericDate(c, "exp")
	if err != nil {
		return nil, err
	}
	if exp.IsZero() {
		return nil, fail(StageMissingClaim, nil, "exp is missing")
	}
	v.Expiry = exp
	if !now.Before(exp.Add(leeway)) {
		return nil, fail(StageExpired, nil, "expired at %s (now %s, leeway %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	}
	nbf, err := numericDate(c, "nbf")
	if err != nil {
		return nil, err
	}
	if !nbf.IsZero() && now.Add(leeway).Before(nbf) {
		return nil, fail(StageNotYetValid, nil, "nbf %s is in the future", nbf.UTC().Format(time.RFC3339))
	}
	iat, err := numericDate(c, "iat")
	if err != nil {
		return nil, err
	}
	if iat.IsZero() {
		return nil, fail(StageMissingClaim, nil, "iat is missing")
	}
	if now.Add(leeway).Before(iat) {
		return nil, fail(StageIssuedInFuture, nil, "iat %s is in the future", iat.UTC().Format(time.RFC3339))
	}
	if exp.Sub(iat) > maxLife {
		return nil, fail(StageLifetime, nil, "exp − iat is %s, the limit is %s", exp.Sub(iat), maxLife)
	}
	v.IssuedAt = iat
	if s, ok := c["sub"].(string); ok {
		v.Subject = s
	}
	if s, ok := c["jti"].(string); ok {
		v.JTI = s
	}
	return v, nil
}

func audienceAllowed(have, allowed []string) bool {
	for _, h := range have {
		for _, a := range allowed {
			if h == a {
				return true
			}
		}
	}
	return false
}

// numericDate reads a NumericDate claim. Integral JSON numbers only (go-oidc accepts
// fractions; we refuse them so one token has one meaning); absent gives the zero time.
func numericDate(c map[string]any, name string) (time.Time, error) {
	raw, ok := c[name]
	if !ok {
		return time.Time{}, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, fail(StageFormat, nil, "%s is not a number", name)
	}
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return time.Time{}, fail(StageFormat, nil, "%s is not an integral NumericDate", name)
		}
		i = int64(f)
	}
	if i < 0 || i > 1<<40 {
		return time.Time{}, fail(StageFormat, nil, "%s is out of range", name)
	}
	return time.Unix(i, 0), nil
}
