// Package awssession issues and verifies keyless's AWS temporary credentials
// (the answer to sts:AssumeRoleWithWebIdentity) without any shared state
// between replicas.
//
// Model: Issue draws a random access key id ("ASIA" + 16 base32 characters)
// and a random 32-byte per-session seed, and seals the session description,
// the access key id and the seed with AES-256-GCM under the first configured
// Key. The sealed box is the session token:
//
//	token = base64url-nopad( version(1) | key id (uint32 BE) | nonce(12) | GCM ciphertext+tag )
//
// The version byte and key id are the GCM additional data; the access key
// id is inside the authenticated plaintext, so a token only opens together
// with the access key id it was issued with. The secret access key is
// HKDF-SHA256(seed, info bound to the access key id), 30 bytes rendered as
// 40 characters of standard base64 (the AWS alphabet [A-Za-z0-9+/]). It is
// never stored: Open recovers it from the token so a SigV4 verifier
// (internal/credential/awsreq.Verify) can check the request signature.
//
// Any replica configured with the same keys can Open any token. Rotation:
// the first key seals, every configured key opens; drop a key once every
// token it sealed has expired (at most MaxDuration).
//
// Expiry is strict: a token is valid while now < Expiry, with no leeway.
// There is no not-before check (replica clocks may lag the issuer).
// Times are kept with whole-second precision, in UTC.
//
// Revocation is not possible without a lookup: a leaked token is usable
// until it expires. Nonces are random (96 bits); rotate the sealing key
// well before 2^32 issuances.
//
// Errors are *Error values that match the sentinels (ErrMalformed,
// ErrUnknownKey, ErrTampered, ErrMismatch, ErrExpired, ErrInvalidSession)
// with errors.Is. Their texts never contain tokens, secrets or key material.
package awssession
