package signing_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/signing"
	"github.com/keylessdev/keyless/internal/store/sqlite"
)

func TestRotationOverlap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	kr, err := signing.Open(ctx, st, signing.Options{Now: clock, Overlap: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tok1, kid1, err := kr.Sign(ctx, signing.ES256, signing.TypAccessToken, map[string]any{"sub": "a"})
	if err != nil {
		t.Fatal(err)
	}
	kid2, err := kr.Rotate(ctx, signing.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if kid2 == kid1 {
		t.Fatal("rotation reused the kid")
	}
	_, kidNow, _ := kr.Sign(ctx, signing.ES256, signing.TypAccessToken, map[string]any{"sub": "b"})
	if kidNow != kid2 {
		t.Errorf("signing with %s after rotation, want %s", kidNow, kid2)
	}
	// The old token still verifies during the overlap.
	verify := func(k *signing.Keyring) error {
		p, err := jose.ParseCompact(tok1, 16<<10)
		if err != nil {
			return err
		}
		_, err = p.Verify(k.PublicKeys(), []string{"ES256"})
		return err
	}
	if err := verify(kr); err != nil {
		t.Fatalf("token of the retired key no longer verifies during the overlap: %v", err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(kr.JWKS(), &doc); err != nil || len(doc.Keys) != 2 {
		t.Fatalf("JWKS during overlap: %s", kr.JWKS())
	}
	for _, k := range doc.Keys {
		if k["d"] != nil || k["use"] != "sig" {
			t.Errorf("published key %v", k)
		}
	}
	// A second process (keyless keys rotate) sees the same keys; after the overlap the
	// retired key is gone.
	now = now.Add(2 * time.Hour)
	kr2, err := signing.Open(ctx, st, signing.Options{Now: clock, Overlap: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(kr2); err == nil {
		t.Error("retired key still published after the overlap")
	}
	if len(kr2.List()) != 1 || !kr2.List()[0].Active {
		t.Errorf("keys after overlap: %+v", kr2.List())
	}
}

func TestSignBytesAndAlgs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kr, err := signing.Open(ctx, st, signing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{signing.ES256, signing.RS256, signing.EdDSA} {
		sig, kid, err := kr.SignBytes(ctx, alg, []byte("payload"))
		if err != nil {
			t.Fatal(alg, err)
		}
		var key jose.Key
		for _, k := range kr.PublicKeys().Find(kid) {
			key = k
		}
		if err := jose.VerifySignature(alg, key.Public, []byte("payload"), sig); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		if err := jose.VerifySignature(alg, key.Public, []byte("payloaD"), sig); err == nil {
			t.Errorf("%s: signature verified over other bytes", alg)
		}
	}
	if _, _, err := kr.Sign(ctx, "HS256", signing.TypAccessToken, map[string]any{}); err == nil {
		t.Error("HS256 accepted")
	}
}

func TestRotateDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	kr, err := signing.Open(ctx, st, signing.Options{Now: func() time.Time { return now }, RotationPeriod: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const sa = "104729000000000000001"
	_, saKid, err := kr.SignBytesAs(ctx, sa, signing.RS256, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, issKid, _ := kr.Sign(ctx, signing.ES256, signing.TypAccessToken, map[string]any{})
	if kids, err := kr.RotateDue(ctx); err != nil || len(kids) != 0 {
		t.Fatalf("fresh keys rotated: %v %v", kids, err)
	}
	now = now.Add(25 * time.Hour)
	kids, err := kr.RotateDue(ctx)
	if err != nil || len(kids) != 2 {
		t.Fatalf("RotateDue after the period = %v, %v; want the issuer's and the account's keys", kids, err)
	}
	_, saKid2, _ := kr.SignBytesAs(ctx, sa, signing.RS256, []byte("x"))
	_, issKid2, _ := kr.Sign(ctx, signing.ES256, signing.TypAccessToken, map[string]any{})
	if saKid2 == saKid || issKid2 == issKid {
		t.Error("still signing with the old keys after rotation")
	}
	// The retired keys stay published under their owner during the overlap.
	if len(kr.OwnerKeys(sa).Find(saKid)) != 1 || len(kr.PublicKeys().Find(issKid)) != 1 {
		t.Error("retired keys unpublished before the overlap ended")
	}
	if len(kr.PublicKeys().Find(saKid2)) != 0 {
		t.Error("a service account key leaked into the issuer JWKS")
	}
}

func TestSecretsRotateAndStayUnpublished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	kr, err := signing.Open(ctx, st, signing.Options{Now: clock, Overlap: time.Hour, RotationPeriod: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := kr.Secrets(signing.OwnerAWSSession); got != nil {
		t.Fatalf("secrets before first use: %v", len(got))
	}
	s1, err := kr.EnsureSecrets(ctx, signing.OwnerAWSSession)
	if err != nil || len(s1) != 1 || len(s1[0].KID) != 8 || s1[0].Value == [32]byte{} {
		t.Fatalf("EnsureSecrets = %d keys, %v", len(s1), err)
	}
	again, _ := kr.EnsureSecrets(ctx, signing.OwnerAWSSession)
	if len(again) != 1 || again[0].KID != s1[0].KID {
		t.Fatal("EnsureSecrets generated a second key")
	}
	if _, _, err := kr.SignAs(ctx, signing.OwnerAWSSession, signing.A256GCM, signing.TypAccessToken, map[string]any{}); err == nil {
		t.Fatal("a sealing key signed a JWT")
	}
	for _, owner := range []string{"", signing.OwnerAWSSession} {
		if string(kr.OwnerJWKS(owner)) != `{"keys":[]}` && owner != "" {
			t.Fatalf("sealing key published under %q: %s", owner, kr.OwnerJWKS(owner))
		}
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(kr.JWKS(), &doc); err != nil || len(doc.Keys) != 1 {
		t.Fatalf("issuer JWKS has %d keys (%v); the sealing key leaked into it?", len(doc.Keys), err)
	}

	// Rotation: the new key comes first, the old one still opens until the overlap ends.
	now = now.Add(25 * time.Hour)
	if _, err := kr.RotateDue(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := kr.Secrets(signing.OwnerAWSSession)
	if len(s2) != 2 || s2[1].KID != s1[0].KID || s2[0].KID == s1[0].KID {
		t.Fatalf("after rotation: %+v", kids(s2))
	}
	// A second process sees the same keys.
	kr2, err := signing.Open(ctx, st, signing.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := kids(kr2.Secrets(signing.OwnerAWSSession)); len(got) != 2 || got[0] != s2[0].KID || kr2.Secrets(signing.OwnerAWSSession)[0].Value != s2[0].Value {
		t.Fatalf("reloaded secrets %v, want %v", got, kids(s2))
	}
	now = now.Add(2 * time.Hour)
	if err := kr.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := kids(kr.Secrets(signing.OwnerAWSSession)); len(got) != 1 || got[0] != s2[0].KID {
		t.Fatalf("after the overlap: %v", got)
	}
}

func kids(s []signing.Secret) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.KID)
	}
	return out
}
