package awssession

import "errors"

// Sentinel errors; match with errors.Is.
var (
	// ErrMalformed: the access key id or token is not in the issued format,
	// or has an unsupported version.
	ErrMalformed = errors.New("malformed credentials")
	// ErrUnknownKey: the token was sealed under a key that is not configured.
	ErrUnknownKey = errors.New("unknown sealing key")
	// ErrTampered: the token failed authentication.
	ErrTampered = errors.New("token authentication failed")
	// ErrMismatch: the token is authentic but was issued with another access key id.
	ErrMismatch = errors.New("access key id does not match the session token")
	// ErrExpired: the session has expired.
	ErrExpired = errors.New("session expired")
	// ErrInvalidSession: Issue was given a session it refuses to seal.
	ErrInvalidSession = errors.New("invalid session")
)

// Error is the error type of this package. Error() is internal text for
// logs and audit; Detail never contains tokens, secrets or key material.
type Error struct {
	Kind   error // one of the sentinels
	Detail string
}

func (e *Error) Error() string {
	s := "awssession: " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *Error) Unwrap() error { return e.Kind }

// AWSCode returns the STS/IAM error code a caller should see:
// "ExpiredToken" for expired sessions, "InvalidClientTokenId" otherwise.
func (e *Error) AWSCode() string {
	if e.Kind == ErrExpired {
		return "ExpiredToken"
	}
	if e.Kind == ErrInvalidSession {
		return "InternalFailure"
	}
	return "InvalidClientTokenId"
}

// PublicMessage returns a fixed text safe to show to the caller.
func (e *Error) PublicMessage() string {
	switch e.Kind {
	case ErrExpired:
		return "The security token included in the request is expired"
	case ErrInvalidSession:
		return "The credentials could not be issued"
	}
	return "The security token included in the request is invalid"
}

func fail(kind error, detail string) *Error { return &Error{Kind: kind, Detail: detail} }
