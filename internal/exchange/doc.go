// Package exchange is keyless's protocol-agnostic decision pipeline. Every wire dialect
// (Google STS, IAM Credentials, and later AWS STS and Azure) is a thin adapter that parses
// its request into a typed value, calls the Engine, and renders the result or the *Error
// in its own protocol's shape. Decision logic exists only here.
//
// A decision runs these stages, each recorded in a Trace:
//
//	1 verify the credential (OIDC JWT: signature, issuer, audience, time)
//	2 map claims to attributes (compiled CEL attributeMapping)
//	3 attribute condition (compiled CEL)
//	4 authorize (IAM bindings of the target service account)
//	5 mint a token (signing keys) and commit the audit event before returning it
//
// The Engine reads an immutable, compiled Snapshot of configuration, swapped atomically
// when configuration changes; the request path never reads the database for config.
// `keyless explain` runs the same Engine in dry-run mode (no minting, no audit), so the
// explanation cannot drift from real decisions.
package exchange
