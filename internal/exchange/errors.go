package exchange

import "fmt"

// Code is a protocol-neutral failure class; each dialect maps it to its wire error.
type Code int

const (
	CodeInvalidRequest       Code = iota + 1 // malformed request
	CodeUnsupportedGrantType                 // wrong grant_type
	CodeInvalidTarget                        // unknown/disabled provider
	CodeInvalidGrant                         // credential rejected (signature, time, iss, aud, format)
	CodeUnauthorizedClient                   // attribute condition false
	CodeUnauthenticated                      // missing/invalid bearer
	CodePermissionDenied                     // no binding grants the permission
	CodeInvalidArgument                      // bad argument to an IAM Credentials method
	CodeNotFound                             // unknown resource (where the protocol reveals it)
	CodeInternal                             // server fault (e.g. audit commit failed)
	CodeUnavailable                          // a dependency (an upstream STS) is temporarily unavailable; retryable
)

// Error is a denial or failure: Public is safe for unauthenticated callers and names only
// the stage; Detail is the full internal reason for audit and explain.
type Error struct {
	Code       Code
	Stage      string // machine reason code, e.g. "attribute_condition"
	Public     string
	Detail     string
	DecisionID string
	// Permission is set for PERMISSION_DENIED (the permission that was missing).
	Permission string
	// AWSCode is the STS error code the AWS dialect answers with (InvalidIdentityToken,
	// AccessDenied, ...); set by the AWS decisions, empty elsewhere.
	AWSCode string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Stage, e.Detail)
}

func deny(code Code, stage, public, detail string) *Error {
	return &Error{Code: code, Stage: stage, Public: public, Detail: detail}
}
