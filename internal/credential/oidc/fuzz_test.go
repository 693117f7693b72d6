package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzVerify fuzzes whole tokens and, behind a valid K1 signature, claim
// sets, so the claim checks are reached.
func FuzzVerify(f *testing.F) {
	now := testNow.Unix()
	good := mustJSON(f, baseClaims())
	f.Add(token(f, baseClaims()), []byte(nil), false)
	f.Add("", good, true)
	f.Add("", []byte(`{"iss":"https://issuer.test","aud":["x","https://keyless.test/providers/p"],"exp":1700000100,"iat":1700000000}`), true)
	f.Add("", []byte(`{"iss":"https://issuer.test","aud":"https://keyless.test/providers/p","exp":1.7e9,"iat":1700000000.0,"nbf":0}`), true)
	f.Add("", []byte(`{"iss":1,"aud":{},"exp":"1","iat":null,"sub":[]}`), true)
	f.Add("", []byte(`{"exp":1e999999,"iat":-0}`), true)
	f.Add(token(f, with(baseClaims(), "exp", now-3600)), []byte(nil), false)
	f.Add(strings.Repeat(".", 1000), []byte(nil), false)
	f.Add(" \n"+token(f, baseClaims())+"\r\n", []byte(nil), false)

	keys := StaticKeys{Set: testKeys()}
	p := testPolicy()
	f.Fuzz(func(t *testing.T, raw string, claims []byte, signIt bool) {
		if signIt {
			raw = sign(t, "ES256", testEC(), []byte(`{"alg":"ES256","kid":"k1"}`), claims)
		}
		v, err := Verify(context.Background(), p, keys, raw, testNow)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.PublicMessage() == (&Error{}).PublicMessage() {
				t.Fatalf("untyped error or unknown stage: %v", err)
			}
			if v != nil {
				t.Fatal("result with error")
			}
			return
		}
		leeway := DefaultLeeway
		if v.Issuer != testIssuer || !slices.Contains(v.Audience, testAudience) {
			t.Fatalf("accepted iss %q aud %v", v.Issuer, v.Audience)
		}
		if !testNow.Before(v.Expiry.Add(leeway)) || v.IssuedAt.After(testNow.Add(leeway)) ||
			v.Expiry.Sub(v.IssuedAt) > DefaultMaxLifetime || v.Expiry.Before(v.IssuedAt) || v.IssuedAt.IsZero() {
			t.Fatalf("accepted times iat %v exp %v", v.IssuedAt, v.Expiry)
		}
		if !v.NotBefore.IsZero() && testNow.Add(leeway).Before(v.NotBefore) {
			t.Fatalf("accepted nbf %v", v.NotBefore)
		}
		if v.Key.KID != "k1" || v.Header.KID != "k1" {
			t.Fatalf("accepted key %q", v.Key.KID)
		}
	})
}
