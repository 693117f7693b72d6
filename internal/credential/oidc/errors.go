package oidc

import "errors"

// Stage names the check that rejected a credential. Stages are stable
// strings: audit events and metrics use them as labels.
type Stage string

const (
	StageFormat         Stage = "format"           // not a well-formed compact JWS/JWT, or a refused header
	StageSignature      Stage = "signature"        // alg not allowed, no key for the kid, or bad signature
	StageKeyFetch       Stage = "key_fetch"        // the KeySource failed
	StageIssuer         Stage = "issuer"           // iss differs from the policy issuer
	StageAudience       Stage = "audience"         // no token audience is allowed
	StageExpired        Stage = "expired"          // now is past exp (+ leeway)
	StageNotYetValid    Stage = "not_yet_valid"    // now is before nbf (- leeway)
	StageIssuedInFuture Stage = "issued_in_future" // iat is after now (+ leeway)
	StageLifetime       Stage = "lifetime"         // exp - iat exceeds the policy maximum, or exp < iat
	StageMissingClaim   Stage = "missing_claim"    // a required claim is absent
	StageInvalidClaim   Stage = "invalid_claim"    // a registered claim has the wrong JSON type or range
	StagePolicy         Stage = "policy"           // the Policy itself is invalid (a configuration error)
)

// Error reports why a credential was rejected. Error() is internal text
// (stage and detail; the detail may quote a claim value, truncated) for audit
// and explain. PublicMessage is the only text meant for the caller.
type Error struct {
	Stage  Stage
	Detail string
	Err    error // underlying cause (jose sentinel, KeySource error), may be nil
}

func (e *Error) Error() string {
	s := "oidc: " + string(e.Stage)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// PublicMessage returns a fixed text naming only the failed stage. It never
// contains claim values, header values, key material or token bytes.
func (e *Error) PublicMessage() string {
	switch e.Stage {
	case StageFormat:
		return "the token is malformed"
	case StageSignature:
		return "the token signature could not be verified"
	case StageKeyFetch:
		return "the issuer's signing keys could not be retrieved"
	case StageIssuer:
		return "the token issuer is not accepted"
	case StageAudience:
		return "the token audience is not accepted"
	case StageExpired:
		return "the token has expired"
	case StageNotYetValid:
		return "the token is not yet valid"
	case StageIssuedInFuture:
		return "the token was issued in the future"
	case StageLifetime:
		return "the token lifetime exceeds the allowed maximum"
	case StageMissingClaim:
		return "the token is missing a required claim"
	case StageInvalidClaim:
		return "a token claim has an invalid type or value"
	case StagePolicy:
		return "the provider's token policy is invalid"
	}
	return "the token was rejected"
}

// StageOf returns the stage of an *Error in err's chain, or "" if there is none.
func StageOf(err error) Stage {
	var e *Error
	if errors.As(err, &e) {
		return e.Stage
	}
	return ""
}

func fail(stage Stage, detail string, err error) *Error {
	return &Error{Stage: stage, Detail: detail, Err: err}
}
