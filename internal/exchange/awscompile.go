package exchange

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/awspolicy"
	"github.com/keylessdev/keyless/internal/config"
)

// AWSOIDCProvider is a compiled IAM OIDC provider
// (arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH).
type AWSOIDCProvider struct {
	ARN, AccountID, URL string
	ClientIDs           []string
}

// AWSRole is a compiled IAM role with its trust policy parsed once.
type AWSRole struct {
	ARN, AccountID, Name, Path string
	MaxSessionDuration         time.Duration
	Trust                      *awspolicy.Policy
}

// AWSRole returns the role with the given ARN.
func (s *Snapshot) AWSRole(arn string) *AWSRole { return s.awsRoles[arn] }

// AWSOIDCProvider returns the IAM OIDC provider with the given ARN.
func (s *Snapshot) AWSOIDCProvider(arn string) *AWSOIDCProvider { return s.awsProviders[arn] }

// oidcProviderARN is the ARN AWS gives an IAM OIDC provider: the issuer URL without
// its scheme.
func oidcProviderARN(account, url string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")
}

// compileAWS parses every trust policy and checks that each Federated principal names an
// OIDC provider configured in the role's account. The AWS dialect (issue 3) serves from
// this; compiling it now makes a broken trust policy a config error at load.
func (s *Snapshot) compileAWS(a *config.AWS) config.Problems {
	var probs config.Problems
	add := func(path, format string, args ...any) {
		probs = append(probs, config.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	for ai, acct := range a.Accounts {
		ap := fmt.Sprintf("aws.accounts[%d]", ai)
		for _, pc := range acct.OpenIDConnectProviders {
			p := &AWSOIDCProvider{ARN: oidcProviderARN(acct.AccountID, pc.URL), AccountID: acct.AccountID, URL: pc.URL,
				ClientIDs: append([]string(nil), pc.ClientIDList...)}
			s.awsProviders[p.ARN] = p
		}
		for ri, rc := range acct.Roles {
			rp := fmt.Sprintf("%s.roles[%d].assumeRolePolicyDocument", ap, ri)
			path := rc.Path
			if path == "" {
				path = "/"
			}
			role := &AWSRole{AccountID: acct.AccountID, Name: rc.RoleName, Path: path,
				ARN: "arn:aws:iam::" + acct.AccountID + ":role" + path + rc.RoleName}
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
			s.awsRoles[role.ARN] = role
		}
	}
	return probs
}
