// Package aws holds the AWS STS query-protocol wire format for keyless's AWS
// dialect: request decoding, AWS-style input validation, and the XML success and
// error documents that awscli, boto3, aws-sdk-go-v2 and aws-sdk-js-v3 parse.
//
// # Model
//
// STS speaks "awsQuery" only (shared/reference/aws-azure-protocol.md §1.1): the
// request is a flat list of name=value pairs, sent as a POST form body
// (application/x-www-form-urlencoded, any charset parameter other than UTF-8 is
// refused) or as a GET query string (presigned GetCallerIdentity). A POST may
// also carry parameters in its query string (the serialized request of the
// google-auth "aws" credential source does); both sources are merged and a name
// that appears twice anywhere is refused, so there is never a question of which
// value wins. No SDK version we captured sends the JSON protocol
// (application/x-amz-json-1.x, X-Amz-Target) to STS, and none is accepted here.
//
// ParseQuery turns the wire into a Request (Action and Version split out, the
// rest one value per name, unknown names kept). Per-action decoders such as
// ParseAssumeRoleWithWebIdentity apply the service model's constraints and
// report violations the way STS does: code ValidationError and the message
// "N validation error(s) detected: Value '…' at 'member' failed to satisfy
// constraint: …". The web identity token is sensitive and never appears in a
// message. keyless is stricter than STS in two places: PolicyArns members must be
// numbered 1..N without gaps, and a repeated parameter name is an error.
//
// The writers produce the exact documents real STS returns (namespace
// https://sts.amazonaws.com/doc/2011-06-15/, Content-Type text/xml, header
// x-amzn-RequestId, RequestId in the body; plus Cache-Control: no-store). Expiration is written as
// YYYY-MM-DDTHH:MM:SSZ in UTC, truncated to the second so it never claims a
// later expiry than the real one. The success writers refuse to emit a result
// that SDKs would misread (missing keys, zero Expiration, missing
// AssumedRoleUser ARN) and write an InternalFailure error instead.
//
// Errors are values of type Error carrying the AWS code, the public message, the
// HTTP status and whether the fault is the sender's. NewError fills status and
// fault from the table of codes STS uses. The package has no HTTP handlers and
// depends on no other keyless package.
package aws
