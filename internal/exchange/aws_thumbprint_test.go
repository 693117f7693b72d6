package exchange_test

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/credential/oidc"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/jwks"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// plainSources offers only Source, like a KeySources that knows nothing of thumbprints.
type plainSources struct{ c *jwks.Cache }

func (k plainSources) Source(issuer string) oidc.KeySource { return k.c.Source(issuer) }

// pinningSources also offers SourceWithThumbprints.
type pinningSources struct{ plainSources }

func (k pinningSources) SourceWithThumbprints(issuer string, tps []string) oidc.KeySource {
	return k.c.SourceWithThumbprints(issuer, tps)
}

var _ exchange.ThumbprintKeySources = pinningSources{}

// TestAssumeRoleWithThumbprintList: an IAM OIDC provider without jwksJson whose issuer's
// certificate no root trusts (the test issuer's self-signed one) verifies tokens when its
// thumbprintList pins that certificate, the last one the issuer presents.
func TestAssumeRoleWithThumbprintList(t *testing.T) {
	t.Parallel()
	var thumb string
	e := newEnv(t, func(c *config.Config, is *testissuer.Issuer) {
		keylesstest.WithAWS(c, is)
		sum := sha1.Sum(is.Certificate())
		thumb = strings.ToUpper(hex.EncodeToString(sum[:]))
		p := &c.AWS.Accounts[0].OpenIDConnectProviders[0]
		p.JWKSJSON, p.ThumbprintList = "", []string{strings.Repeat("0", 40), thumb}
	})
	tok := e.token(t, map[string]any{"aud": keylesstest.AWSClientID})
	for _, tc := range []struct {
		name   string
		keys   func(*jwks.Cache) exchange.KeySources
		thumbs []string
		ok     bool
	}{
		{"pinned", func(c *jwks.Cache) exchange.KeySources { return pinningSources{plainSources{c}} }, nil, true},
		{"wrong thumbprint", func(c *jwks.Cache) exchange.KeySources { return pinningSources{plainSources{c}} },
			[]string{strings.Repeat("ab", 20)}, false},
		{"key sources without thumbprint support", func(c *jwks.Cache) exchange.KeySources { return plainSources{c} }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := *e.cfg
			if tc.thumbs != nil {
				aws := *cfg.AWS
				aws.Accounts = append([]config.AWSAccount(nil), aws.Accounts...)
				aws.Accounts[0].OpenIDConnectProviders = append([]config.OpenIDConnectProvider(nil), aws.Accounts[0].OpenIDConnectProviders...)
				aws.Accounts[0].OpenIDConnectProviders[0].ThumbprintList = tc.thumbs
				cfg.AWS = &aws
			}
			cache := jwks.New(jwks.Options{RootCAs: x509.NewCertPool(), AllowPrivateNetworks: true, Timeout: 5 * time.Second})
			snap, probs := exchange.Compile(&cfg, tc.keys(cache))
			if len(probs) > 0 {
				t.Fatal(probs)
			}
			eng := exchange.New(snap, exchange.Options{Signer: e.keys, Auditor: e.audit, SessionKeys: e.keys})
			res, derr := eng.AssumeRoleWithWebIdentity(context.Background(), arwwi(tok), awsMeta)
			if tc.ok {
				if derr != nil || res == nil || res.Credentials.AccessKeyID == "" {
					t.Fatalf("res %+v, err %+v", res, derr)
				}
				return
			}
			if res != nil || derr == nil || derr.AWSCode != exchange.AWSIDPCommunicationError {
				t.Fatalf("res %+v, err %+v; want IDPCommunicationError", res, derr)
			}
		})
	}
	if thumb == "" {
		t.Fatal("mutate not run")
	}
}
