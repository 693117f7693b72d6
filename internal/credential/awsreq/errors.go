package awsreq

import "errors"

// Stage names the check that rejected a signed request or subject token.
// Stages are stable strings: audit events and metrics use them as labels.
type Stage string

const (
	StageFormat    Stage = "format"    // malformed token, JSON, query, headers or Authorization
	StageHost      Stage = "host"      // URL scheme/host/port/path not allowed (the SSRF guard)
	StageAction    Stage = "action"    // method or query is not exactly POST ?Action=GetCallerIdentity&Version=2011-06-15
	StageBinding   Stage = "binding"   // x-goog-cloud-target-resource missing or not the provider audience
	StageDate      Stage = "date"      // x-amz-date malformed, outside the skew window, or presigned URL expired
	StageSignature Stage = "signature" // scope, signed headers or the HMAC itself do not verify
	StageResponse  Stage = "response"  // the GetCallerIdentity answer is malformed
	StagePolicy    Stage = "policy"    // the caller's Policy is invalid (a configuration error)
	StageRejected  Stage = "rejected"  // AWS STS refused the forwarded request for another caller-side reason (e.g. AccessDenied)
	StageUpstream  Stage = "upstream"  // AWS STS could not be reached or answered with a retryable fault (see ErrUpstreamUnavailable)
)

// Error reports why a request was rejected. Error() is internal text (stage
// and detail) for audit; the detail never contains secrets, signatures or
// session tokens. PublicMessage is the only text meant for the caller.
type Error struct {
	Stage  Stage
	Detail string
	Err    error // underlying cause, may be nil
}

func (e *Error) Error() string {
	s := "awsreq: " + string(e.Stage)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// PublicMessage returns a fixed text naming only the failed stage.
func (e *Error) PublicMessage() string {
	switch e.Stage {
	case StageFormat:
		return "the AWS signed request is malformed"
	case StageHost:
		return "the AWS signed request targets a host that is not allowed"
	case StageAction:
		return "the AWS signed request is not a GetCallerIdentity call"
	case StageBinding:
		return "the AWS signed request is not bound to this audience"
	case StageDate:
		return "the AWS signed request is expired or not yet valid"
	case StageSignature:
		return "the AWS request signature could not be verified"
	case StageResponse:
		return "the AWS identity response is malformed"
	case StagePolicy:
		return "the provider's AWS policy is invalid"
	case StageRejected:
		return "AWS STS rejected the signed request"
	case StageUpstream:
		return "AWS STS is temporarily unavailable, retry later"
	}
	return "the AWS signed request was rejected"
}

// StageOf returns the stage of an *Error in err's chain, or "" if there is none.
func StageOf(err error) Stage {
	var e *Error
	if errors.As(err, &e) {
		return e.Stage
	}
	return ""
}

func fail(stage Stage, detail string) *Error {
	return &Error{Stage: stage, Detail: detail}
}

// truncate bounds attacker-controlled text quoted in error details.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
