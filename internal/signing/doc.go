// Package signing owns keyless's own signing keys: generation, persistence through the
// store, rotation with overlap, JWKS publication, and signing of the tokens keyless mints.
//
// Model: for each algorithm keyless signs with (ES256 by default, RS256 for consumers and
// IAM Credentials methods that insist on RSA, EdDSA optionally) there is exactly one
// active key. Rotation creates a new key that becomes active at once; the previous key
// is retired (it no longer signs) but stays published in the JWKS until every token it
// signed has expired (the overlap), after which it is removed from the JWKS.
//
// Private keys are stored PKCS#8 in the store (SQLite in the data directory, 0600). A
// KMS-backed Signer can replace this package behind the same methods.
package signing
