// Package awsreq verifies AWS SigV4-signed requests and Google's serialized
// GetCallerIdentity subject token (subject_token_type
// urn:ietf:params:aws:token-type:aws4_request).
//
// # SigV4
//
// ParseAuth reads the authorization of a SignedRequest, either from exactly
// one Authorization header or from presigned X-Amz-* query parameters (never
// both), and validates its shape: algorithm AWS4-HMAC-SHA256 only (SigV4a is
// refused), credential scope AKID/yyyymmdd/region/service/aws4_request,
// SignedHeaders lowercase, sorted, unique and containing host (and
// x-amz-date in header mode), a 64-digit lowercase hex signature, an
// X-Amz-Date whose day equals the scope date, a signed session token when one
// is sent, and every signed header present. CanonicalRequest and
// StringToSign follow the non-S3 rules (see CanonicalRequest); they
// reproduce all 76 aws-c-auth vectors and the original AWS suite. Verify
// recomputes the HMAC, compares it in constant time, then checks the clock.
// Requests dated only by the Date header are refused.
//
// # Subject token
//
// ParseSubjectToken accepts the three client encodings (Python quote, Go
// url.QueryEscape with \u0026 in JSON, Node encodeURIComponent with
// lowercase keys) and rejects malformed, duplicated or oversized input.
// GCIRequest.Check is the SSRF guard and binding check: only POST https
// to sts.amazonaws.com or sts.{region}.amazonaws.com (or a caller allowlist),
// the exact GetCallerIdentity query, a Host header equal to the URL host, an
// empty body, a fixed header allowlist, a credential scope for sts in the
// host's region, x-goog-cloud-target-resource equal to the provider audience
// and x-amz-date within the skew window. The binding header need not be
// signed (Python and Node do not sign it; Go does) unless
// Policy.RequireSignedBinding is set. Check cannot verify the HMAC: the
// server forwards the request to AWS, which does, and parses the answer with
// ParseGetCallerIdentityResponse.
//
// Every failure is an *Error with a Stage for audit; PublicMessage is the
// only text meant for callers. Error details never include secrets,
// signatures or session tokens.
package awsreq
