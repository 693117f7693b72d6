package config

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Google's identifier rules (IAM v1 and Resource Manager documentation).
var (
	projectIDRe     = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	projectNumberRe = regexp.MustCompile(`^[0-9]{12}$`)
	poolIDRe        = regexp.MustCompile(`^[a-z0-9-]{4,32}$`)
	saAccountIDRe   = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])$`)
	saUniqueIDRe    = regexp.MustCompile(`^[0-9]{21}$`)
	attributeNameRe = regexp.MustCompile(`^[a-z0-9_]+$`)
	awsAccountIDRe  = regexp.MustCompile(`^[0-9]{12}$`)
)

// Limits from the IAM v1 API (see reference/security-tests.md §2).
const (
	maxDisplayName       = 32
	maxDescription       = 256
	maxAudiences         = 10
	maxAudienceChars     = 256
	maxConditionChars    = 4096
	maxMappingChars      = 2048
	maxCustomAttributes  = 50
	maxAttributeName     = 100
	maxSADisplayName     = 100
	maxSADescription     = 256
	minSessionSeconds    = 120
	maxSessionSeconds    = 43200
	attributePrefix      = "attribute."
	orgPolicyConstraint  = "iam.workloadIdentityPoolProviders"
	googleSubjectKey     = "google.subject"
	googleGroupsKey      = "google.groups"
	defaultSubjectSample = "assertion.sub"
	durationFormatEx     = `a duration in seconds such as "3600s"`
)

func (v *validator) google(g *Google, allowedIssuers map[string]bool) {
	ids, numbers, uniqueIDs := unique{}, unique{}, unique{}
	for i, p := range g.Projects {
		pp := joinIndex("google.projects", i)
		switch {
		case p.ProjectID == "":
			v.add(joinField(pp, "projectId"), "is required (the project's id, such as my-project)")
		case !projectIDRe.MatchString(p.ProjectID):
			v.add(joinField(pp, "projectId"), "%q is not a valid project id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen", p.ProjectID)
		default:
			if first, dup := ids.claim(p.ProjectID, pp); dup {
				v.add(joinField(pp, "projectId"), "%q is already used by %s; project ids are unique", p.ProjectID, first)
			}
		}
		switch {
		case p.ProjectNumber == "":
			v.add(joinField(pp, "projectNumber"), "is required (the project's 12-digit number, written as a quoted string)")
		case !projectNumberRe.MatchString(p.ProjectNumber):
			v.add(joinField(pp, "projectNumber"), "%q is not a project number: Google project numbers are exactly 12 digits (gcloud projects describe PROJECT_ID --format='value(projectNumber)')", p.ProjectNumber)
		default:
			if first, dup := numbers.claim(p.ProjectNumber, pp); dup {
				v.add(joinField(pp, "projectNumber"), "%q is already used by %s; project numbers are unique", p.ProjectNumber, first)
			}
		}
		poolIDs := unique{}
		for j, pool := range p.WorkloadIdentityPools {
			v.pool(joinIndex(joinField(pp, "workloadIdentityPools"), j), pool, poolIDs, allowedIssuers)
		}
		saIDs := unique{}
		for j, sa := range p.ServiceAccounts {
			v.serviceAccount(joinIndex(joinField(pp, "serviceAccounts"), j), sa, saIDs, uniqueIDs)
		}
	}
}

// checkGoogleID applies the pool/provider id rule: 4 to 32 of [a-z0-9-], no "gcp-" prefix.
func (v *validator) checkGoogleID(path, id, what string, seen unique, scope string) {
	switch {
	case id == "":
		v.add(path, "is required (the %s id: 4 to 32 lowercase letters, digits or hyphens)", what)
	case !poolIDRe.MatchString(id):
		v.add(path, "%q is not a valid %s id: use 4 to 32 lowercase letters, digits or hyphens", id, what)
	case strings.HasPrefix(id, "gcp-"):
		v.add(path, "%q starts with \"gcp-\", which Google reserves; choose another %s id", id, what)
	default:
		if first, dup := seen.claim(id, path); dup {
			v.add(path, "%q is already used by %s; %s ids are unique within the %s", id, first, what, scope)
		}
	}
}

func (v *validator) pool(path string, pool WorkloadIdentityPool, ids unique, allowedIssuers map[string]bool) {
	v.checkGoogleID(joinField(path, "workloadIdentityPoolId"), pool.WorkloadIdentityPoolID, "pool", ids, "project")
	v.maxLen(joinField(path, "displayName"), pool.DisplayName, maxDisplayName)
	v.maxLen(joinField(path, "description"), pool.Description, maxDescription)
	if pool.SessionDuration != "" {
		v.durationRange(joinField(path, "sessionDuration"), pool.SessionDuration, minSessionSeconds, maxSessionSeconds)
	}
	providerIDs := unique{}
	for k, pr := range pool.Providers {
		v.provider(joinIndex(joinField(path, "providers"), k), pr, providerIDs, allowedIssuers)
	}
}

// durationRange checks a "Ns" duration lies within [lo, hi] seconds.
func (v *validator) durationRange(path, s string, lo, hi int) {
	d, err := ParseDuration(s)
	if err != nil {
		v.add(path, "%q is not %s", s, durationFormatEx)
		return
	}
	if secs := d.Seconds(); secs < float64(lo) || secs > float64(hi) {
		v.add(path, "%q is outside the allowed range %ds to %ds", s, lo, hi)
	}
}

func (v *validator) provider(path string, pr Provider, ids unique, allowedIssuers map[string]bool) {
	v.checkGoogleID(joinField(path, "workloadIdentityPoolProviderId"), pr.WorkloadIdentityPoolProviderID, "provider", ids, "pool")
	v.maxLen(joinField(path, "displayName"), pr.DisplayName, maxDisplayName)
	v.maxLen(joinField(path, "description"), pr.Description, maxDescription)
	v.maxLen(joinField(path, "attributeCondition"), pr.AttributeCondition, maxConditionChars)
	v.attributeMapping(joinField(path, "attributeMapping"), pr.AttributeMapping, pr.OIDC != nil)
	switch {
	case pr.OIDC == nil && pr.AWS == nil:
		v.add(path, "sets neither oidc nor aws; a provider trusts exactly one kind of credential")
	case pr.OIDC != nil && pr.AWS != nil:
		v.add(path, "sets both oidc and aws; a provider trusts exactly one kind of credential, so split it into two providers")
	case pr.OIDC != nil:
		v.oidc(joinField(path, "oidc"), pr.OIDC, allowedIssuers)
	default:
		ap := joinField(joinField(path, "aws"), "accountId")
		switch {
		case pr.AWS.AccountID == "":
			v.add(ap, "is required (the 12-digit AWS account id, quoted)")
		case !awsAccountIDRe.MatchString(pr.AWS.AccountID):
			v.add(ap, "%q is not an AWS account id: expected exactly 12 digits (quote it so leading zeros are kept)", pr.AWS.AccountID)
		}
	}
}

func (v *validator) oidc(path string, o *OIDC, allowedIssuers map[string]bool) {
	ip := joinField(path, "issuerUri")
	if o.IssuerURI == "" {
		v.add(ip, "is required (the issuer's URL, exactly as the tokens' iss claim spells it)")
	} else if msg := checkURL(o.IssuerURI, v.insecureHTTP); msg != "" {
		v.addMsg(ip, msg)
	} else if allowedIssuers != nil && !allowedIssuers[o.IssuerURI] {
		v.add(ip, "%q is not in orgPolicy.allowedIssuers (the %s constraint); add it there, or trust an allowed issuer", o.IssuerURI, orgPolicyConstraint)
	}
	ap := joinField(path, "allowedAudiences")
	if n := len(o.AllowedAudiences); n > maxAudiences {
		v.add(ap, "%d audiences, the limit is %d", n, maxAudiences)
	}
	for i, aud := range o.AllowedAudiences {
		if aud == "" {
			v.add(joinIndex(ap, i), "is empty; remove it or write the audience the tokens carry")
		}
		v.maxLen(joinIndex(ap, i), aud, maxAudienceChars)
	}
	v.jwks(joinField(path, "jwksJson"), o.JWKSJSON)
}

func (v *validator) attributeMapping(path string, m map[string]string, isOIDC bool) {
	custom := 0
	for _, key := range slices.Sorted(maps.Keys(m)) {
		kp, expr := joinKey(path, key), m[key]
		switch {
		case key == googleSubjectKey, key == googleGroupsKey:
		case strings.HasPrefix(key, attributePrefix):
			custom++
			name := key[len(attributePrefix):]
			switch {
			case name == "":
				v.add(kp, "names no attribute; write attribute.NAME with NAME of [a-z0-9_]")
			case chars(name) > maxAttributeName:
				v.add(kp, "attribute name is %d characters, the limit is %d", chars(name), maxAttributeName)
			case !attributeNameRe.MatchString(name):
				v.add(kp, "attribute name %q may use only lowercase letters, digits and underscores", name)
			}
		default:
			v.add(kp, "%q cannot be mapped; use google.subject, google.groups or attribute.NAME", key)
		}
		if strings.TrimSpace(expr) == "" {
			v.add(kp, "the mapping expression is empty; write a CEL expression over assertion, such as %s", defaultSubjectSample)
		}
		v.maxLen(kp, expr, maxMappingChars)
	}
	if custom > maxCustomAttributes {
		v.add(path, "%d custom attributes, the limit is %d", custom, maxCustomAttributes)
	}
	if _, ok := m[googleSubjectKey]; isOIDC && !ok {
		v.add(path, "OIDC providers must map google.subject (for example google.subject: %s)", defaultSubjectSample)
	}
}

func (v *validator) serviceAccount(path string, sa ServiceAccount, ids, uniqueIDs unique) {
	ap := joinField(path, "accountId")
	switch {
	case sa.AccountID == "":
		v.add(ap, "is required (the part of the email before @PROJECT.iam.gserviceaccount.com)")
	case chars(sa.AccountID) < 6 || chars(sa.AccountID) > 30 || !saAccountIDRe.MatchString(sa.AccountID):
		v.add(ap, "%q is not a valid service account id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen", sa.AccountID)
	default:
		if first, dup := ids.claim(sa.AccountID, path); dup {
			v.add(ap, "%q is already used by %s; service account ids are unique within the project", sa.AccountID, first)
		}
	}
	if sa.UniqueID != "" {
		up := joinField(path, "uniqueId")
		if !saUniqueIDRe.MatchString(sa.UniqueID) {
			v.add(up, "%q is not a service account unique id: expected exactly 21 digits (or leave it out)", sa.UniqueID)
		} else if first, dup := uniqueIDs.claim(sa.UniqueID, path); dup {
			v.add(up, "%q is already used by %s; unique ids are unique across all projects", sa.UniqueID, first)
		}
	}
	v.maxLen(joinField(path, "displayName"), sa.DisplayName, maxSADisplayName)
	v.maxLen(joinField(path, "description"), sa.Description, maxSADescription)
	if sa.IAMPolicy != nil {
		v.iamPolicy(joinField(path, "iamPolicy"), sa.IAMPolicy)
	}
}

func (v *validator) iamPolicy(path string, p *IAMPolicy) {
	if p.Version != 0 && p.Version != 1 && p.Version != 3 {
		v.add(joinField(path, "version"), "%d is not an IAM policy version; use 1, or 3 when a binding has a condition", p.Version)
	}
	for i, b := range p.Bindings {
		bp := joinIndex(joinField(path, "bindings"), i)
		if strings.TrimSpace(b.Role) == "" {
			v.add(joinField(bp, "role"), "is required (such as roles/iam.workloadIdentityUser)")
		}
		mp := joinField(bp, "members")
		if len(b.Members) == 0 {
			v.add(mp, "is empty; a binding grants its role to at least one member")
		}
		for j, m := range b.Members {
			if strings.TrimSpace(m) == "" {
				v.add(joinIndex(mp, j), "is empty; write a member such as principalSet://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/attribute.NAME/VALUE")
			}
		}
		if b.Condition != nil {
			cp := joinField(bp, "condition")
			if strings.TrimSpace(b.Condition.Expression) == "" {
				v.add(joinField(cp, "expression"), "is required in a condition (a CEL expression), or remove the condition")
			}
			if p.Version == 1 {
				v.add(cp, "conditional bindings need policy version 3, but iamPolicy.version is 1; set version: 3")
			}
		}
	}
}
