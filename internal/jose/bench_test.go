package jose

import (
	"crypto"
	"strings"
	"testing"
)

func benchVerify(b *testing.B, alg string, priv crypto.Signer) {
	ks := mustKeySet(b, jwkOf(b, priv.Public(), map[string]any{"kid": "k", "alg": alg}))
	raw := signJWT(b, alg, priv, map[string]any{"kid": "k", "typ": "JWT"}, map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
		"aud": "https://github.com/octo-org", "iat": 1700000000, "exp": 1700000300, "repository": "octo-org/octo-repo",
	})
	b.ReportAllocs()
	for b.Loop() {
		tok, err := ParseCompact(raw, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tok.Verify(ks, DefaultAlgs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyES256 and BenchmarkVerifyRS256 measure parse + verify.
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, "ES256", testP256()) }
func BenchmarkVerifyRS256(b *testing.B) { benchVerify(b, "RS256", testRSA2048()) }
func BenchmarkVerifyEdDSA(b *testing.B) { benchVerify(b, "EdDSA", testEd25519()) }

func BenchmarkParseCompact(b *testing.B) {
	raw := signJWT(b, "RS256", testRSA2048(), map[string]any{"kid": "k", "typ": "JWT", "x5t": "thumb"}, map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "sub": "repo:octo-org/octo-repo:environment:prod",
		"aud": "https://github.com/octo-org", "ref": "refs/heads/main", "repository": "octo-org/octo-repo",
		"repository_owner_id": "65", "job_workflow_ref": "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
		"iat": 1632493567, "nbf": 1632492967, "exp": 1632493867,
	})
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ParseCompact(raw, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCompactDotFlood(b *testing.B) {
	dots := strings.Repeat(".", 1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCompact(dots, 2_000_000); err == nil {
			b.Fatal("accepted")
		}
	}
}
