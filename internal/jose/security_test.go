package jose

// Negative-test catalogue, groups A (compact serialization and encoding),
// B (algorithm and key confusion) and D (crypto edge cases), from
// /work/shared/reference/security-tests.md §4. Attack tokens are built with
// Go crypto. Setup as in the catalogue: K1 is ES256 (kid k1), K2 is
// RS256-2048 (kid k2); unless stated a token is otherwise valid and signed
// with K1.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type catalogue struct {
	k1   *ecdsa.PrivateKey
	k2   *rsa.PrivateKey
	ks   *KeySet
	algs []string
}

func newCatalogue(t *testing.T, extra ...map[string]any) catalogue {
	t.Helper()
	c := catalogue{k1: testP256(), k2: testRSA2048(), algs: DefaultAlgs}
	keys := append([]map[string]any{
		jwkOf(t, &c.k1.PublicKey, map[string]any{"kid": "k1", "use": "sig", "alg": "ES256"}),
		jwkOf(t, &c.k2.PublicKey, map[string]any{"kid": "k2", "use": "sig", "alg": "RS256"}),
	}, extra...)
	ks, _, err := ParseKeySet(jwksBytes(t, keys...))
	if err != nil {
		t.Fatal(err)
	}
	c.ks = ks
	return c
}

// check runs the full JWS path: ParseCompact, then Verify.
func (c catalogue) check(tok string) error {
	p, err := ParseCompact(tok, DefaultMaxTokenBytes)
	if err != nil {
		return err
	}
	_, err = p.Verify(c.ks, c.algs)
	return err
}

func (c catalogue) claims() map[string]any {
	return map[string]any{"iss": "https://issuer.test", "sub": "repo:org/repo:ref:refs/heads/main", "aud": "https://keyless.test/providers/p", "iat": 1700000000, "exp": 1700000300}
}

// valid returns a correctly signed K1 token and its three segments.
func (c catalogue) valid(t *testing.T) (tok, h, p, s string) {
	t.Helper()
	tok = signJWT(t, "ES256", c.k1, map[string]any{"kid": "k1", "typ": "JWT"}, c.claims())
	parts := strings.Split(tok, ".")
	return tok, parts[0], parts[1], parts[2]
}

// signInput signs an arbitrary ASCII signing input exactly as sent.
func signInput(t *testing.T, alg string, priv crypto.Signer, input string) string {
	t.Helper()
	return input + "." + b64u(rawSign(t, alg, priv, []byte(input)))
}

type catCase struct {
	name string
	tok  string
	kind error
}

func runCases(t *testing.T, c catalogue, cases []catCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantKind(t, c.check(tc.tok), tc.kind)
		})
	}
}

func TestCatalogueControl(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	tok, _, _, _ := c.valid(t)
	if err := c.check(tok); err != nil {
		t.Fatalf("valid K1 token rejected: %v", err)
	}
	if err := c.check(signJWT(t, "RS256", c.k2, map[string]any{"kid": "k2"}, c.claims())); err != nil {
		t.Fatalf("valid K2 token rejected: %v", err)
	}
}

func TestCatalogueA(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	tok, h, p, s := c.valid(t)
	claims := b64u(mustJSON(t, c.claims()))
	var cases []catCase

	// A1 alg none, four spellings, empty signature.
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		hdr := b64u([]byte(`{"alg":"` + none + `","kid":"k1"}`))
		cases = append(cases, catCase{"A1/" + none, hdr + "." + claims + ".", ErrMalformed})
		// A2: the same with K1's original signature left in place.
		cases = append(cases, catCase{"A2/" + none, hdr + "." + claims + "." + s, ErrAlgorithm})
	}
	// A3 missing parts; A4 extra parts.
	for name, bad := range map[string]string{
		"A3/empty": "", "A3/h.p": h + "." + p, "A3/h.p.": h + "." + p + ".", "A3/.p.s": "." + p + "." + s,
		"A3/h..s": h + ".." + s, "A3/p.s": p + "." + s, "A3/p": p, "A3/dots": "..",
		"A4/h.p.s.": tok + ".", "A4/h.p.s.foo": tok + ".foo", "A4/h.p.s.s": tok + "." + s,
	} {
		cases = append(cases, catCase{name, bad, ErrMalformed})
	}
	// A5 JWS JSON serialization (general and flattened).
	general := mustJSON(t, map[string]any{"payload": p, "signatures": []any{map[string]any{"protected": h, "header": map[string]any{"kid": "k1"}, "signature": s}}})
	flat := mustJSON(t, map[string]any{"payload": p, "protected": h, "signature": s})
	cases = append(cases, catCase{"A5/general", string(general), ErrMalformed}, catCase{"A5/flattened", string(flat), ErrMalformed})
	// A6 whitespace inside the token.
	for name, bad := range map[string]string{
		"A6/spaces before signature": h + "." + p + ".    " + s,
		"A6/spaces after header":     h + "    ." + p + "." + s,
		"A6/CRLF in segment":         h + "." + p[:10] + "\r\n" + p[10:] + "." + s,
		"A6/tab":                     h + "\t." + p + "." + s,
		"A6/leading space":           " " + tok,
		"A6/trailing newline":        tok + "\n",
		"A6/NUL":                     tok + "\x00",
	} {
		cases = append(cases, catCase{name, bad, ErrMalformed})
	}
	// A7 non-canonical base64url, each re-signed so only encoding is wrong.
	unused := nonCanonicalPayload(t, c.claims())
	cases = append(cases,
		catCase{"A7/unused bits set in payload", signInput(t, "ES256", c.k1, h+"."+unused), ErrMalformed},
		catCase{"A7/padding", signInput(t, "ES256", c.k1, h+"."+padTo4(p)), ErrMalformed},
		catCase{"A7/padding on signature", tok + "=", ErrMalformed},
		catCase{"A7/std alphabet +", h + "." + p + ".+" + s[1:], ErrMalformed},
		catCase{"A7/std alphabet /", h + "." + p + "." + s[:5] + "/" + s[6:], ErrMalformed},
		catCase{"A7/#", h + "#." + p + "." + s, ErrMalformed},
		catCase{"A7/?", h + "." + p + "?x=1." + s, ErrMalformed},
		catCase{"A7/non-ASCII", h + "é." + p + "." + s, ErrMalformed},
	)
	// A8 detached payload: s signs the real payload.
	cases = append(cases, catCase{"A8/detached", h + ".." + s, ErrMalformed})
	// A9 b64=false / crit, correctly signed.
	for name, hdr := range map[string]string{
		"A9/b64 false + crit":  `{"alg":"ES256","kid":"k1","b64":false,"crit":["b64"]}`,
		"A9/crit exp":          `{"alg":"ES256","kid":"k1","crit":["exp"]}`,
		"A9/crit empty":        `{"alg":"ES256","kid":"k1","crit":[]}`,
		"A9/b64 false no crit": `{"alg":"ES256","kid":"k1","b64":false}`,
	} {
		cases = append(cases, catCase{name, signParts(t, "ES256", c.k1, []byte(hdr), mustJSON(t, c.claims())), ErrMalformed})
	}
	// A11 oversized token (also see TestCatalogueA10A11Allocations).
	big := signJWT(t, "ES256", c.k1, map[string]any{"kid": "k1"}, map[string]any{"x": strings.Repeat("x", 64<<10)})
	cases = append(cases, catCase{"A11/64KiB claim", big, ErrTooLarge})
	// A12 payload not a JSON object, correctly signed (see also below).
	for name, payload := range a12Payloads {
		cases = append(cases, catCase{"A12/" + name, signParts(t, "ES256", c.k1, []byte(`{"alg":"ES256","kid":"k1"}`), []byte(payload)), ErrMalformed})
	}
	// A13 header not an object, or invalid UTF-8.
	cases = append(cases,
		catCase{"A13/header array", signParts(t, "ES256", c.k1, []byte(`[]`), mustJSON(t, c.claims())), ErrMalformed},
		catCase{"A13/header ff fe", signParts(t, "ES256", c.k1, []byte("{\"alg\":\"ES256\",\"kid\":\"k1\",\"x\":\"\xff\xfe\"}"), mustJSON(t, c.claims())), ErrMalformed},
		catCase{"A13/header bytes ff fe only", signParts(t, "ES256", c.k1, []byte{0xff, 0xfe}, mustJSON(t, c.claims())), ErrMalformed},
	)
	// A14 nested JWT.
	cases = append(cases, catCase{"A14/cty JWT", signParts(t, "ES256", c.k1, []byte(`{"alg":"ES256","kid":"k1","cty":"JWT"}`), []byte(tok)), ErrMalformed})
	// A15 JWE given as a JWT (cookbook 5.2 and 5.6; Wycheproof JWE in wycheproof_test.go).
	for _, f := range []string{"jwe/5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json", "jwe/5_6.direct_encryption_using_aes-gcm.json"} {
		var ex cookbookOutput
		readCookbook(t, f, &ex)
		cases = append(cases, catCase{"A15/" + f, ex.Output.Compact, ErrMalformed})
	}
	runCases(t, c, cases)

	// A12: the same payloads pass the JWS layer, so the refusal is about format.
	for name, payload := range a12Payloads {
		raw := signParts(t, "ES256", c.k1, []byte(`{"alg":"ES256","kid":"k1"}`), []byte(payload))
		jws, err := parseJWS(raw, 0)
		if err != nil {
			t.Fatalf("A12/%s: JWS layer: %v", name, err)
		}
		if _, err := jws.Verify(c.ks, c.algs); err != nil {
			t.Fatalf("A12/%s: signature should verify: %v", name, err)
		}
	}
}

var a12Payloads = map[string]string{"foo": "foo", "array": "[]", "string": `"str"`, "number": "1", "null": "null", "true": "true", "empty object then array": "{}[]"}

// nonCanonicalPayload encodes claims (padded until the encoding ends with a
// partial group) and sets the unused low bits of the last character.
func nonCanonicalPayload(t *testing.T, claims map[string]any) string {
	t.Helper()
	for pad := ""; ; pad += "x" {
		claims["pad"] = pad
		enc := b64u(mustJSON(t, claims))
		if len(enc)%4 != 2 {
			continue
		}
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, enc[len(enc)-1])
		out := enc[:len(enc)-1] + string(alphabet[last|1])
		if _, err := b64.DecodeString(out); err == nil {
			t.Fatal("strict decoder accepted unused bits")
		}
		return out
	}
}

func padTo4(s string) string {
	for len(s)%4 != 0 {
		s += "="
	}
	if !strings.HasSuffix(s, "=") {
		s += "===="
	}
	return s
}

// TestCatalogueA10A11Allocations is deliberately not parallel:
// testing.AllocsPerRun and MemStats count allocations process-wide.
func TestCatalogueA10A11Allocations(t *testing.T) {
	dots := strings.Repeat(".", 1_000_000)
	big := strings.Repeat("x", 64<<10) + ".e30.AAAA"
	cases := []struct {
		name     string
		tok      string
		maxBytes int
		kind     error
	}{
		// The default limit refuses the flood by its length alone; a huge
		// limit forces the full structure scan, which stops at the third dot.
		{"A10 dot flood, default limit", dots, 0, ErrTooLarge},
		{"A10 dot flood, 2 MB limit", dots, 2_000_000, ErrMalformed},
		{"A10 segments then dot flood", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA" + dots, 2_000_000, ErrMalformed},
		{"A11 oversized", big, 16 << 10, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCompact(tc.tok, tc.maxBytes)
			wantKind(t, err, tc.kind)
			allocs := testing.AllocsPerRun(50, func() { _, _ = ParseCompact(tc.tok, tc.maxBytes) })
			if allocs > 2 {
				t.Errorf("%v allocations per rejected token, want <= 2 (the error value)", allocs)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const runs = 100
			for range runs {
				_, _ = ParseCompact(tc.tok, tc.maxBytes)
			}
			runtime.ReadMemStats(&after)
			if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 1<<10 {
				t.Errorf("%d bytes allocated per rejected token, want < 1 KiB", perRun)
			}
		})
	}
}

func TestCatalogueB(t *testing.T) {
	t.Parallel()
	ps512Key := mustRSA(2048)
	ed := testEd25519()
	c := newCatalogue(t,
		jwkOf(t, &ps512Key.PublicKey, map[string]any{"kid": "ps512", "alg": "PS512"}),
		jwkOf(t, &testP256().PublicKey, map[string]any{"kid": "k3-es521", "alg": "ES521"}),
		jwkOf(t, &testP256().PublicKey, map[string]any{"kid": "k3-es224", "alg": "ES224"}),
		jwkOf(t, &testRSA3072().PublicKey, map[string]any{"kid": "k4", "alg": "RS256"}),
		jwkOf(t, ed.Public(), map[string]any{"kid": "k5"}),
		map[string]any{"kty": "oct", "kid": "s", "k": b64u([]byte("0123456789abcdef0123456789abcdef"))},
	)
	claims := mustJSON(t, c.claims())
	var cases []catCase

	// B1 RS->HS confusion: HMAC keyed with K2's public key in four encodings.
	der, err := x509.MarshalPKIXPublicKey(&c.k2.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwkJSON := mustJSON(t, jwkOf(t, &c.k2.PublicKey, map[string]any{"kid": "k2"}))
	for name, secret := range map[string][]byte{"PEM": pemKey, "DER": der, "JWK": jwkJSON, "raw n": c.k2.N.Bytes()} {
		cases = append(cases, catCase{"B1/" + name, hmacToken(`{"alg":"HS256","kid":"k2"}`, claims, secret), ErrAlgorithm})
		if err := VerifySignature("HS256", secret, []byte("x"), hmacSum(secret, "x")); err == nil {
			t.Fatalf("B1/%s: VerifySignature accepted HS256", name)
		}
	}
	// B2 alg / kty mismatch.
	cases = append(cases,
		catCase{"B2/ES256 with RSA kid k2", signJWT(t, "ES256", c.k1, map[string]any{"kid": "k2"}, c.claims()), ErrAlgorithm},
		catCase{"B2/RS256 with EC kid k1", signJWT(t, "RS256", c.k2, map[string]any{"kid": "k1"}, c.claims()), ErrAlgorithm},
	)
	for _, alg := range []string{"PS256", "RS256", "RS384", "RS512", "PS384"} {
		cases = append(cases, catCase{"B2/" + alg + " against PS512 key", signJWT(t, alg, ps512Key, map[string]any{"kid": "ps512"}, c.claims()), ErrAlgorithm})
	}
	// B3 alg differs from the JWK's declared alg.
	cases = append(cases,
		catCase{"B3/key alg ES521 (dropped)", signJWT(t, "ES256", testP256(), map[string]any{"kid": "k3-es521"}, c.claims()), ErrUnknownKey},
		catCase{"B3/key alg ES224 (dropped)", signJWT(t, "ES256", testP256(), map[string]any{"kid": "k3-es224"}, c.claims()), ErrUnknownKey},
		catCase{"B3/key alg RS256, token PS256", signJWT(t, "PS256", testRSA3072(), map[string]any{"kid": "k4"}, c.claims()), ErrAlgorithm},
	)
	// B4 outside the allowlist or wrong case (signed with a fitting key so
	// only the alg name is wrong).
	for _, alg := range []string{"rs256", "RS1", "ES256K", "PS256 ", "Rs256", "RSA-OAEP"} {
		hdr := `{"alg":"` + alg + `","kid":"k2"}`
		input := b64u([]byte(hdr)) + "." + b64u(claims)
		cases = append(cases, catCase{"B4/" + alg, input + "." + b64u(rawSign(t, "RS256", c.k2, []byte(input))), ErrAlgorithm})
	}
	cases = append(cases, catCase{"B4/HS256", hmacToken(`{"alg":"HS256","kid":"k2"}`, claims, []byte("k")), ErrAlgorithm})
	runCases(t, c, cases)

	t.Run("B4/EdDSA not enabled", func(t *testing.T) {
		t.Parallel()
		tok := signJWT(t, "EdDSA", ed, map[string]any{"kid": "k5"}, c.claims())
		restricted := c
		restricted.algs = []string{"ES256", "RS256"}
		wantKind(t, restricted.check(tok), ErrAlgorithm)
		if err := c.check(tok); err != nil {
			t.Fatalf("control with EdDSA enabled: %v", err)
		}
	})
	t.Run("B5/blank and weak HMAC secrets", func(t *testing.T) {
		t.Parallel()
		for _, secret := range []string{"", "secret", "password", "123456", "your-256-bit-secret", "changeme", "jwt", "key", "test"} {
			for _, kid := range []string{"k1", "k2", "s", ""} {
				hdr := `{"alg":"HS256"}`
				if kid != "" {
					hdr = `{"alg":"HS256","kid":"` + kid + `"}`
				}
				wantKind(t, c.check(hmacToken(hdr, claims, []byte(secret))), ErrAlgorithm)
			}
		}
	})
	t.Run("B6/symmetric key in remote JWKS", func(t *testing.T) {
		t.Parallel()
		if len(c.ks.Find("s")) != 0 {
			t.Fatal("oct key kept")
		}
		_, dropped, _ := ParseKeySet(jwksBytes(t, map[string]any{"kty": "oct", "kid": "s", "k": "AAAA"}))
		if len(dropped) != 1 || !strings.Contains(dropped[0].Reason, "symmetric") {
			t.Fatalf("dropped = %+v", dropped)
		}
		secret := []byte("0123456789abcdef0123456789abcdef")
		wantKind(t, c.check(hmacToken(`{"alg":"HS256","kid":"s"}`, claims, secret)), ErrAlgorithm)
		// Even an asymmetric alg naming that kid finds no key.
		wantKind(t, c.check(signJWT(t, "ES256", c.k1, map[string]any{"kid": "s"}, c.claims())), ErrUnknownKey)
	})
}

func hmacSum(key []byte, input string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return m.Sum(nil)
}

func hmacToken(header string, payload, key []byte) string {
	input := b64u([]byte(header)) + "." + b64u(payload)
	return input + "." + b64u(hmacSum(key, input))
}

func TestCatalogueD(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	_, h, p, s := c.valid(t)
	sig, _ := b64.DecodeString(s)
	n := elliptic.P256().Params().N
	var cases []catCase

	// D1 psychic signature and r, s in {0, 1, n-1, n}.
	cases = append(cases, catCase{"D1/64 zero bytes", h + "." + p + "." + b64u(make([]byte, 64)), ErrSignature})
	special := map[string]*big.Int{"0": big.NewInt(0), "1": big.NewInt(1), "n-1": new(big.Int).Sub(n, big.NewInt(1)), "n": n}
	for rn, r := range special {
		for sn, sv := range special {
			raw := make([]byte, 64)
			r.FillBytes(raw[:32])
			sv.FillBytes(raw[32:])
			cases = append(cases, catCase{"D1/r=" + rn + ",s=" + sn, h + "." + p + "." + b64u(raw), ErrSignature})
		}
	}
	// D2 ECDSA length and encoding.
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"63 bytes": sig[:63], "65 bytes": append(slices.Clone(sig), 1), "66 bytes": append(slices.Clone(sig), 0, 0),
		"DER": der, "trailing zero": append(slices.Clone(sig), 0), "leading zero": append([]byte{0}, sig...),
		"r only": sig[:32], "s, r swapped": append(slices.Clone(sig[32:]), sig[:32]...),
	} {
		cases = append(cases, catCase{"D2/" + name, h + "." + p + "." + b64u(bad), ErrSignature})
	}
	// D4 RSA trivial signatures, RS256 and PS256, K2.
	for _, alg := range []string{"RS256", "PS256"} {
		rh := b64u([]byte(`{"alg":"` + alg + `","kid":"k2s"}`))
		input := rh + "." + p
		good := rawSign(t, alg, c.k2, []byte(input))
		nRSA := c.k2.N
		fixed := func(v *big.Int) []byte { return v.FillBytes(make([]byte, 256)) }
		for name, bad := range map[string][]byte{
			"0": fixed(big.NewInt(0)), "1": fixed(big.NewInt(1)), "n-1": fixed(new(big.Int).Sub(nRSA, big.NewInt(1))),
			"n": fixed(nRSA), "sig+n (not reduced)": new(big.Int).Add(new(big.Int).SetBytes(good), nRSA).Bytes(),
			"prepended zeros": append([]byte{0, 0}, good...), "appended zeros": append(slices.Clone(good), 0, 0),
			"truncated": good[:255], "empty-ish": {0},
		} {
			cases = append(cases, catCase{"D4/" + alg + "/" + name, input + "." + b64u(bad), ErrSignature})
		}
	}
	// D5 PSS salt length must equal the hash length.
	ph := b64u([]byte(`{"alg":"PS256","kid":"k2s"}`))
	pInput := ph + "." + p
	digest := sha256.Sum256([]byte(pInput))
	for _, salt := range []int{0, 20, 48, 64} {
		sig := signPSS(t, c.k2, crypto.SHA256, digest[:], salt)
		cases = append(cases, catCase{"D5/salt " + strconv.Itoa(salt), pInput + "." + b64u(sig), ErrSignature})
	}
	// keys for D4/D5: K2 again under a kid without a declared alg.
	c2 := newCatalogue(t, jwkOf(t, &c.k2.PublicKey, map[string]any{"kid": "k2s"}))
	runCases(t, c2, cases)

	t.Run("D5/control salt 32", func(t *testing.T) {
		t.Parallel()
		sig := signPSS(t, c.k2, crypto.SHA256, digest[:], 32)
		if err := c2.check(pInput + "." + b64u(sig)); err != nil {
			t.Fatalf("PS256 with salt 32 rejected: %v", err)
		}
	})
	t.Run("D3/RSA PKCS#1 malleability", func(t *testing.T) {
		t.Parallel()
		st := runSigFile(t, "rsa_signature_2048_sha256_test.json", "RS256")
		if st.invalid != 249 || st.valid != 9 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("D10/Ed25519 malleability", func(t *testing.T) {
		t.Parallel()
		st := runSigFile(t, "ed25519_test.json", "EdDSA")
		if st.invalid != 63 {
			t.Fatalf("%+v", st)
		}
		priv := testEd25519()
		msg := []byte("input")
		good := ed25519.Sign(priv, msg)
		// S + L encodes the same scalar mod L: must be refused.
		l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
		sLE := slices.Clone(good[32:])
		slices.Reverse(sLE)
		sPlusL := new(big.Int).Add(new(big.Int).SetBytes(sLE), l).FillBytes(make([]byte, 32))
		slices.Reverse(sPlusL)
		bad := append(slices.Clone(good[:32]), sPlusL...)
		wantKind(t, VerifySignature("EdDSA", priv.Public(), msg, bad), ErrSignature)
		if err := VerifySignature("EdDSA", priv.Public(), msg, good); err != nil {
			t.Fatal(err)
		}
	})

	// D6-D9: broken or unsuitable keys are dropped, so the token's kid finds
	// nothing, and the loader does not panic.
	small := mustRSA(1024)
	ecPoint, _ := testP384().PublicKey.Bytes()
	p384 := testP384()
	yOff := slices.Clone(ecPoint[49:])
	yOff[47] ^= 1
	rocaN := rocaModulus(t)
	keyCases := []struct {
		name   string
		jwk    map[string]any
		signer crypto.Signer
		alg    string
	}{
		{"D6/RSA-1024", jwkOf(t, &small.PublicKey, map[string]any{"kid": "bad"}), small, "RS256"},
		{"D6/e=1", jwkOf(t, &c.k2.PublicKey, map[string]any{"kid": "bad", "e": "AQ"}), c.k2, "RS256"},
		{"D6/ROCA", map[string]any{"kty": "RSA", "kid": "bad", "n": b64u(rocaN.Bytes()), "e": "AQAB"}, c.k2, "RS256"},
		{"D7/y off curve", jwkOf(t, &p384.PublicKey, map[string]any{"kid": "bad", "y": b64u(yOff)}), p384, "ES384"},
		{"D7/wrong crv", jwkOf(t, &p384.PublicKey, map[string]any{"kid": "bad", "crv": "P-256"}), p384, "ES384"},
		{"D7/x 47 bytes", jwkOf(t, &p384.PublicKey, map[string]any{"kid": "bad", "x": b64u(ecPoint[2:49])}), p384, "ES384"},
		{"D7/x 49 bytes", jwkOf(t, &p384.PublicKey, map[string]any{"kid": "bad", "x": b64u(append([]byte{0}, ecPoint[1:49]...))}), p384, "ES384"},
		{"D7/x 65 bytes", jwkOf(t, &c.k1.PublicKey, map[string]any{"kid": "bad", "x": b64u(make([]byte, 65))}), c.k1, "ES256"},
		{"D8/use enc", jwkOf(t, &c.k1.PublicKey, map[string]any{"kid": "bad", "use": "enc"}), c.k1, "ES256"},
		{"D8/key_ops encrypt", jwkOf(t, &c.k1.PublicKey, map[string]any{"kid": "bad", "key_ops": []string{"encrypt"}}), c.k1, "ES256"},
	}
	for _, kc := range keyCases {
		t.Run(kc.name, func(t *testing.T) {
			t.Parallel()
			ks, dropped, err := ParseKeySet(jwksBytes(t, kc.jwk))
			if err != nil || len(ks.Keys) != 0 || len(dropped) != 1 {
				t.Fatalf("key not dropped: keys=%d dropped=%+v err=%v", len(ks.Keys), dropped, err)
			}
			tok, err := ParseCompact(signJWT(t, kc.alg, kc.signer, map[string]any{"kid": "bad"}, c.claims()), 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tok.Verify(ks, DefaultAlgs)
			wantKind(t, err, ErrUnknownKey)
		})
	}
	t.Run("D9/duplicate kid", func(t *testing.T) {
		t.Parallel()
		other := mustEC(elliptic.P256())
		doc := jwksBytes(t, jwkOf(t, &c.k1.PublicKey, map[string]any{"kid": "k1"}), jwkOf(t, &other.PublicKey, map[string]any{"kid": "k1"}))
		for range 3 {
			ks, dropped, err := ParseKeySet(doc)
			if err != nil || len(ks.Keys) != 0 || len(dropped) != 2 {
				t.Fatalf("keys=%d dropped=%+v err=%v", len(ks.Keys), dropped, err)
			}
			for _, signer := range []*ecdsa.PrivateKey{c.k1, other} {
				tok, _ := ParseCompact(signJWT(t, "ES256", signer, map[string]any{"kid": "k1"}, c.claims()), 0)
				_, err := tok.Verify(ks, DefaultAlgs)
				wantKind(t, err, ErrUnknownKey)
			}
		}
	})
}
