package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // register SHA-256 for crypto.Hash
	_ "crypto/sha512" // register SHA-384/512 for crypto.Hash
	"math/big"
	"slices"
)

// DefaultAlgs lists every algorithm this package can verify. It is a
// convenience value for callers; the package never reads it, so changing it
// cannot widen what is accepted. Prefer DefaultAlgorithms, which returns a copy.
var DefaultAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// DefaultAlgorithms returns a fresh copy of the supported algorithm list.
func DefaultAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}

// maxCandidates bounds the signature verifications one token can cost.
const maxCandidates = 4

type family int

const (
	famRSAPKCS1 family = iota + 1
	famRSAPSS
	famECDSA
	famEdDSA
)

type algSpec struct {
	fam   family
	hash  crypto.Hash    // zero for EdDSA
	curve elliptic.Curve // ECDSA only
}

// lookupAlg is the fixed table of supported algorithms (exact, case-sensitive).
func lookupAlg(alg string) (algSpec, bool) {
	switch alg {
	case "RS256":
		return algSpec{fam: famRSAPKCS1, hash: crypto.SHA256}, true
	case "RS384":
		return algSpec{fam: famRSAPKCS1, hash: crypto.SHA384}, true
	case "RS512":
		return algSpec{fam: famRSAPKCS1, hash: crypto.SHA512}, true
	case "PS256":
		return algSpec{fam: famRSAPSS, hash: crypto.SHA256}, true
	case "PS384":
		return algSpec{fam: famRSAPSS, hash: crypto.SHA384}, true
	case "PS512":
		return algSpec{fam: famRSAPSS, hash: crypto.SHA512}, true
	case "ES256":
		return algSpec{fam: famECDSA, hash: crypto.SHA256, curve: elliptic.P256()}, true
	case "ES384":
		return algSpec{fam: famECDSA, hash: crypto.SHA384, curve: elliptic.P384()}, true
	case "ES512":
		return algSpec{fam: famECDSA, hash: crypto.SHA512, curve: elliptic.P521()}, true
	case "EdDSA":
		return algSpec{fam: famEdDSA}, true
	}
	return algSpec{}, false
}

// keyFitsAlg reports whether alg is supported and pub has the key type (and,
// for ECDSA, the curve) that alg requires.
func keyFitsAlg(alg string, pub crypto.PublicKey) bool {
	spec, ok := lookupAlg(alg)
	return ok && keyFits(spec, pub)
}

func keyFits(spec algSpec, pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return (spec.fam == famRSAPKCS1 || spec.fam == famRSAPSS) && k != nil
	case *ecdsa.PublicKey:
		return spec.fam == famECDSA && k != nil && k.Curve == spec.curve
	case ed25519.PublicKey:
		return spec.fam == famEdDSA
	}
	return false
}

// VerifySignature checks sig over signingInput with pub under alg. It accepts
// only the algorithms of DefaultAlgs; ECDSA signatures must be raw r||s of
// exactly twice the curve's byte size, PSS salts must equal the hash length,
// and RSA keys must be 2048 to 8192 bits. It returns ErrAlgorithm when alg is
// unsupported or does not fit pub, and ErrSignature otherwise.
func VerifySignature(alg string, pub crypto.PublicKey, signingInput, sig []byte) error {
	spec, ok := lookupAlg(alg)
	if !ok {
		return algorithmErr("unsupported algorithm")
	}
	if !keyFits(spec, pub) {
		return algorithmErr("key type does not fit the algorithm")
	}
	var digest []byte
	if spec.hash != 0 {
		h := spec.hash.New()
		h.Write(signingInput)
		digest = h.Sum(nil)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < minRSABits || k.N.BitLen() > maxRSABits {
			return algorithmErr("RSA key size outside 2048..8192 bits")
		}
		var err error
		if spec.fam == famRSAPSS {
			err = rsa.VerifyPSS(k, spec.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: spec.hash})
		} else {
			err = rsa.VerifyPKCS1v15(k, spec.hash, digest, sig)
		}
		if err != nil {
			return signatureErr("RSA signature does not verify")
		}
		return nil
	case *ecdsa.PublicKey:
		if k.X == nil || k.Y == nil {
			return algorithmErr("incomplete EC key")
		}
		size := (spec.curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return signatureErr("ECDSA signature is not r||s of the curve size")
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return signatureErr("ECDSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return algorithmErr("Ed25519 key length is not 32 bytes")
		}
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k, signingInput, sig) {
			return signatureErr("Ed25519 signature does not verify")
		}
		return nil
	}
	return algorithmErr("unsupported key type")
}

// Verify checks the token's signature against ks and returns the key that
// verified it. The token's alg must appear in allowedAlgs (exact match; an
// empty list allows nothing) and be supported by this package.
//
// Key selection:
//   - token with a kid: the keys with exactly that kid (ErrUnknownKey if none);
//   - token without a kid: the keys without a kid; if there are none, all keys.
//
// Candidates are then filtered: the key type must fit alg and a key that
// declares an alg must declare exactly this one (ErrAlgorithm if nothing
// remains). At most 4 candidates are tried, bounding the work per token;
// more than that is refused with ErrUnknownKey (ambiguous key set).
func (t *Token) Verify(ks *KeySet, allowedAlgs []string) (Key, error) {
	if t == nil || t.Header.Alg == "" {
		return Key{}, malformed("no token")
	}
	alg := t.Header.Alg
	if !slices.Contains(allowedAlgs, alg) {
		return Key{}, algorithmErr("token alg is not in the allowlist")
	}
	spec, ok := lookupAlg(alg)
	if !ok {
		return Key{}, algorithmErr("token alg is not supported")
	}
	if ks == nil || len(ks.Keys) == 0 {
		return Key{}, &Error{Kind: ErrUnknownKey, Detail: "key set is empty"}
	}

	var pool []Key
	if t.Header.KID != "" {
		pool = ks.Find(t.Header.KID)
		if len(pool) == 0 {
			return Key{}, &Error{Kind: ErrUnknownKey, Detail: "no key has the token's kid"}
		}
	} else {
		pool = ks.Find("")
		if len(pool) == 0 {
			pool = ks.Keys
		}
	}
	candidates := make([]Key, 0, min(len(pool), maxCandidates))
	for _, k := range pool {
		if !keyFits(spec, k.Public) || (k.Alg != "" && k.Alg != alg) {
			continue
		}
		if len(candidates) == maxCandidates {
			return Key{}, &Error{Kind: ErrUnknownKey, Detail: "too many candidate keys for a token without a usable kid"}
		}
		candidates = append(candidates, k)
	}
	if len(candidates) == 0 {
		return Key{}, algorithmErr("no key with a fitting type and declared alg")
	}
	var last error
	for _, k := range candidates {
		if last = VerifySignature(alg, k.Public, t.signingInput, t.signature); last == nil {
			return k, nil
		}
	}
	return Key{}, last
}
