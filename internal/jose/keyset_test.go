package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
)

func TestParseKeySetAcceptsEachKeyType(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t,
		jwkOf(t, &testRSA2048().PublicKey, map[string]any{"kid": "rsa", "use": "sig", "alg": "RS256"}),
		jwkOf(t, &testRSA3072().PublicKey, map[string]any{"kid": "pss", "key_ops": []string{"verify"}, "alg": "PS384"}),
		jwkOf(t, &testP256().PublicKey, map[string]any{"kid": "p256", "alg": "ES256"}),
		jwkOf(t, &testP384().PublicKey, map[string]any{"kid": "p384"}),
		jwkOf(t, &testP521().PublicKey, map[string]any{"kid": "p521", "alg": "ES512"}),
		jwkOf(t, testEd25519().Public(), map[string]any{"kid": "ed", "alg": "EdDSA"}),
		jwkOf(t, &testP256().PublicKey, nil), // no kid
	)
	if got := len(ks.Keys); got != 7 {
		t.Fatalf("got %d keys, want 7", got)
	}
	if k := ks.Find("rsa"); len(k) != 1 || k[0].Alg != "RS256" || !k[0].Public.(*rsa.PublicKey).Equal(&testRSA2048().PublicKey) {
		t.Errorf("Find(rsa) = %+v", k)
	}
	if k := ks.Find("p384"); len(k) != 1 || !k[0].Public.(*ecdsa.PublicKey).Equal(&testP384().PublicKey) {
		t.Errorf("Find(p384) = %+v", k)
	}
	if k := ks.Find("ed"); len(k) != 1 || !k[0].Public.(ed25519.PublicKey).Equal(testEd25519().Public()) {
		t.Errorf("Find(ed) = %+v", k)
	}
	if k := ks.Find(""); len(k) != 1 || k[0].KID != "" {
		t.Errorf("Find(\"\") = %+v", k)
	}
	if k := ks.Find("absent"); k != nil {
		t.Errorf("Find(absent) = %+v", k)
	}
	var nilSet *KeySet
	if nilSet.Find("x") != nil {
		t.Error("nil KeySet Find returned keys")
	}
}

func TestParseKeySetEmpty(t *testing.T) {
	t.Parallel()
	ks, dropped, err := ParseKeySet([]byte(`{"keys":[]}`))
	if err != nil || len(ks.Keys) != 0 || len(dropped) != 0 {
		t.Fatalf("got %v %v %v", ks, dropped, err)
	}
	// Extra members such as SPIFFE's are allowed.
	if _, _, err := ParseKeySet([]byte(`{"spiffe_sequence":1,"spiffe_refresh_hint":300,"keys":[]}`)); err != nil {
		t.Fatal(err)
	}
}

func TestParseKeySetDocumentErrors(t *testing.T) {
	t.Parallel()
	many := `{"keys":[` + strings.Repeat(`{},`, MaxKeySetKeys) + `{}]}`
	tests := []struct {
		name string
		doc  string
		kind error
	}{
		{"empty", ``, ErrMalformed},
		{"not json", `keys`, ErrMalformed},
		{"array", `[{"keys":[]}]`, ErrMalformed},
		{"string", `"keys"`, ErrMalformed},
		{"null", `null`, ErrMalformed},
		{"no keys", `{}`, ErrMalformed},
		{"keys null", `{"keys":null}`, ErrMalformed},
		{"keys object", `{"keys":{}}`, ErrMalformed},
		{"keys string", `{"keys":"x"}`, ErrMalformed},
		{"duplicate keys member", `{"keys":[],"keys":[]}`, ErrMalformed},
		{"duplicate escaped member", `{"keys":[],"\u006beys":[]}`, ErrMalformed},
		{"duplicate in extra member", `{"keys":[],"x":{"a":1,"a":2}}`, ErrMalformed},
		{"trailing data", `{"keys":[]} {}`, ErrMalformed},
		{"truncated", `{"keys":[`, ErrMalformed},
		{"invalid utf8", "{\"keys\":[],\"x\":\"\xff\"}", ErrMalformed},
		{"too many keys", many, ErrTooLarge},
		{"too large", `{"keys":[],"pad":"` + strings.Repeat("a", MaxKeySetBytes) + `"}`, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ks, dropped, err := ParseKeySet([]byte(tc.doc))
			wantKind(t, err, tc.kind)
			if ks != nil || dropped != nil {
				t.Errorf("got a key set alongside an error")
			}
		})
	}
	// ErrTooLarge also matches ErrMalformed.
	_, _, err := ParseKeySet([]byte(many))
	wantKind(t, err, ErrMalformed)
}

// TestParseKeySetDrops has one case per key policy rule.
func TestParseKeySetDrops(t *testing.T) {
	t.Parallel()
	rsaPub := &testRSA2048().PublicKey
	ecPub := &testP256().PublicKey
	ecJWK := func(extra map[string]any) map[string]any { return jwkOf(t, ecPub, extra) }
	rsaJWK := func(extra map[string]any) map[string]any { return jwkOf(t, rsaPub, extra) }

	small := mustRSA(1024)
	ecPoint, _ := ecPub.Bytes()
	yOff := append([]byte(nil), ecPoint[33:]...)
	yOff[31] ^= 1
	x31 := b64u(ecPoint[2:33])
	x33 := b64u(append([]byte{0}, ecPoint[1:33]...))
	x65 := b64u(append(make([]byte, 33), ecPoint[1:33]...))
	evenN := new(big.Int).Add(rsaPub.N, big.NewInt(1))
	x25519 := jwkOf(t, testEd25519().Public(), map[string]any{"crv": "X25519"})

	tests := []struct {
		name   string
		jwk    any
		reason string // substring
	}{
		{"oct", map[string]any{"kty": "oct", "k": "AAAA", "kid": "s"}, "symmetric"},
		{"unknown kty", map[string]any{"kty": "DSA"}, "unsupported kty"},
		{"missing kty", map[string]any{"n": "AQAB"}, `"kty"`},
		{"kty not string", map[string]any{"kty": 1}, `"kty"`},
		{"private d (EC)", ecJWK(map[string]any{"d": "AAAA"}), "private"},
		{"private d (RSA)", rsaJWK(map[string]any{"d": "AAAA"}), "private"},
		{"private p", rsaJWK(map[string]any{"p": "AAAA"}), "private"},
		{"private q", rsaJWK(map[string]any{"q": "AAAA"}), "private"},
		{"private dp", rsaJWK(map[string]any{"dp": "AAAA"}), "private"},
		{"private dq", rsaJWK(map[string]any{"dq": "AAAA"}), "private"},
		{"private qi", rsaJWK(map[string]any{"qi": "AAAA"}), "private"},
		{"private oth", rsaJWK(map[string]any{"oth": []any{}}), "private"},
		{"private d (OKP)", jwkOf(t, testEd25519().Public(), map[string]any{"d": "AAAA"}), "private"},
		{"x5c", rsaJWK(map[string]any{"x5c": []string{"MIIB"}}), "x5c"},
		{"x5t", rsaJWK(map[string]any{"x5t": "abc"}), "x5t"},
		{"x5t#S256", rsaJWK(map[string]any{"x5t#S256": "abc"}), "x5t#S256"},
		{"x5u", rsaJWK(map[string]any{"x5u": "https://x"}), "x5u"},
		{"use enc", ecJWK(map[string]any{"use": "enc"}), `"use"`},
		{"use empty", ecJWK(map[string]any{"use": ""}), `"use"`},
		{"use SIG", ecJWK(map[string]any{"use": "SIG"}), `"use"`},
		{"use not string", ecJWK(map[string]any{"use": true}), `"use"`},
		{"key_ops encrypt", ecJWK(map[string]any{"key_ops": []string{"encrypt"}}), "verify"},
		{"key_ops empty", ecJWK(map[string]any{"key_ops": []string{}}), "verify"},
		{"key_ops string", ecJWK(map[string]any{"key_ops": "verify"}), "not an array"},
		{"key_ops non-string", ecJWK(map[string]any{"key_ops": []any{"verify", 1}}), "non-string"},
		{"alg not string", ecJWK(map[string]any{"alg": 256}), `"alg"`},
		{"alg ES521", ecJWK(map[string]any{"alg": "ES521"}), `"alg"`},
		{"alg ES224", ecJWK(map[string]any{"alg": "ES224"}), `"alg"`},
		{"alg ES384 on P-256", ecJWK(map[string]any{"alg": "ES384"}), `"alg"`},
		{"alg RS256 on EC", ecJWK(map[string]any{"alg": "RS256"}), `"alg"`},
		{"alg RSA1_5", rsaJWK(map[string]any{"alg": "RSA1_5"}), `"alg"`},
		{"alg HS256 on RSA", rsaJWK(map[string]any{"alg": "HS256"}), `"alg"`},
		{"alg none", rsaJWK(map[string]any{"alg": "none"}), `"alg"`},
		{"alg ES256 on Ed25519", jwkOf(t, testEd25519().Public(), map[string]any{"alg": "ES256"}), `"alg"`},
		{"kid not string", ecJWK(map[string]any{"kid": 7}), `"kid"`},
		{"kid too long", ecJWK(map[string]any{"kid": strings.Repeat("k", 257)}), `"kid"`},
		{"RSA 1024", jwkOf(t, &small.PublicKey, nil), "smaller than 2048"},
		{"RSA e=1", rsaJWK(map[string]any{"e": "AQ"}), "exponent"},
		{"RSA e=2", rsaJWK(map[string]any{"e": "Ag"}), "exponent"},
		{"RSA e=65536", rsaJWK(map[string]any{"e": "AQAA"}), "exponent"},
		{"RSA e=2^31+1", rsaJWK(map[string]any{"e": "gAAAAQ"}), "exponent"},
		{"RSA e 5 bytes", rsaJWK(map[string]any{"e": "AQAAAAE"}), "exponent"},
		{"RSA even modulus", rsaJWK(map[string]any{"n": b64u(evenN.Bytes())}), "even"},
		{"RSA 8200 bits", rsaJWK(map[string]any{"n": b64u(append([]byte{1}, make([]byte, 1025)...))}), "larger than 8192"},
		{"RSA 8193 bits", rsaJWK(map[string]any{"n": b64u(append([]byte{1}, make([]byte, 1024)...))}), "larger than 8192"},
		{"RSA missing n", rsaJWK(map[string]any{"n": nil}), `"n"`},
		{"RSA missing e", rsaJWK(map[string]any{"e": nil}), `"e"`},
		{"RSA empty n", rsaJWK(map[string]any{"n": ""}), `"n"`},
		{"RSA n padded", rsaJWK(map[string]any{"n": b64u(rsaPub.N.Bytes()) + "=="}), "base64url"},
		{"RSA n std alphabet", rsaJWK(map[string]any{"n": strings.NewReplacer("-", "+", "_", "/").Replace(b64u(rsaPub.N.Bytes())) + "+"}), "base64url"},
		{"RSA e number", rsaJWK(map[string]any{"e": 65537}), `"e"`},
		{"EC y off curve", ecJWK(map[string]any{"y": b64u(yOff)}), "not on the curve"},
		{"EC wrong crv", ecJWK(map[string]any{"crv": "P-384"}), "coordinate length"},
		{"EC unknown crv", ecJWK(map[string]any{"crv": "secp256k1"}), "crv"},
		{"EC missing crv", ecJWK(map[string]any{"crv": nil}), "crv"},
		{"EC x 31 bytes", ecJWK(map[string]any{"x": x31}), "coordinate length"},
		{"EC x 33 bytes", ecJWK(map[string]any{"x": x33}), "coordinate length"},
		{"EC x 65 bytes", ecJWK(map[string]any{"x": x65}), "coordinate length"},
		{"EC missing y", ecJWK(map[string]any{"y": nil}), `"y"`},
		{"EC zero point", ecJWK(map[string]any{"x": b64u(make([]byte, 32)), "y": b64u(make([]byte, 32))}), "not on the curve"},
		{"EC x non-canonical b64", ecJWK(map[string]any{"x": b64u(ecPoint[1:33])[:42] + "B"}), "base64url"},
		{"OKP X25519", x25519, "Ed25519"},
		{"OKP Ed448", jwkOf(t, testEd25519().Public(), map[string]any{"crv": "Ed448"}), "Ed25519"},
		{"OKP short x", jwkOf(t, testEd25519().Public(), map[string]any{"x": b64u(make([]byte, 31))}), "32 bytes"},
		{"not an object", []any{1}, "not a valid JSON object"},
		{"string element", "key", "not a valid JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The rejected key sits between two good keys, so indexes are checked too.
			good1 := jwkOf(t, ecPub, map[string]any{"kid": "good1"})
			good2 := jwkOf(t, rsaPub, map[string]any{"kid": "good2"})
			doc := []byte(`{"keys":[` + string(mustJSON(t, good1)) + "," + string(mustJSON(t, tc.jwk)) + "," + string(mustJSON(t, good2)) + `]}`)
			ks, dropped, err := ParseKeySet(doc)
			if err != nil {
				t.Fatalf("ParseKeySet: %v", err)
			}
			if len(ks.Keys) != 2 || ks.Keys[0].KID != "good1" || ks.Keys[1].KID != "good2" {
				t.Fatalf("kept keys %+v, want good1 and good2", ks.Keys)
			}
			if len(dropped) != 1 || dropped[0].Index != 1 {
				t.Fatalf("dropped = %+v, want index 1", dropped)
			}
			if !strings.Contains(dropped[0].Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", dropped[0].Reason, tc.reason)
			}
		})
	}
}

func TestParseKeySetDuplicateMemberInKeyDropsKey(t *testing.T) {
	t.Parallel()
	good := string(mustJSON(t, jwkOf(t, &testP256().PublicKey, map[string]any{"kid": "good"})))
	doc := `{"keys":[` + good + `,{"kty":"EC","kty":"RSA"}]}`
	ks, dropped, err := ParseKeySet([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.Keys) != 1 || len(dropped) != 1 || !strings.Contains(dropped[0].Reason, "duplicate member") {
		t.Fatalf("keys=%d dropped=%+v", len(ks.Keys), dropped)
	}
}

func TestParseKeySetDuplicateKID(t *testing.T) {
	t.Parallel()
	a := jwkOf(t, &testP256().PublicKey, map[string]any{"kid": "k1"})
	b := jwkOf(t, &testRSA2048().PublicKey, map[string]any{"kid": "k1"})
	c := jwkOf(t, &testP384().PublicKey, map[string]any{"kid": "k2"})
	encDup := jwkOf(t, &testP521().PublicKey, map[string]any{"kid": "k2", "use": "enc"})
	doc := jwksBytes(t, a, c, b, encDup)
	ks, dropped, err := ParseKeySet(doc)
	if err != nil {
		t.Fatal(err)
	}
	// k1: both dropped. k2: the enc key is dropped for use and the other for
	// the duplicate kid (duplicates count every entry, valid or not).
	if len(ks.Keys) != 0 {
		t.Fatalf("kept %+v, want none", ks.Keys)
	}
	want := []Dropped{
		{Index: 0, KID: "k1", Reason: "duplicate kid: every key sharing it is dropped"},
		{Index: 1, KID: "k2", Reason: "duplicate kid: every key sharing it is dropped"},
		{Index: 2, KID: "k1", Reason: "duplicate kid: every key sharing it is dropped"},
		{Index: 3, KID: "k2", Reason: `"use" is present and not "sig"`},
	}
	if !reflect.DeepEqual(dropped, want) {
		t.Fatalf("dropped = %+v\nwant %+v", dropped, want)
	}
	// Deterministic: same input, same result.
	for range 5 {
		_, again, _ := ParseKeySet(doc)
		if !reflect.DeepEqual(again, dropped) {
			t.Fatal("ParseKeySet is not deterministic")
		}
	}
	// Several keys without kid are not duplicates.
	mustKeySet(t, jwkOf(t, &testP256().PublicKey, nil), jwkOf(t, &testP384().PublicKey, nil))
}

func TestParseKeySetDroppedKIDTruncated(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) // 400 bytes
	_, dropped, err := ParseKeySet(jwksBytes(t, map[string]any{"kty": "oct", "kid": long}))
	if err != nil || len(dropped) != 1 {
		t.Fatal(err, dropped)
	}
	if got := dropped[0].KID; len(got) > maxKIDBytes+3 || !strings.HasSuffix(got, "...") || !strings.HasPrefix(long, strings.TrimSuffix(got, "...")) {
		t.Errorf("truncated kid = %q", got)
	}
}

func TestParseKeySetReasonsCarryNoKeyMaterial(t *testing.T) {
	t.Parallel()
	priv := testRSA2048()
	j := jwkOf(t, &priv.PublicKey, map[string]any{"d": b64u(priv.D.Bytes())})
	_, dropped, err := ParseKeySet(jwksBytes(t, j))
	if err != nil || len(dropped) != 1 {
		t.Fatal(err, dropped)
	}
	for _, secret := range []string{j["d"].(string)[:16], j["n"].(string)[:16]} {
		if strings.Contains(dropped[0].Reason, secret) {
			t.Fatalf("reason leaks key material: %q", dropped[0].Reason)
		}
	}
}

// rocaModulus builds a 2048-bit modulus with the structure of the vulnerable
// Infineon generator: each prime is k*M + (65537^a mod M).
func rocaModulus(t *testing.T) *big.Int {
	t.Helper()
	m := big.NewInt(1)
	for _, p := range []int64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167} {
		m.Mul(m, big.NewInt(p))
	}
	// k is chosen so each prime lies in [0.75*2^1024, 2^1024): the product
	// then always has exactly 2048 bits.
	top := new(big.Int).Lsh(big.NewInt(1), 1024)
	kMax := new(big.Int).Div(top, m)
	kMin := new(big.Int).Div(new(big.Int).Rsh(new(big.Int).Mul(top, big.NewInt(3)), 2), m)
	kSpan := new(big.Int).Sub(kMax, kMin)
	prime := func() *big.Int {
		for {
			a, _ := rand.Int(rand.Reader, m)
			k, _ := rand.Int(rand.Reader, kSpan)
			k.Add(k, kMin)
			p := new(big.Int).Mul(k, m)
			p.Add(p, new(big.Int).Exp(big.NewInt(65537), a, m))
			if p.ProbablyPrime(20) {
				return p
			}
		}
	}
	n := new(big.Int).Mul(prime(), prime())
	if n.BitLen() != 2048 {
		t.Fatalf("ROCA modulus has %d bits", n.BitLen())
	}
	return n
}

func TestROCAFingerprint(t *testing.T) {
	t.Parallel()
	n := rocaModulus(t)
	if !hasROCAFingerprint(n) {
		t.Fatal("ROCA-structured modulus not detected")
	}
	_, dropped, err := ParseKeySet(jwksBytes(t, map[string]any{"kty": "RSA", "n": b64u(n.Bytes()), "e": "AQAB"}))
	if err != nil || len(dropped) != 1 || !strings.Contains(dropped[0].Reason, "ROCA") {
		t.Fatalf("dropped = %+v, err = %v", dropped, err)
	}
	for _, k := range []*rsa.PrivateKey{testRSA2048(), testRSA3072()} {
		if hasROCAFingerprint(k.N) {
			t.Error("random modulus flagged as ROCA")
		}
	}
}

func TestParseKeySetIsStrictAboutNumbers(t *testing.T) {
	t.Parallel()
	// kid given as a JSON number is a type error, not coerced.
	_, dropped, err := ParseKeySet([]byte(`{"keys":[{"kty":"EC","kid":1.0}]}`))
	if err != nil || len(dropped) != 1 || !strings.Contains(dropped[0].Reason, `"kid"`) {
		t.Fatalf("%+v %v", dropped, err)
	}
}

func TestErrorUnwrap(t *testing.T) {
	t.Parallel()
	e := &Error{Kind: ErrSignature}
	if e.Error() != ErrSignature.Error() || !errors.Is(e, ErrSignature) || errors.Is(e, ErrMalformed) {
		t.Fatal("Error with empty detail")
	}
	tl := &Error{Kind: ErrTooLarge, Detail: "x"}
	if !errors.Is(tl, ErrTooLarge) || !errors.Is(tl, ErrMalformed) || errors.Is(tl, ErrSignature) {
		t.Fatal("ErrTooLarge wrapping")
	}
	var je *Error
	if !errors.As(error(tl), &je) || je.Detail != "x" {
		t.Fatal("errors.As")
	}
}
