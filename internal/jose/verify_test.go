package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"math/big"
	"slices"
	"testing"
)

func TestVerifyEveryAlgorithm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg  string
		priv crypto.Signer
	}{
		{"RS256", testRSA2048()}, {"RS384", testRSA2048()}, {"RS512", testRSA3072()},
		{"PS256", testRSA2048()}, {"PS384", testRSA3072()}, {"PS512", testRSA2048()},
		{"ES256", testP256()}, {"ES384", testP384()}, {"ES512", testP521()},
		{"EdDSA", testEd25519()},
	}
	if len(tests) != len(DefaultAlgs) {
		t.Fatal("every default algorithm needs a case")
	}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			ks := mustKeySet(t, jwkOf(t, tc.priv.Public(), map[string]any{"kid": "k", "alg": tc.alg}))
			tok, err := ParseCompact(signJWT(t, tc.alg, tc.priv, map[string]any{"kid": "k"}, sampleClaims), 0)
			if err != nil {
				t.Fatal(err)
			}
			key, err := tok.Verify(ks, DefaultAlgs)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if key.KID != "k" {
				t.Errorf("key = %+v", key)
			}
			// Excluding the alg from the allowlist rejects it.
			others := slices.DeleteFunc(DefaultAlgorithms(), func(a string) bool { return a == tc.alg })
			_, err = tok.Verify(ks, others)
			wantKind(t, err, ErrAlgorithm)
			// A flipped signature bit fails.
			tok.signature[len(tok.signature)/2] ^= 1
			_, err = tok.Verify(ks, DefaultAlgs)
			wantKind(t, err, ErrSignature)
		})
	}
}

func TestVerifyKeySelection(t *testing.T) {
	t.Parallel()
	k1, k2 := testP256(), mustEC(elliptic.P256())
	jwk1 := jwkOf(t, &k1.PublicKey, map[string]any{"kid": "k1"})
	jwk2 := jwkOf(t, &k2.PublicKey, map[string]any{"kid": "k2"})
	noKID1 := jwkOf(t, &k1.PublicKey, nil)
	noKID2 := jwkOf(t, &k2.PublicKey, nil)
	withKID := func(kid string) map[string]any { return map[string]any{"kid": kid} }

	tests := []struct {
		name    string
		keys    []map[string]any
		hdr     map[string]any
		signer  *ecdsa.PrivateKey
		wantKID string
		kind    error
	}{
		{"kid selects", []map[string]any{jwk1, jwk2}, withKID("k2"), k2, "k2", nil},
		{"kid selects only that key", []map[string]any{jwk1, jwk2}, withKID("k2"), k1, "", ErrSignature},
		{"unknown kid", []map[string]any{jwk1, jwk2}, withKID("k3"), k1, "", ErrUnknownKey},
		{"kid token, kid-less keys", []map[string]any{noKID1}, withKID("k1"), k1, "", ErrUnknownKey},
		{"no kid uses kid-less keys", []map[string]any{jwk2, noKID1}, nil, k1, "", nil},
		{"no kid ignores kid'd keys when kid-less exist", []map[string]any{jwk2, noKID1}, nil, k2, "", ErrSignature},
		{"no kid tries all kid-less", []map[string]any{noKID1, noKID2}, nil, k2, "", nil},
		{"no kid falls back to all keys", []map[string]any{jwk1, jwk2}, nil, k2, "k2", nil},
		{"empty set", nil, withKID("k1"), k1, "", ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ks := mustKeySet(t, tc.keys...)
			tok, err := ParseCompact(signJWT(t, "ES256", tc.signer, tc.hdr, sampleClaims), 0)
			if err != nil {
				t.Fatal(err)
			}
			key, err := tok.Verify(ks, []string{"ES256"})
			if tc.kind != nil {
				wantKind(t, err, tc.kind)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if key.KID != tc.wantKID || !key.Public.(*ecdsa.PublicKey).Equal(&tc.signer.PublicKey) {
				t.Errorf("verified with %+v", key)
			}
		})
	}
}

func TestVerifyCandidateBound(t *testing.T) {
	t.Parallel()
	signer := testP256()
	var keys []map[string]any
	for range maxCandidates {
		keys = append(keys, jwkOf(t, &mustEC(elliptic.P256()).PublicKey, nil))
	}
	tok, err := ParseCompact(signJWT(t, "ES256", signer, nil, sampleClaims), 0)
	if err != nil {
		t.Fatal(err)
	}
	// maxCandidates wrong keys: all tried, signature error.
	_, err = tok.Verify(mustKeySet(t, keys...), []string{"ES256"})
	wantKind(t, err, ErrSignature)
	// One more, even if it is the right one: refused as ambiguous.
	keys = append(keys, jwkOf(t, &signer.PublicKey, nil))
	_, err = tok.Verify(mustKeySet(t, keys...), []string{"ES256"})
	wantKind(t, err, ErrUnknownKey)
	// Keys of another type do not count against the bound.
	mixed := append(keys[len(keys)-1:], jwkOf(t, &testRSA2048().PublicKey, nil), jwkOf(t, &testRSA3072().PublicKey, nil),
		jwkOf(t, testEd25519().Public(), nil), jwkOf(t, &testP384().PublicKey, nil), jwkOf(t, &testP521().PublicKey, nil))
	if _, err := tok.Verify(mustKeySet(t, mixed...), []string{"ES256"}); err != nil {
		t.Fatalf("mixed set: %v", err)
	}
}

func TestVerifyAllowlist(t *testing.T) {
	t.Parallel()
	priv := testP256()
	ks := mustKeySet(t, jwkOf(t, &priv.PublicKey, map[string]any{"kid": "k1"}))
	tok, err := ParseCompact(signJWT(t, "ES256", priv, map[string]any{"kid": "k1"}, sampleClaims), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, allowed := range [][]string{nil, {}, {"es256"}, {"ES256 "}, {"RS256", "EdDSA"}} {
		_, err := tok.Verify(ks, allowed)
		wantKind(t, err, ErrAlgorithm)
	}
	var nilTok *Token
	_, err = nilTok.Verify(ks, DefaultAlgs)
	wantKind(t, err, ErrMalformed)
	_, err = tok.Verify(nil, DefaultAlgs)
	wantKind(t, err, ErrUnknownKey)
	// An allowlist cannot enable an algorithm the package does not implement.
	odd := &Token{Header: Header{Alg: "ES256K"}, signingInput: tok.signingInput, signature: tok.signature}
	_, err = odd.Verify(ks, []string{"ES256K"})
	wantKind(t, err, ErrAlgorithm)
	// Mutating DefaultAlgs cannot widen acceptance either.
	if _, ok := lookupAlg("HS256"); ok {
		t.Fatal("HS256 in the algorithm table")
	}
}

func TestVerifySignatureGuards(t *testing.T) {
	t.Parallel()
	msg := []byte("input")
	small := mustRSA(1024)
	smallSig := rawSign(t, "RS256", small, msg)
	p256 := testP256()
	esSig := rawSign(t, "ES256", p256, msg)
	edSig := rawSign(t, "EdDSA", testEd25519(), msg)

	tests := []struct {
		name string
		alg  string
		pub  crypto.PublicKey
		sig  []byte
		kind error
	}{
		{"unknown alg", "RS1", &testRSA2048().PublicKey, smallSig, ErrAlgorithm},
		{"HS256", "HS256", []byte("secret"), smallSig, ErrAlgorithm},
		{"none", "none", nil, nil, ErrAlgorithm},
		{"nil key", "ES256", nil, esSig, ErrAlgorithm},
		{"nil rsa pointer", "RS256", (*rsa.PublicKey)(nil), smallSig, ErrAlgorithm},
		{"nil ecdsa pointer", "ES256", (*ecdsa.PublicKey)(nil), esSig, ErrAlgorithm},
		{"rsa without N", "RS256", &rsa.PublicKey{E: 65537}, smallSig, ErrAlgorithm},
		{"rsa 1024", "RS256", &small.PublicKey, smallSig, ErrAlgorithm},
		{"ecdsa without X", "ES256", &ecdsa.PublicKey{Curve: elliptic.P256()}, esSig, ErrAlgorithm},
		{"ES384 with P-256 key", "ES384", &p256.PublicKey, esSig, ErrAlgorithm},
		{"ES256 with RSA key", "ES256", &testRSA2048().PublicKey, esSig, ErrAlgorithm},
		{"RS256 with EC key", "RS256", &p256.PublicKey, esSig, ErrAlgorithm},
		{"EdDSA with EC key", "EdDSA", &p256.PublicKey, edSig, ErrAlgorithm},
		{"short ed25519 key", "EdDSA", ed25519.PublicKey(make([]byte, 31)), edSig, ErrAlgorithm},
		{"ed25519 pointer", "EdDSA", new(ed25519.PublicKey), edSig, ErrAlgorithm},
		{"ed25519 short sig", "EdDSA", testEd25519().Public(), edSig[:63], ErrSignature},
		{"ed25519 long sig", "EdDSA", testEd25519().Public(), append(edSig, 0), ErrSignature},
		{"unsupported key type", "ES256", big.NewInt(1), esSig, ErrAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantKind(t, VerifySignature(tc.alg, tc.pub, msg, tc.sig), tc.kind)
		})
	}
	if err := VerifySignature("ES256", &p256.PublicKey, msg, esSig); err != nil {
		t.Fatalf("control: %v", err)
	}
	if err := VerifySignature("EdDSA", testEd25519().Public(), msg, edSig); err != nil {
		t.Fatalf("control: %v", err)
	}
}
