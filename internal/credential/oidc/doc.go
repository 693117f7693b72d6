// Package oidc verifies OIDC JWT credentials (GitHub Actions, Kubernetes projected
// tokens, any OIDC issuer) against a provider's Policy: strict compact JWS parsing and
// signature verification (package jose) with keys from a KeySource (a pinned jwksJson or
// the remote JWKS cache), then iss, aud, exp/nbf/iat with at most 60 s of leeway and
// Google's 48 h lifetime cap.
//
// Verify-then-trust: no claim is read before the signature verifies. Errors carry the
// failed Stage; Error() is the internal reason for audit and explain, and PublicMessage()
// is the only text callers see, naming the stage but no claim value.
package oidc
