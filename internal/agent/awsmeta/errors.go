package awsmeta

import (
	"errors"
	"fmt"
)

// ErrInvalidOptions is matched (errors.Is) by every *OptionsError.
var ErrInvalidOptions = errors.New("awsmeta: invalid options")

// OptionsError reports an option that NewIMDS or NewContainer refused.
type OptionsError struct {
	Field  string // option name, e.g. "RoleName"
	Reason string
	Err    error // underlying cause, if any
}

func (e *OptionsError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("awsmeta: option %s: %s: %v", e.Field, e.Reason, e.Err)
	}
	return fmt.Sprintf("awsmeta: option %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidOptions) hold.
func (e *OptionsError) Is(target error) bool { return target == ErrInvalidOptions }

func (e *OptionsError) Unwrap() error { return e.Err }

// Causes of a failed credential request. They are logged, never sent to clients.
var (
	// ErrCredentialsUnavailable: the credentials provider failed or returned an
	// incomplete value.
	ErrCredentialsUnavailable = errors.New("awsmeta: credentials unavailable")
	// ErrCredentialsExpired: the provider returned credentials that have expired.
	ErrCredentialsExpired = errors.New("awsmeta: credentials expired")
	// ErrAuthTokenUnavailable: the authorization token file cannot be read or
	// holds an unusable value.
	ErrAuthTokenUnavailable = errors.New("awsmeta: authorization token unavailable")
)
