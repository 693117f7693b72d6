package iam

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Every error returned by this package wraps one or more of
// these, so callers branch with errors.Is and never on message text.
var (
	// ErrInvalidName: a resource name, audience or identifier is malformed.
	ErrInvalidName = errors.New("iam: invalid resource name")
	// ErrProjectNotNumber: a project id appears where Google requires the
	// project number (audiences, pool and provider names, principal URIs).
	ErrProjectNotNumber = errors.New("iam: project must be named by number")
	// ErrWorkforceUnsupported: the input names a workforce pool; keyless
	// implements workload identity pools only.
	ErrWorkforceUnsupported = errors.New("iam: workforce pools are not supported")
	// ErrInvalidMember: a policy member string is malformed.
	ErrInvalidMember = errors.New("iam: invalid member")
	// ErrUnknownRole: a binding names a role keyless does not know.
	ErrUnknownRole = errors.New("iam: unknown role")
	// ErrInvalidCondition: an IAM condition does not compile.
	ErrInvalidCondition = errors.New("iam: invalid condition")
	// ErrInvalidPolicy: a policy field other than a member, role or condition is invalid.
	ErrInvalidPolicy = errors.New("iam: invalid policy")
	// ErrInvalidEtag: an etag is not base64.
	ErrInvalidEtag = errors.New("iam: invalid etag")
)

// maxQuoted bounds how much of an offending input an error message repeats.
const maxQuoted = 200

// ParseError reports a malformed name, audience or member. Input is the
// offending string (possibly attacker-controlled: Error() quotes and truncates
// it; Public() omits it).
type ParseError struct {
	What   string // "audience", "provider name", "member", ...
	Input  string
	Reason string  // what is wrong, for operators
	errs   []error // sentinels this error matches
}

func newParseError(what, input, reason string, errs ...error) *ParseError {
	return &ParseError{What: what, Input: input, Reason: reason, errs: errs}
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid %s %s: %s", e.What, quoteTrunc(e.Input), e.Reason)
}

// Public is a short text safe to return to an unauthenticated caller: it
// never repeats the input.
func (e *ParseError) Public() string { return "invalid " + e.What }

// Unwrap makes errors.Is match the sentinels the error was built with.
func (e *ParseError) Unwrap() []error { return e.errs }

// PolicyError is one problem found by CompilePolicy, located by its field
// path, for example `bindings[1].members[0]`.
type PolicyError struct {
	Path string
	Err  error
}

func (e *PolicyError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *PolicyError) Unwrap() error { return e.Err }

// detailError carries an operator-facing message and a sentinel.
type detailError struct {
	msg string
	err error
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.err }

func errorf(sentinel error, format string, args ...any) error {
	return &detailError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

// quoteTrunc quotes s for messages, truncated to maxQuoted bytes.
func quoteTrunc(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuoted]) + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
