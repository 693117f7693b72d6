// Package oidc verifies external OIDC JWT credentials (GitHub Actions,
// GitLab, Kubernetes service-account tokens, Entra, any OIDC issuer) against
// one provider's Policy. It is the claims layer on top of package jose.
//
// # Model
//
// Verify runs a fixed pipeline and stops at the first failure:
//
//  1. policy: defaults applied, invalid policies refused (StagePolicy);
//  2. format: surrounding ASCII whitespace trimmed, then jose.ParseCompact
//     (size limit, strict compact JWS, refused headers) and, if required,
//     a kid header (StageFormat);
//  3. keys: KeySource.KeySet(ctx, kid), so a remote cache may refresh on an
//     unknown kid (StageKeyFetch);
//  4. signature: alg allowlist, key selection and verification (StageSignature);
//  5. claims, only now trusted: iss exact (StageIssuer); aud a string or an
//     array of strings containing an allowed audience, byte-for-byte
//     (StageAudience); exp required (StageExpired), nbf optional
//     (StageNotYetValid), iat required while a lifetime limit is set
//     (StageIssuedInFuture), exp - iat <= MaxLifetime (StageLifetime);
//     absent required claims are StageMissingClaim, wrongly typed ones
//     StageInvalidClaim.
//
// Verify-then-trust: no claim is read before the signature verifies; the
// issuer in particular is never chosen from the token. Leeway is at most 60s.
//
// # Errors
//
// Every failure is an *Error with a Stage. Error() is internal text for audit
// and explain (it may quote a claim value, truncated). PublicMessage() names
// only the stage and is the only text to show an unauthenticated caller.
package oidc
