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
// # Forwarding
//
// Forwarder.Forward sends a checked GCIRequest to AWS STS so that AWS
// verifies the HMAC of credentials keyless did not issue. It re-applies the
// SSRF guard before any network use (POST https to an allowlisted host, the
// exact GetCallerIdentity query, empty body, header allowlist, one Host
// header equal to the URL host) and then sends the client's headers with
// their original spelling; it adds only an unsigned User-Agent. Its
// transport is built once (on first use) and reused: HTTPS only, TLS 1.2+,
// no proxy from the environment, no compression, no cookies, no redirects,
// and a dial guard that admits only allowlisted names on port 443 and (unless
// DialOverrides routes the name, as tests do) refuses loopback, link-local,
// multicast and unspecified addresses. The TLS server name is always the STS
// host. Answers are read up to MaxResponseBytes.
//
// A 200 answer is parsed by ParseGetCallerIdentityResponse. An AWS error
// answer becomes an *Error wrapping an *UpstreamError that carries the status
// and the AWS Code (its Message is one line, bounded, with the Authorization
// value, signature and session token redacted). The stage says whose fault
// it is: StageSignature for codes meaning the credential did not
// authenticate (InvalidClientTokenId, SignatureDoesNotMatch, ...),
// StageDate for ExpiredToken and the clock-window forms of
// SignatureDoesNotMatch, StageRejected for other client-side codes
// (AccessDenied, RegionDisabledException, ...), and StageUpstream for
// everything a retry may fix: 5xx, 429, throttling and Receiver faults,
// timeouts, connection and TLS failures. Only StageUpstream errors match
// errors.Is(err, ErrUpstreamUnavailable); callers answer those with a
// retryable "temporarily unavailable" and the others with invalid_grant.
// Redirects, unexpected statuses and malformed, compressed or oversized
// bodies are StageResponse.
//
// Every failure is an *Error with a Stage for audit; PublicMessage is the
// only text meant for callers. Error details never include secrets,
// signatures or session tokens.
package awsreq
