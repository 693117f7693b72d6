package exchange

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/awspolicy"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/credential/oidc"
	"github.com/keylessdev/keyless/internal/jose"
)

// AWSOIDCProvider is a compiled IAM OIDC provider
// (arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH).
type AWSOIDCProvider struct {
	ARN, AccountID, URL string
	ClientIDs           []string
	// KeyPrefix is the condition-key prefix: the URL without https://, keeping any
	// path and trailing slash (HOST/PATH:sub).
	KeyPrefix string
	Policy    *oidc.Policy
	Keys      oidc.KeySource
}

// ThumbprintKeySources is implemented by KeySources that can also trust an issuer's TLS
// certificate by the SHA-1 thumbprint of the last certificate it presents (an IAM OIDC
// provider's thumbprintList; see jwks.Cache.SourceWithThumbprints). Without it, providers
// with thumbprints fetch keys with standard certificate verification only.
type ThumbprintKeySources interface {
	KeySources
	SourceWithThumbprints(issuer string, thumbprints []string) oidc.KeySource
}

// AWSRole is a compiled IAM role with its trust policy parsed once.
type AWSRole struct {
	ARN, AccountID, Name, Path string
	// RoleID is the role's unique id (AROA + 17), derived from its ARN so every
	// replica agrees.
	RoleID             string
	MaxSessionDuration time.Duration
	Trust              *awspolicy.Policy
}

// AWSRole returns the role with the given ARN.
func (s *Snapshot) AWSRole(arn string) *AWSRole { return s.awsRoles[arn] }

// Warnings lists configuration that is valid but risky (over-broad trust policies),
// each prefixed with its config path.
func (s *Snapshot) Warnings() []string { return s.warnings }

// AWSOIDCProvider returns the IAM OIDC provider with the given ARN.
func (s *Snapshot) AWSOIDCProvider(arn string) *AWSOIDCProvider { return s.awsProviders[arn] }

// awsProviderForIssuer finds the IAM OIDC provider of account whose url is iss (AWS
// compares the issuer without its scheme, exactly and case-sensitively).
func (s *Snapshot) awsProviderForIssuer(account, iss string) *AWSOIDCProvider {
	return s.awsByIssuer[account+" "+iss]
}

// awsRoleID derives a role's unique id: AROA and 17 characters of base32 of a hash of
// its ARN.
func awsRoleID(arn string) string {
	h := sha256.Sum256([]byte("keyless-aws-role:" + arn))
	return "AROA" + base32.StdEncoding.EncodeToString(h[:])[:17]
}

// awsAlgorithms are the signature algorithms STS accepts on web identity tokens.
var awsAlgorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}

// oidcProviderARN is the ARN AWS gives an IAM OIDC provider: the issuer URL without
// its scheme.
func oidcProviderARN(account, url string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + strings.TrimSuffix(stripScheme(url), "/")
}

// stripScheme removes https:// (AWS's only scheme) or http:// (loopback issuers that
// server.allowInsecureHTTPIssuers admits in development).
func stripScheme(url string) string {
	if s, ok := strings.CutPrefix(url, "https://"); ok {
		return s
	}
	return strings.TrimPrefix(url, "http://")
}

// compileAWS parses every trust policy and checks that each Federated principal names an
// OIDC provider configured in the role's account. The AWS dialect (issue 3) serves from
// this; compiling it now makes a broken trust policy a config error at load.
func (s *Snapshot) compileAWS(a *config.AWS, keys KeySources) config.Problems {
	var probs config.Problems
	add := func(path, format string, args ...any) {
		probs = append(probs, config.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	for ai, acct := range a.Accounts {
		ap := fmt.Sprintf("aws.accounts[%d]", ai)
		for pi, pc := range acct.OpenIDConnectProviders {
			p := &AWSOIDCProvider{ARN: oidcProviderARN(acct.AccountID, pc.URL), AccountID: acct.AccountID, URL: pc.URL,
				ClientIDs: append([]string(nil), pc.ClientIDList...), KeyPrefix: stripScheme(pc.URL)}
			p.Policy = &oidc.Policy{Issuer: pc.URL, Audiences: p.ClientIDs, AllowedAlgs: awsAlgorithms,
				Leeway: 60 * time.Second, MaxLifetime: -1, MaxTokenBytes: awsMaxWebIdentityToken}
			if pc.JWKSJSON != "" {
				set, dropped, err := jose.ParseKeySet([]byte(pc.JWKSJSON))
				switch {
				case err != nil:
					add(fmt.Sprintf("%s.openIDConnectProviders[%d].jwksJson", ap, pi), "%v", err)
				case len(dropped) > 0:
					for _, d := range dropped {
						add(fmt.Sprintf("%s.openIDConnectProviders[%d].jwksJson", ap, pi), "key %d (kid %q) would be ignored: %s", d.Index, d.KID, d.Reason)
					}
				default:
					p.Keys = oidc.StaticKeys{Set: set}
				}
			} else if ts, ok := keys.(ThumbprintKeySources); ok && len(pc.ThumbprintList) > 0 {
				p.Keys = ts.SourceWithThumbprints(pc.URL, pc.ThumbprintList)
			} else if keys != nil {
				p.Keys = keys.Source(pc.URL)
			}
			s.awsProviders[p.ARN] = p
			s.awsByIssuer[acct.AccountID+" "+pc.URL] = p
		}
		for ri, rc := range acct.Roles {
			rp := fmt.Sprintf("%s.roles[%d].assumeRolePolicyDocument", ap, ri)
			path := rc.Path
			if path == "" {
				path = "/"
			}
			role := &AWSRole{AccountID: acct.AccountID, Name: rc.RoleName, Path: path,
				ARN: "arn:aws:iam::" + acct.AccountID + ":role" + path + rc.RoleName}
			role.RoleID = awsRoleID(role.ARN)
			role.MaxSessionDuration = time.Duration(rc.MaxSessionDuration) * time.Second
			if role.MaxSessionDuration == 0 {
				role.MaxSessionDuration = time.Hour
			}
			pol, err := awspolicy.Parse(rc.AssumeRolePolicyDocument)
			if err != nil {
				var pe *awspolicy.ParseError
				if errors.As(err, &pe) && pe.Path != "" {
					add(rp, "%s: %s", pe.Path, pe.Msg)
				} else {
					add(rp, "%v", err)
				}
				continue
			}
			for _, fed := range pol.FederatedPrincipals() {
				switch {
				case !strings.HasPrefix(fed, "arn:aws:iam::"):
					add(rp, "Principal.Federated %q: keyless trusts IAM OIDC providers only (arn:aws:iam::ACCOUNT:oidc-provider/HOST)", fed)
				case !strings.HasPrefix(fed, "arn:aws:iam::"+acct.AccountID+":oidc-provider/"):
					add(rp, "Principal.Federated %q is not an OIDC provider of account %s", fed, acct.AccountID)
				case s.awsProviders[fed] == nil:
					add(rp, "Principal.Federated %q: no such provider in aws.accounts[%d].openIDConnectProviders", fed, ai)
				}
			}
			role.Trust = pol
			for _, w := range pol.Lint() {
				s.warnings = append(s.warnings, rp+"."+w)
			}
			s.awsRoles[role.ARN] = role
		}
	}
	return probs
}
