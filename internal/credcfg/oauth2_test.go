package credcfg

import (
	"bytes"
	"context"
	"testing"

	"golang.org/x/oauth2/google"
)

// allGeneratedOptions is every option set the other tests generate from.
func allGeneratedOptions(t *testing.T) map[string]Options {
	t.Helper()
	out := map[string]Options{}
	for _, c := range goldenCases() {
		out["golden/"+c.file] = c.opts
		o := c.opts
		o.KeylessServer = "https://keyless.example.com"
		out["keyless/"+c.file] = o
	}
	for _, c := range liveCases() {
		o := c.opts
		var err error
		if c.headers != "" {
			if o.CredentialSourceHeaders, err = ParseHeaders(c.headers); err != nil {
				t.Fatal(err)
			}
		}
		out["live/"+c.name] = o
	}
	return out
}

// google.CredentialsFromJSONWithType builds a token source from every
// generated config without fetching a token (construction never touches
// the network for external_account). x/oauth2 v0.37 parses certificate
// sources but could not fetch with them; they are still accepted here.
func TestGoOAuth2AcceptsEveryGeneratedConfig(t *testing.T) {
	t.Parallel()
	for name, o := range allGeneratedOptions(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := google.CredentialsFromJSONWithType(context.Background(), cfg, google.ExternalAccount, "https://www.googleapis.com/auth/cloud-platform")
			if err != nil {
				t.Fatalf("x/oauth2 refused the config: %v\n%s", err, cfg)
			}
			wantUD := o.UniverseDomain
			if wantUD == "" {
				wantUD = DefaultUniverseDomain
			}
			if ud, err := creds.GetUniverseDomain(); err != nil || ud != wantUD {
				t.Errorf("universe domain = %q, %v; want %q", ud, err, wantUD)
			}
		})
	}
}

// The acceptance check above can fail: a config with the wrong type or no
// audience is refused.
func TestGoOAuth2AcceptanceCheckCanFail(t *testing.T) {
	t.Parallel()
	cfg, err := Generate(goldenCases()[0].opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, broken := range [][]byte{
		bytes.Replace(cfg, []byte(`"external_account"`), []byte(`"service_account"`), 1),
		bytes.Replace(cfg, []byte(`"audience": "//iam`), []byte(`"audiencex": "//iam`), 1),
	} {
		if _, err := google.CredentialsFromJSONWithType(context.Background(), broken, google.ExternalAccount); err == nil {
			t.Errorf("x/oauth2 accepted a broken config:\n%s", broken)
		}
	}
}
