package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	thumbprintRe = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	roleNameRe   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rolePathRe   = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
	guidRe       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	ficNameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)
)

// Limits from the AWS IAM API and Microsoft Graph.
const (
	minTokenLifetime    = 60
	maxTokenLifetime    = 43200
	maxClientIDs        = 100
	maxClientIDChars    = 255
	maxThumbprints      = 5
	maxRolePathChars    = 512
	minRoleSession      = 3600
	maxRoleSession      = 43200
	maxFICsPerApp       = 20
	maxFICSubjectChars  = 600
	maxFICAudienceChars = 600
	maxPolicyDepth      = 32
)

func (v *validator) server(s *Server) {
	switch s.SigningAlg {
	case "", "ES256", "RS256", "EdDSA":
	default:
		v.add("server.signingAlg", "%q is not supported; use ES256 (the default), RS256 or EdDSA", s.SigningAlg)
	}
	if s.AccessTokenLifetime != "" {
		v.durationRange("server.accessTokenLifetime", s.AccessTokenLifetime, minTokenLifetime, maxTokenLifetime)
	}
	for i, h := range s.AWSSTSHosts {
		if !stsHostRe.MatchString(h) {
			v.add(joinIndex("server.awsStsHosts", i), "%q is not an AWS STS host name: expected a lowercase DNS name under amazonaws.com or amazonaws.com.cn, without scheme or port", h)
		}
	}
}

// stsHostRe: a lowercase DNS name under AWS's domains (operators may name FIPS, China and
// VPC endpoint hosts; anything else would let signed requests leave for other services).
var stsHostRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+amazonaws\.com(\.cn)?$`)

func (v *validator) awsAccountID(path, id string) bool {
	switch {
	case id == "":
		v.add(path, "is required (the 12-digit AWS account id, quoted)")
	case !awsAccountIDRe.MatchString(id):
		v.add(path, "%q is not an AWS account id: expected exactly 12 digits (quote it so leading zeros are kept)", id)
	default:
		return true
	}
	return false
}

// aws checks the AWS section. The org policy's allowed issuers bind IAM OIDC providers
// too: one organisation-wide list of trusted issuers, whichever dialect trusts them.
func (v *validator) aws(a *AWS, allowedIssuers map[string]bool) {
	accounts := unique{}
	for i, acct := range a.Accounts {
		ap := joinIndex("aws.accounts", i)
		if v.awsAccountID(joinField(ap, "accountId"), acct.AccountID) {
			if first, dup := accounts.claim(acct.AccountID, ap); dup {
				v.add(joinField(ap, "accountId"), "%q is already used by %s; account ids are unique", acct.AccountID, first)
			}
		}
		urls := unique{}
		for j, p := range acct.OpenIDConnectProviders {
			pp := joinIndex(joinField(ap, "openIDConnectProviders"), j)
			v.openIDConnectProvider(pp, p, urls)
			if allowedIssuers != nil && p.URL != "" && checkURL(p.URL, v.insecureHTTP) == "" && !allowedIssuers[p.URL] {
				v.add(joinField(pp, "url"), "%q is not in orgPolicy.allowedIssuers; add it there, or trust an allowed issuer", p.URL)
			}
		}
		names := unique{}
		for j, r := range acct.Roles {
			v.role(joinIndex(joinField(ap, "roles"), j), r, names)
		}
	}
}

func (v *validator) openIDConnectProvider(path string, p OpenIDConnectProvider, urls unique) {
	up := joinField(path, "url")
	if p.URL == "" {
		v.add(up, "is required (the issuer URL, https://HOST[/PATH])")
	} else if msg := checkURL(p.URL, v.insecureHTTP); msg != "" {
		v.addMsg(up, msg)
	} else if first, dup := urls.claim(p.URL, path); dup {
		v.add(up, "%q is already used by %s; an account has one provider per URL", p.URL, first)
	}
	cp := joinField(path, "clientIDList")
	if n := len(p.ClientIDList); n > maxClientIDs {
		v.add(cp, "%d client ids, the limit is %d", n, maxClientIDs)
	}
	for i, id := range p.ClientIDList {
		if id == "" {
			v.add(joinIndex(cp, i), "is empty; write the audience the tokens carry, such as sts.amazonaws.com")
		}
		v.maxLen(joinIndex(cp, i), id, maxClientIDChars)
	}
	tp := joinField(path, "thumbprintList")
	if n := len(p.ThumbprintList); n > maxThumbprints {
		v.add(tp, "%d thumbprints, the limit is %d", n, maxThumbprints)
	}
	for i, t := range p.ThumbprintList {
		if !thumbprintRe.MatchString(t) {
			v.add(joinIndex(tp, i), "%q is not a certificate thumbprint: expected 40 hexadecimal characters (a SHA-1 fingerprint)", t)
		}
	}
	v.jwks(joinField(path, "jwksJson"), p.JWKSJSON)
}

func (v *validator) role(path string, r Role, names unique) {
	np := joinField(path, "roleName")
	switch {
	case r.RoleName == "":
		v.add(np, "is required")
	case !roleNameRe.MatchString(r.RoleName):
		v.add(np, "%q is not a valid role name: use 1 to 64 letters, digits or the characters +=,.@_-", r.RoleName)
	default:
		if first, dup := names.claim(strings.ToLower(r.RoleName), path); dup {
			v.add(np, "%q is already used by %s; role names are unique within an account, regardless of case", r.RoleName, first)
		}
	}
	if r.Path != "" && (len(r.Path) > maxRolePathChars || !rolePathRe.MatchString(r.Path)) {
		v.add(joinField(path, "path"), "%q is not a role path: expected \"/\" or \"/SEGMENTS/\" (starting and ending with a slash, up to %d characters)", r.Path, maxRolePathChars)
	}
	if d := r.MaxSessionDuration; d != 0 && (d < minRoleSession || d > maxRoleSession) {
		v.add(joinField(path, "maxSessionDuration"), "%d is outside %d to %d seconds (leave it out for the default, %d)", d, minRoleSession, maxRoleSession, minRoleSession)
	}
	dp := joinField(path, "assumeRolePolicyDocument")
	if len(r.AssumeRolePolicyDocument) == 0 {
		v.add(dp, "is required: the trust policy that says who may assume the role")
	} else if err := checkJSONObject(r.AssumeRolePolicyDocument); err != nil {
		v.addMsg(dp, err.Error())
	}
}

// checkJSONObject accepts a single JSON object without duplicate member names (whose meaning
// would depend on the parser).
func checkJSONObject(doc []byte) error {
	trimmed := bytes.TrimSpace(doc)
	if !json.Valid(trimmed) {
		return errors.New("is not valid JSON")
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("must be a JSON object (a mapping with Version and Statement)")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	return checkDuplicates(dec, 0)
}

// checkDuplicates reads one JSON value from dec and reports duplicate member names in it.
func checkDuplicates(dec *json.Decoder, depth int) error {
	if depth > maxPolicyDepth {
		return fmt.Errorf("is nested more than %d levels deep", maxPolicyDepth)
	}
	tok, err := dec.Token() // the caller checked json.Valid, so tokens do not fail
	if err != nil {
		return errors.New("is not valid JSON")
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return errors.New("is not valid JSON")
			}
			key, _ := kt.(string)
			if seen[key] {
				return fmt.Errorf("has the member %q twice in one object; keep one", shown(key))
			}
			seen[key] = true
			if err := checkDuplicates(dec, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := checkDuplicates(dec, depth+1); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // closing delimiter
	return err
}

func (v *validator) azure(a *Azure) {
	tenants := unique{}
	for i, t := range a.Tenants {
		tp := joinIndex("azure.tenants", i)
		if v.guid(joinField(tp, "tenantId"), t.TenantID, "tenant") {
			if first, dup := tenants.claim(strings.ToLower(t.TenantID), tp); dup {
				v.add(joinField(tp, "tenantId"), "%q is already used by %s; tenant ids are unique", t.TenantID, first)
			}
		}
		clients := unique{}
		for j, app := range t.Applications {
			v.application(joinIndex(joinField(tp, "applications"), j), app, clients)
		}
	}
}

func (v *validator) guid(path, id, what string) bool {
	switch {
	case id == "":
		v.add(path, "is required (the %s's GUID)", what)
	case !guidRe.MatchString(id):
		v.add(path, "%q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", id)
	default:
		return true
	}
	return false
}

func (v *validator) application(path string, app AzureApplication, clients unique) {
	if v.guid(joinField(path, "clientId"), app.ClientID, "application (client)") {
		if first, dup := clients.claim(strings.ToLower(app.ClientID), path); dup {
			v.add(joinField(path, "clientId"), "%q is already used by %s; client ids are unique within a tenant", app.ClientID, first)
		}
	}
	fp := joinField(path, "federatedIdentityCredentials")
	if n := len(app.FederatedIdentityCredentials); n > maxFICsPerApp {
		v.add(fp, "%d federated identity credentials, the limit is %d", n, maxFICsPerApp)
	}
	names, pairs := unique{}, unique{}
	for i, f := range app.FederatedIdentityCredentials {
		v.fic(joinIndex(fp, i), f, names, pairs)
	}
}

func (v *validator) fic(path string, f FederatedIdentityCredential, names, pairs unique) {
	np := joinField(path, "name")
	switch {
	case f.Name == "":
		v.add(np, "is required")
	case !ficNameRe.MatchString(f.Name):
		v.add(np, "%q is not a valid credential name: use 3 to 120 letters, digits, hyphens or underscores, starting with a letter or digit", f.Name)
	default:
		if first, dup := names.claim(f.Name, path); dup {
			v.add(np, "%q is already used by %s; credential names are unique within an application", f.Name, first)
		}
	}
	ip := joinField(path, "issuer")
	if f.Issuer == "" {
		v.add(ip, "is required (the issuer URL, exactly as the tokens' iss claim spells it)")
	} else if msg := checkURL(f.Issuer, v.insecureHTTP); msg != "" {
		v.addMsg(ip, msg)
	}
	sp := joinField(path, "subject")
	if f.Subject == "" {
		v.add(sp, "is required (the exact sub claim the tokens carry)")
	}
	v.maxLen(sp, f.Subject, maxFICSubjectChars)
	if f.Issuer != "" && f.Subject != "" {
		if first, dup := pairs.claim(f.Issuer+"\x00"+f.Subject, path); dup {
			v.add(path, "has the same issuer and subject as %s; Entra allows one credential per issuer and subject", first)
		}
	}
	ap := joinField(path, "audiences")
	switch n := len(f.Audiences); {
	case n > 1:
		v.add(ap, "lists %d audiences; Entra accepts exactly one (leave it out for the default, %s)", n, DefaultAzureAudience)
	case n == 1:
		if f.Audiences[0] == "" {
			v.add(joinIndex(ap, 0), "is empty; write the audience, or leave audiences out for the default, %s", DefaultAzureAudience)
		}
		v.maxLen(joinIndex(ap, 0), f.Audiences[0], maxFICAudienceChars)
	}
}
