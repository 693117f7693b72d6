package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

// Verified is a credential that passed every check. Claims keep JSON
// numbers as json.Number.
type Verified struct {
	Claims    map[string]any
	Header    jose.Header
	Key       jose.Key
	Subject   string // "" when the token has no sub
	Issuer    string
	Audience  []string
	IssuedAt  time.Time // zero when the token has no iat
	NotBefore time.Time // zero when the token has no nbf
	Expiry    time.Time
	JTI       string // "" when the token has no jti
}

// maxNumericDate is 9999-12-31T23:59:59Z; later dates are refused.
const maxNumericDate = 253402300799

// asciiSpace is the whitespace trimmed around a token (clients often send a
// trailing newline).
const asciiSpace = " \t\n\v\f\r"

// Verify checks token against p at time now, fetching keys from keys.
//
// Order: trim surrounding ASCII whitespace; parse (size limit first); require
// a kid if the policy does; fetch keys for the token's kid; verify the
// signature; only then read claims: iss, aud, exp, nbf, iat, exp - iat, and
// the types of sub and jti. Nothing from the token is used before the
// signature verifies except the alg and kid needed to select a key.
//
// NumericDate claims (exp, nbf, iat) must be JSON numbers denoting an
// integer between 0 and 253402300799: 1700000000, 1700000000.0 and 1.7e9
// are accepted; 1700000000.5, "1700000000", true and negative numbers are
// refused (StageInvalidClaim).
func Verify(ctx context.Context, p *Policy, keys KeySource, token string, now time.Time) (*Verified, error) {
	pol, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, fail(StagePolicy, "no key source", nil)
	}
	token = strings.Trim(token, asciiSpace)
	tok, err := jose.ParseCompact(token, pol.MaxTokenBytes)
	if err != nil {
		return nil, fail(StageFormat, "token rejected by the JWS parser", err)
	}
	return verifyParsed(ctx, &pol, keys, tok, now)
}

// VerifyParsed is Verify for a token the caller already parsed with jose.ParseCompact
// (for instance to read its unverified iss and choose the provider), so it is not
// parsed twice. The caller must have parsed it with a size limit no larger than the
// policy's MaxTokenBytes.
func VerifyParsed(ctx context.Context, p *Policy, keys KeySource, tok *jose.Token, now time.Time) (*Verified, error) {
	pol, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, fail(StagePolicy, "no key source", nil)
	}
	if tok == nil {
		return nil, fail(StageFormat, "no token", nil)
	}
	return verifyParsed(ctx, &pol, keys, tok, now)
}

func verifyParsed(ctx context.Context, pol *Policy, keys KeySource, tok *jose.Token, now time.Time) (*Verified, error) {
	if pol.RequireKID && tok.Header.KID == "" {
		return nil, fail(StageFormat, "kid header is required", nil)
	}
	ks, err := keys.KeySet(ctx, tok.Header.KID)
	if err != nil {
		return nil, fail(StageKeyFetch, "key source failed", err)
	}
	if ks == nil {
		return nil, fail(StageKeyFetch, "key source returned no key set", nil)
	}
	key, err := tok.Verify(ks, pol.AllowedAlgs)
	if err != nil {
		detail := "signature verification failed"
		if errors.Is(err, jose.ErrUnknownKey) {
			detail = "no usable key for the token's kid"
		}
		return nil, fail(StageSignature, detail, err)
	}

	// Verified: the claims may now be read.
	v := &Verified{Claims: tok.Claims, Header: tok.Header, Key: key}
	if err := checkClaims(pol, tok.Claims, now, v); err != nil {
		return nil, err
	}
	return v, nil
}

func checkClaims(p *Policy, c map[string]any, now time.Time, v *Verified) error {
	// iss
	iss, present, ok := stringClaim(c, "iss")
	switch {
	case !present:
		return fail(StageMissingClaim, "iss is missing", nil)
	case !ok:
		return fail(StageInvalidClaim, "iss is not a string", nil)
	case iss != p.Issuer:
		return fail(StageIssuer, "iss "+quote(iss)+" is not "+quote(p.Issuer), nil)
	}
	v.Issuer = iss

	// aud
	aud, err := audienceClaim(c)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(p.Audiences, a) }) {
		return fail(StageAudience, "no token audience is allowed (token has "+strconv.Itoa(len(aud))+")", nil)
	}
	v.Audience = aud

	// exp, nbf, iat
	exp, present, err := dateClaim(c, "exp")
	if err != nil {
		return err
	}
	if !present {
		return fail(StageMissingClaim, "exp is missing", nil)
	}
	v.Expiry = exp
	nbf, hasNBF, err := dateClaim(c, "nbf")
	if err != nil {
		return err
	}
	iat, hasIAT, err := dateClaim(c, "iat")
	if err != nil {
		return err
	}
	if !now.Before(exp.Add(p.Leeway)) {
		return fail(StageExpired, "exp "+exp.UTC().Format(time.RFC3339)+" is past (leeway "+p.Leeway.String()+")", nil)
	}
	if hasNBF {
		if now.Add(p.Leeway).Before(nbf) {
			return fail(StageNotYetValid, "nbf "+nbf.UTC().Format(time.RFC3339)+" is in the future", nil)
		}
		v.NotBefore = nbf
	}
	if hasIAT {
		if iat.After(now.Add(p.Leeway)) {
			return fail(StageIssuedInFuture, "iat "+iat.UTC().Format(time.RFC3339)+" is in the future", nil)
		}
		v.IssuedAt = iat
	}
	if p.MaxLifetime > 0 {
		if !hasIAT {
			return fail(StageMissingClaim, "iat is missing (required when a maximum lifetime is set)", nil)
		}
		if exp.Before(iat) {
			return fail(StageLifetime, "exp is before iat", nil)
		}
		if life := exp.Sub(iat); life > p.MaxLifetime {
			return fail(StageLifetime, "lifetime "+life.String()+" exceeds "+p.MaxLifetime.String(), nil)
		}
	}

	// sub, jti: optional, but strings when present.
	for _, name := range []string{"sub", "jti"} {
		s, present, ok := stringClaim(c, name)
		if present && !ok {
			return fail(StageInvalidClaim, name+" is not a string", nil)
		}
		if name == "sub" {
			v.Subject = s
		} else {
			v.JTI = s
		}
	}
	return nil
}

func stringClaim(c map[string]any, name string) (s string, present, ok bool) {
	raw, present := c[name]
	if !present {
		return "", false, false
	}
	s, ok = raw.(string)
	return s, true, ok
}

// audienceClaim returns aud as a list: a string, or an array of strings.
func audienceClaim(c map[string]any) ([]string, error) {
	raw, present := c["aud"]
	if !present {
		return nil, fail(StageMissingClaim, "aud is missing", nil)
	}
	switch a := raw.(type) {
	case string:
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, el := range a {
			s, ok := el.(string)
			if !ok {
				return nil, fail(StageInvalidClaim, "aud array has a non-string entry", nil)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fail(StageInvalidClaim, "aud is neither a string nor an array of strings", nil)
}

// dateClaim reads a NumericDate claim (see Verify for the accepted forms).
func dateClaim(c map[string]any, name string) (time.Time, bool, error) {
	raw, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, true, fail(StageInvalidClaim, name+" is not a number", nil)
	}
	secs, ok := integralSeconds(string(n))
	if !ok {
		return time.Time{}, true, fail(StageInvalidClaim, name+" is not an integral date between 0 and year 9999", nil)
	}
	return time.Unix(secs, 0), true, nil
}

// integralSeconds parses a JSON number literal exactly (no float rounding)
// and accepts it only if it is an integer in [0, maxNumericDate].
func integralSeconds(lit string) (int64, bool) {
	if lit == "" || lit[0] == '-' {
		return 0, false
	}
	mant, exp := lit, int64(0)
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		var err error
		if exp, err = strconv.ParseInt(lit[i+1:], 10, 32); err != nil {
			return 0, false
		}
		mant = lit[:i]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	pointExp := exp - int64(len(frac))
	if digits == "" {
		return 0, true
	}
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		pointExp++
	}
	if pointExp < 0 || int64(len(digits))+pointExp > 12 {
		return 0, false // a fraction, or at least 10^12
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	for range pointExp {
		v *= 10
	}
	if v > maxNumericDate {
		return 0, false
	}
	return v, true
}

// quote renders a value for an internal error detail, truncated.
func quote(s string) string {
	const max = 128
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
