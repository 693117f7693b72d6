// Package jose verifies JSON Web Signatures in compact serialization and
// applies key policy to JSON Web Key Sets, for tokens issued by external
// identity providers. It is deliberately narrower than RFC 7515/7517: every
// option an attacker could steer is refused rather than interpreted.
//
// # Model
//
// Verification is two steps with nothing trusted in between:
//
//	tok, err := jose.ParseCompact(raw, limit) // shape, encoding, header policy
//	key, err := tok.Verify(keySet, allowedAlgs) // key selection + signature
//
// Only after Verify succeeds may tok.Claims be used for anything.
//
// # Token rules (ParseCompact)
//
//   - size limit checked first; then one allocation-free pass requires exactly
//     three non-empty base64url segments (so JSON serialization, JWE, detached
//     payloads, whitespace, padding and "+/" are refused before decoding);
//   - canonical base64url (unused bits zero);
//   - header and payload: JSON objects, valid UTF-8, no duplicate member names
//     at any depth, nesting at most 32;
//   - header: alg required; "none" (any case) and HS* refused; jwk, jku, x5u,
//     x5c (keys are never taken from a token), crit (no extension is
//     understood), b64, enc, zip and cty "JWT" (no nesting) refused.
//
// # Signature rules (Verify, VerifySignature)
//
// The alg allowlist is exact and case-sensitive, and limited to RS256/384/512,
// PS256/384/512, ES256/384/512 and EdDSA (Ed25519) whatever the caller passes.
// The key type (and curve) must fit alg, and a key that declares alg must
// declare exactly the token's alg. ECDSA signatures are raw r||s of exactly
// twice the curve byte size; PSS salt length must equal the hash length
// (RFC 7518 §3.5); RSA keys are 2048 to 8192 bits.
//
// # Key policy (ParseKeySet)
//
// A JWKS is bounded (MaxKeySetBytes, MaxKeySetKeys) and strict JSON. Keys are
// dropped, with a reason, when they: are symmetric (oct) or of unknown kty;
// carry private members (d, p, q, dp, dq, qi, oth, k); carry X.509 members
// (x5c, x5t, x5t#S256, x5u); declare use other than "sig" or key_ops without
// "verify"; declare an alg they cannot serve; are RSA below 2048 or above 8192
// bits, with an even modulus, e outside odd 3..2^31-1, or the ROCA
// fingerprint; are EC with an unsupported crv, coordinates not exactly the
// curve size, or a point off the curve; are OKP other than Ed25519 with a
// 32-byte x. Every key whose kid appears more than once in the document
// (counting dropped entries) is dropped too, so a duplicated kid never
// resolves to either key.
//
// Errors wrap the sentinels ErrMalformed, ErrTooLarge, ErrAlgorithm,
// ErrUnknownKey and ErrSignature. Their texts never contain token bytes,
// sender-chosen header values or key material.
package jose
