package jwks

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sentinel errors; a *FetchError wraps exactly one of them (plus the underlying cause where
// there is one), so callers and tests use errors.Is.
var (
	// ErrBlockedAddress: the target host or the address it resolved to is refused by the
	// address policy (loopback, private, link-local, CGNAT, …, or an ambiguous numeric host).
	ErrBlockedAddress = errors.New("jwks: address not allowed")
	// ErrInsecureURL: the URL is not https (and plain http was not permitted for it).
	ErrInsecureURL = errors.New("jwks: URL scheme not allowed")
	// ErrInvalidURL: the issuer, jwks_uri or a redirect target is not an acceptable URL.
	ErrInvalidURL = errors.New("jwks: invalid URL")
	// ErrTooLarge: the response body exceeded Options.MaxBodyBytes.
	ErrTooLarge = errors.New("jwks: response too large")
	// ErrIssuerMismatch: the discovery document's issuer differs from the configured issuer.
	ErrIssuerMismatch = errors.New("jwks: discovery issuer mismatch")
	// ErrRedirect: a redirect to another host or scheme, or too many redirects.
	ErrRedirect = errors.New("jwks: redirect not allowed")
	// ErrHTTPStatus: the response status was not 200.
	ErrHTTPStatus = errors.New("jwks: unexpected HTTP status")
	// ErrInvalidDocument: the discovery document or the JWKS could not be parsed.
	ErrInvalidDocument = errors.New("jwks: invalid document")
	// ErrTimeout: the fetch did not complete within Options.Timeout.
	ErrTimeout = errors.New("jwks: fetch timed out")
	// ErrUnavailable: the request failed otherwise (connection refused, TLS verification,
	// reset); the cause is wrapped.
	ErrUnavailable = errors.New("jwks: issuer unreachable")
)

// Stage names the step of a refresh that failed.
type Stage string

const (
	StageDiscovery Stage = "discovery"
	StageJWKS      Stage = "jwks"
)

// FetchError reports a failed discovery or JWKS fetch for one issuer. Detail is for
// operators (logs, audit, explain) and never contains more of a response body than a short
// sanitised excerpt; Public returns text that is safe to show an unauthenticated caller.
type FetchError struct {
	Issuer string
	Stage  Stage
	Detail string
	Err    error // wraps one of the sentinels above and, where there is one, the cause
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("jwks: issuer %q: %s: %s", e.Issuer, e.Stage, e.Detail)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Public is a short caller-safe description that names the stage but no URL or detail.
func (e *FetchError) Public() string {
	if e.Stage == StageDiscovery {
		return "the issuer's OpenID configuration could not be retrieved"
	}
	return "the issuer's signing keys could not be retrieved"
}

// newFetchError builds a FetchError whose Err matches sentinel and, if cause is non-nil,
// also cause (so context.DeadlineExceeded, *x509 errors and the like stay inspectable).
func newFetchError(issuer string, stage Stage, sentinel error, cause error, detail string) *FetchError {
	err := sentinel
	if cause != nil && !errors.Is(cause, sentinel) {
		err = fmt.Errorf("%w: %w", sentinel, cause)
	} else if cause != nil {
		err = cause
	}
	return &FetchError{Issuer: issuer, Stage: stage, Detail: detail, Err: err}
}

// maxExcerpt bounds how much of an error response body reaches Detail.
const maxExcerpt = 64

// excerpt returns at most maxExcerpt bytes of b as printable text: control characters and
// invalid UTF-8 become '.', and a truncation is marked with "…".
func excerpt(b []byte) string {
	var sb strings.Builder
	n := 0
	for len(b) > 0 && n < maxExcerpt {
		r, size := utf8.DecodeRune(b)
		if n+size > maxExcerpt {
			break
		}
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			sb.WriteByte('.')
		} else {
			sb.WriteRune(r)
		}
		b = b[size:]
		n += size
	}
	if len(b) > 0 {
		sb.WriteString("…")
	}
	return sb.String()
}
