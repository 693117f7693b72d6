package jose

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (ErrTooLarge also wraps ErrMalformed), so callers use errors.Is.
var (
	// ErrMalformed: the token or key set is not well formed, or uses a
	// feature this package refuses (JSON serialization, crit, jku, ...).
	ErrMalformed = errors.New("jose: malformed")
	// ErrTooLarge: the input exceeds its size limit. It also matches ErrMalformed.
	ErrTooLarge = errors.New("jose: input too large")
	// ErrAlgorithm: the algorithm is not allowed, or does not fit the key.
	ErrAlgorithm = errors.New("jose: algorithm not allowed")
	// ErrUnknownKey: no usable key matches the token's kid.
	ErrUnknownKey = errors.New("jose: no matching key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jose: invalid signature")
)

// Error carries one sentinel (Kind) and an internal detail. Details are built
// from fixed strings only: they never contain token bytes, claim values,
// header values chosen by the sender, or key material.
type Error struct {
	Kind   error
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Detail
}

// Unwrap exposes the sentinel; ErrTooLarge additionally matches ErrMalformed.
func (e *Error) Unwrap() []error {
	if e.Kind == ErrTooLarge {
		return []error{ErrTooLarge, ErrMalformed}
	}
	return []error{e.Kind}
}

func malformed(detail string) error    { return &Error{Kind: ErrMalformed, Detail: detail} }
func algorithmErr(detail string) error { return &Error{Kind: ErrAlgorithm, Detail: detail} }
func signatureErr(detail string) error { return &Error{Kind: ErrSignature, Detail: detail} }
