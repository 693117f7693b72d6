package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
)

// RSA modulus bounds enforced by key policy and again at verification.
// 8192 bits bounds the cost of one verification.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

var b64 = base64.RawURLEncoding.Strict()

// Members that carry private or symmetric key material.
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// X.509 members: refused like Google's inline jwks_json does.
var x509Members = [...]string{"x5c", "x5t", "x5t#S256", "x5u"}

// parseJWK applies per-key policy to one decoded JWK. It returns the key, or
// a non-empty reason for dropping it. Reasons are fixed texts.
func parseJWK(m map[string]any) (Key, string) {
	var k Key
	if v, ok := m["kid"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return k, `"kid" is not a string`
		}
		if len(s) > maxKIDBytes {
			return k, `"kid" is too long`
		}
		k.KID = s
	}
	kty, ok := m["kty"].(string)
	if !ok {
		return k, `"kty" is missing or not a string`
	}
	if kty == "oct" {
		return k, "symmetric (oct) keys are never accepted"
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return k, "JWK carries private key material (member " + name + ")"
		}
	}
	for _, name := range x509Members {
		if _, ok := m[name]; ok {
			return k, "X.509 member " + name + " is not accepted"
		}
	}
	if v, ok := m["use"]; ok {
		if s, _ := v.(string); s != "sig" {
			return k, `"use" is present and not "sig"`
		}
	}
	if v, ok := m["key_ops"]; ok {
		if reason := checkKeyOps(v); reason != "" {
			return k, reason
		}
	}
	if v, ok := m["alg"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return k, `"alg" is not a string`
		}
		k.Alg = s
	}

	var reason string
	switch kty {
	case "RSA":
		k.Public, reason = parseRSA(m)
	case "EC":
		k.Public, reason = parseEC(m)
	case "OKP":
		k.Public, reason = parseOKP(m)
	default:
		return k, "unsupported kty"
	}
	if reason != "" {
		return k, reason
	}
	if k.Alg != "" && !keyFitsAlg(k.Alg, k.Public) {
		return k, `declared "alg" is unsupported or does not fit the key`
	}
	return k, ""
}

func checkKeyOps(v any) string {
	ops, ok := v.([]any)
	if !ok {
		return `"key_ops" is not an array`
	}
	verify := false
	for _, op := range ops {
		s, ok := op.(string)
		if !ok {
			return `"key_ops" has a non-string entry`
		}
		if s == "verify" {
			verify = true
		}
	}
	if !verify {
		return `"key_ops" is present without "verify"`
	}
	return ""
}

// b64Member decodes a required base64url member with canonical encoding.
func b64Member(m map[string]any, name string) ([]byte, string) {
	s, ok := m[name].(string)
	if !ok {
		return nil, `"` + name + `" is missing or not a string`
	}
	if s == "" {
		return nil, `"` + name + `" is empty`
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, `"` + name + `" is not canonical base64url`
	}
	return b, ""
}

func parseRSA(m map[string]any) (*rsa.PublicKey, string) {
	nb, reason := b64Member(m, "n")
	if reason != "" {
		return nil, reason
	}
	eb, reason := b64Member(m, "e")
	if reason != "" {
		return nil, reason
	}
	// One leading zero octet is tolerated in n (some issuers emit it).
	if len(nb) > maxRSABits/8+1 {
		return nil, "RSA modulus is larger than 8192 bits"
	}
	if len(eb) > 4 {
		return nil, "RSA exponent is out of range"
	}
	n := new(big.Int).SetBytes(nb)
	var e uint64
	for _, c := range eb {
		e = e<<8 | uint64(c)
	}
	switch {
	case n.BitLen() < minRSABits:
		return nil, "RSA modulus is smaller than 2048 bits"
	case n.BitLen() > maxRSABits:
		return nil, "RSA modulus is larger than 8192 bits"
	case n.Bit(0) == 0:
		return nil, "RSA modulus is even"
	case e < 3 || e > 1<<31-1 || e%2 == 0:
		return nil, "RSA exponent is out of range (must be odd, 3 <= e < 2^31)"
	case hasROCAFingerprint(n):
		return nil, "RSA modulus has the ROCA (CVE-2017-15361) fingerprint"
	}
	return &rsa.PublicKey{N: n, E: int(e)}, ""
}

func curveByName(crv string) elliptic.Curve {
	switch crv {
	case "P-256":
		return elliptic.P256()
	case "P-384":
		return elliptic.P384()
	case "P-521":
		return elliptic.P521()
	}
	return nil
}

func parseEC(m map[string]any) (*ecdsa.PublicKey, string) {
	crv, _ := m["crv"].(string)
	curve := curveByName(crv)
	if curve == nil {
		return nil, `unsupported or missing EC "crv"`
	}
	size := (curve.Params().BitSize + 7) / 8
	x, reason := b64Member(m, "x")
	if reason != "" {
		return nil, reason
	}
	y, reason := b64Member(m, "y")
	if reason != "" {
		return nil, reason
	}
	if len(x) != size || len(y) != size {
		return nil, "EC coordinate length does not match the curve size"
	}
	point := make([]byte, 0, 1+2*size)
	point = append(point, 4)
	point = append(point, x...)
	point = append(point, y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, "EC point is not on the curve"
	}
	return pub, ""
}

func parseOKP(m map[string]any) (ed25519.PublicKey, string) {
	if crv, _ := m["crv"].(string); crv != "Ed25519" {
		return nil, `unsupported or missing OKP "crv" (only Ed25519 signs)`
	}
	x, reason := b64Member(m, "x")
	if reason != "" {
		return nil, reason
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, "Ed25519 key length is not 32 bytes"
	}
	return ed25519.PublicKey(x), ""
}

// rocaPrimes are the small primes of the published ROCA fingerprint. A
// modulus produced by the vulnerable generator lies, modulo each of them, in
// the subgroup generated by 65537. A random modulus passes all tests with
// probability about 4e-9.
var rocaPrimes = [...]uint32{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53,
	59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139,
	149, 151, 157, 163, 167}

func hasROCAFingerprint(n *big.Int) bool {
	var r, p big.Int
	for _, prime := range rocaPrimes {
		p.SetUint64(uint64(prime))
		res := uint32(r.Mod(n, &p).Uint64())
		if !inSubgroupOf65537(res, prime) {
			return false
		}
	}
	return true
}

// inSubgroupOf65537 reports whether x is a power of 65537 modulo prime.
func inSubgroupOf65537(x, prime uint32) bool {
	g := 65537 % prime
	acc := uint32(1)
	for range prime {
		if acc == x {
			return true
		}
		acc = acc * g % prime
		if acc == 1 {
			break
		}
	}
	return false
}
