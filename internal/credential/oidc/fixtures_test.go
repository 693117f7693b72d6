package oidc

// Real-world claim shapes (testdata/claim-fixtures, see its README), each
// signed with a test key and verified end to end.

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

type fixture struct {
	Header map[string]any  `json:"header"`
	Claims json.RawMessage `json:"claims"`
	Entra  json.RawMessage `json:"claims_example_app_token"`
	SPIFFE json.RawMessage `json:"claims_example"`
}

func loadFixture(t *testing.T, name string) (header map[string]any, claims map[string]any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "claim-fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	raw := f.Claims
	for _, alt := range []json.RawMessage{f.Entra, f.SPIFFE} {
		if raw == nil {
			raw = alt
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil {
		t.Fatalf("%s: no claims: %v", name, err)
	}
	return f.Header, claims
}

func TestClaimFixtures(t *testing.T) {
	t.Parallel()
	const year = 366 * 24 * time.Hour
	tests := []struct {
		file        string
		alg         string
		signer      crypto.Signer
		maxLifetime time.Duration
		stage       Stage // "" = must verify
		check       func(t *testing.T, v *Verified)
	}{
		{file: "github_actions_docs_example.json", alg: "RS256", signer: testRSA(), check: func(t *testing.T, v *Verified) {
			if v.Subject != "repo:octo-org/octo-repo:environment:prod" || v.Claims["repository_owner_id"] != "65" || v.Header.Params["x5t"] != "example-thumbprint" {
				t.Errorf("verified = %+v", v)
			}
		}},
		{file: "github_actions_real_immutable_sub.json", alg: "ES256", signer: testEC(), check: func(t *testing.T, v *Verified) {
			if v.Subject != "repo:andreaso@285964/actions-tester@1339936803:ref:refs/heads/test-output-oidc-claims-action" || v.JTI != "1e410ab1-302e-4e33-8c5f-869a4bd12c3b" {
				t.Errorf("verified = %+v", v)
			}
		}},
		{file: "gitlab_ci_id_token.json", alg: "EdDSA", signer: testEd(), check: func(t *testing.T, v *Verified) {
			if n, ok := v.Claims["runner_id"].(json.Number); !ok || n != "1" {
				t.Errorf("runner_id = %T %v", v.Claims["runner_id"], v.Claims["runner_id"])
			}
			if g, ok := v.Claims["groups_direct"].([]any); !ok || len(g) != 1 {
				t.Errorf("groups_direct = %v", v.Claims["groups_direct"])
			}
		}},
		{file: "azure_entra_token_shapes.json", alg: "PS512", signer: testRSA(), check: func(t *testing.T, v *Verified) {
			if !slices.Equal(v.Audience, []string{"api://AzureADTokenExchange"}) || v.Claims["tid"] != "aaaabbbb-0000-cccc-1111-dddd2222eeee" {
				t.Errorf("verified = %+v", v)
			}
		}},
		// Kubernetes tokens here live a year (exp - iat = 365 days).
		{file: "k8s_eks_token.json", alg: "RS256", signer: testRSA(), maxLifetime: year, check: func(t *testing.T, v *Verified) {
			k8s, _ := v.Claims["kubernetes.io"].(map[string]any)
			if v.Subject != "system:serviceaccount:default:default" || k8s["namespace"] != "default" || len(v.Audience) != 1 {
				t.Errorf("verified = %+v", v)
			}
		}},
		{file: "k8s_eks_token.json", alg: "RS256", signer: testRSA(), stage: StageLifetime},
		{file: "k8s_projected_sa_token.json", alg: "ES256", signer: testEC(), maxLifetime: year, check: func(t *testing.T, v *Verified) {
			if v.JTI != "ea28ed49-2e11-4280-9ec5-bc3d1d84661a" || v.Subject != "system:serviceaccount:kube-system:coredns" {
				t.Errorf("verified = %+v", v)
			}
		}},
		{file: "k8s_projected_sa_token.json", alg: "ES256", signer: testEC(), stage: StageLifetime},
		// A JWT-SVID has no iss: it is not an OIDC credential for this verifier.
		{file: "spiffe_jwt_svid.json", alg: "ES256", signer: testEC(), stage: StageMissingClaim},
	}
	for _, tc := range tests {
		name := string(tc.stage)
		if name == "" {
			name = "ok"
		}
		t.Run(tc.file+"/"+name, func(t *testing.T) {
			t.Parallel()
			fh, claims := loadFixture(t, tc.file)
			hdr := map[string]any{"typ": "JWT", "kid": "fixture-key"}
			for k, v := range fh {
				hdr[k] = v
			}
			hdr["alg"] = tc.alg
			kid := hdr["kid"].(string)
			tok := sign(t, tc.alg, tc.signer, mustJSON(t, hdr), mustJSON(t, claims))
			keys := StaticKeys{Set: &jose.KeySet{Keys: []jose.Key{{KID: kid, Public: tc.signer.Public()}}}}

			iss, _ := claims["iss"].(string)
			if iss == "" {
				iss = "spiffe://example.org"
			}
			var aud string
			switch a := claims["aud"].(type) {
			case string:
				aud = a
			case []any:
				aud = a[0].(string)
			}
			iat, _ := claims["iat"].(json.Number).Int64()
			now := time.Unix(iat+30, 0)
			p := &Policy{Issuer: iss, Audiences: []string{"unrelated", aud}, RequireKID: true, MaxLifetime: tc.maxLifetime}

			v, err := Verify(context.Background(), p, keys, tok, now)
			if tc.stage != "" {
				wantStage(t, err, tc.stage)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.Issuer != iss || !v.IssuedAt.Equal(time.Unix(iat, 0)) || v.Key.KID != kid {
				t.Errorf("verified = %+v", v)
			}
			// Every claim of the fixture survives with its JSON type.
			if got, want := mustJSON(t, v.Claims), mustJSON(t, claims); string(got) != string(want) {
				t.Errorf("claims changed:\n got %s\nwant %s", got, want)
			}
			tc.check(t, v)
			// The same token is refused after expiry and for another audience.
			exp, _ := claims["exp"].(json.Number).Int64()
			_, err = Verify(context.Background(), p, keys, tok, time.Unix(exp+61, 0))
			wantStage(t, err, StageExpired)
			_, err = Verify(context.Background(), &Policy{Issuer: iss, Audiences: []string{"unrelated"}, MaxLifetime: tc.maxLifetime}, keys, tok, now)
			wantStage(t, err, StageAudience)
		})
	}
}
