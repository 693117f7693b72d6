package gcemeta_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"cloud.google.com/go/compute/metadata"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2/google"

	"github.com/keylessdev/keyless/internal/agent/gcemeta"
)

// expiresWithin reports whether a client's expiry is lifetime after some
// moment between start and end, give or take the whole-second rounding of
// expires_in (clients add expires_in to their own clock).
func expiresWithin(got, start, end time.Time) bool {
	return !got.Before(start.Add(lifetime-2*time.Second)) && !got.After(end.Add(lifetime+time.Second))
}

// TestGoClients drives cloud.google.com/go/compute/metadata and
// golang.org/x/oauth2/google against the handler. It is not parallel: it sets
// GCE_METADATA_HOST, and the metadata package caches OnGCE and the project ID
// for the life of the process.
func TestGoClients(t *testing.T) {
	f := newFixture(t, time.Now)
	addr := startServer(t, f.h)
	t.Setenv("GCE_METADATA_HOST", addr)
	t.Setenv("HOME", t.TempDir()) // no gcloud ADC file
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")

	if !metadata.OnGCE() {
		t.Fatal("OnGCE() = false with GCE_METADATA_HOST set")
	}
	t.Run("metadata values", func(t *testing.T) {
		checks := []struct {
			name string
			get  func() (string, error)
			want string
		}{
			{"ProjectID", metadata.ProjectID, testProject},
			{"NumericProjectID", metadata.NumericProjectID, testProjectNum},
			{"Email default", func() (string, error) { return metadata.Email("") }, defaultEmail},
			{"Email other", func() (string, error) { return metadata.Email(otherEmail) }, otherEmail},
			{"Zone", metadata.Zone, "us-central1-a"},
			{"Hostname", metadata.Hostname, testHost},
			{"InstanceID", metadata.InstanceID, testInstanceID},
			{"universe", func() (string, error) { return metadata.Get("universe/universe-domain") }, "googleapis.com"},
			// Go follows the 301 and keeps the flavor header (same host).
			{"listing via redirect", func() (string, error) { return metadata.Get("instance/service-accounts") },
				"default/\n" + defaultEmail + "/\n" + otherEmail + "/\n"},
		}
		for _, c := range checks {
			got, err := c.get()
			if err != nil || got != c.want {
				t.Errorf("%s = %q, %v; want %q", c.name, got, err, c.want)
			}
		}
		scopes, err := metadata.Scopes(otherEmail)
		if err != nil || !cmp.Equal(scopes, []string{"s1", "s2"}) {
			t.Errorf("Scopes = %q, %v", scopes, err)
		}
		var nd metadata.NotDefinedError
		if _, err := metadata.Email("nobody@x.iam.gserviceaccount.com"); !errors.As(err, &nd) {
			t.Errorf("unknown account: %v, want NotDefinedError", err)
		}
	})

	t.Run("token path", func(t *testing.T) {
		raw, err := metadata.Get("instance/service-accounts/default/token?scopes=" + url.QueryEscape("a,b"))
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal([]byte(raw), &tok); err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != defaultToken || tok.TokenType != "Bearer" || tok.ExpiresIn < 2510 || tok.ExpiresIn > 2517 {
			t.Errorf("token answer %+v", tok)
		}
		if got := f.def.gotScopes(); !cmp.Equal(got[len(got)-1], []string{"a", "b"}) {
			t.Errorf("scopes %q, want [a b]", got)
		}
	})

	t.Run("identity path", func(t *testing.T) {
		aud := "https://svc.example/path?x=1&y=2"
		jwt, err := metadata.Get("instance/service-accounts/default/identity?format=full&audience=" + url.QueryEscape(aud))
		if err != nil {
			t.Fatal(err)
		}
		if calls := f.def.gotID(); len(calls) == 0 || calls[len(calls)-1] != (idCall{aud, "full", false}) {
			t.Errorf("ID token calls %+v", calls)
		}
		if jwt != fakeJWT(aud, time.Unix(jwtExp(t, jwt), 0)) {
			t.Errorf("ID token %q is not the source's", jwt)
		}
	})

	t.Run("ComputeTokenSource", func(t *testing.T) {
		start := time.Now()
		tok, err := google.ComputeTokenSource("").Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != defaultToken || !expiresWithin(tok.Expiry, start, time.Now()) {
			t.Errorf("token %q expiring %v, want %q expiring in %v", tok.AccessToken, tok.Expiry, defaultToken, lifetime)
		}
		tok, err = google.ComputeTokenSource(otherEmail, "x", "y").Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != otherToken {
			t.Errorf("other account token %q", tok.AccessToken)
		}
		if got := f.other.gotScopes(); !cmp.Equal(got[len(got)-1], []string{"x", "y"}) {
			t.Errorf("scopes %q, want [x y]", got)
		}
	})

	t.Run("FindDefaultCredentials", func(t *testing.T) {
		ctx := context.Background()
		start := time.Now()
		creds, err := google.FindDefaultCredentials(ctx, "https://www.googleapis.com/auth/devstorage.read_only")
		if err != nil {
			t.Fatal(err)
		}
		if creds.ProjectID != testProject {
			t.Errorf("ProjectID %q", creds.ProjectID)
		}
		tok, err := creds.TokenSource.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != defaultToken || !expiresWithin(tok.Expiry, start, time.Now()) {
			t.Errorf("token %q expiring %v", tok.AccessToken, tok.Expiry)
		}
		if got := f.def.gotScopes(); !cmp.Equal(got[len(got)-1], []string{"https://www.googleapis.com/auth/devstorage.read_only"}) {
			t.Errorf("scopes %q", got)
		}
		if ud, err := creds.GetUniverseDomain(); err != nil || ud != "googleapis.com" {
			t.Errorf("universe %q, %v", ud, err)
		}
	})

	t.Run("denied fails fast", func(t *testing.T) {
		f.def.setErr(errorf("no binding: %w", gcemeta.ErrPermissionDenied))
		defer f.def.setErr(nil)
		start := time.Now()
		_, err := metadata.Get("instance/service-accounts/default/token")
		var me *metadata.Error
		if !errors.As(err, &me) || me.Code != 403 {
			t.Fatalf("err %v, want a 403 metadata.Error", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a 403 took %v: the client retried it", d)
		}
	})
}

func jwtExp(t *testing.T, jwt string) int64 {
	t.Helper()
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(decodeSegment(t, jwt, 1), &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Exp
}
