package iam

import (
	"fmt"
	"strings"
)

// Host and URI prefixes Google clients use. Audiences keep the literal
// iam.googleapis.com host even when keyless serves them (clients derive the
// project number and workforce-ness from that form).
const (
	iamHost         = "iam.googleapis.com"
	audiencePrefix  = "//" + iamHost + "/"
	httpsAudPrefix  = "https://" + iamHost + "/"
	saEmailDomain   = ".iam.gserviceaccount.com"
	gkePoolSuffix   = ".svc.id.goog"
	maxAudienceLen  = 1024
	maxNameLen      = 512
	maxUniqueIDLen  = 32
	maxEmailLocal   = 64
	maxHostnameLen  = 253
	maxDNSLabelLen  = 63
	maxKSANameLen   = 253
	maxK8sNamespace = 63
)

// PoolName is a workload identity pool:
// projects/{number}/locations/global/workloadIdentityPools/{pool}.
// Values from this package's parsers are always valid; the zero value names nothing.
type PoolName struct {
	ProjectNumber string
	PoolID        string
}

func (p PoolName) String() string {
	return "projects/" + p.ProjectNumber + "/locations/global/workloadIdentityPools/" + p.PoolID
}

// ProviderName is a workload identity pool provider: PoolName + /providers/{provider}.
type ProviderName struct {
	Pool       PoolName
	ProviderID string
}

func (p ProviderName) String() string { return p.Pool.String() + "/providers/" + p.ProviderID }

// Audience is the STS audience form "//iam.googleapis.com/projects/...".
// It is also one of the two default subject-token audiences (SPEC §5.1).
func (p ProviderName) Audience() string { return audiencePrefix + p.String() }

// HTTPSAudience is the other default subject-token audience,
// "https://iam.googleapis.com/projects/...".
func (p ProviderName) HTTPSAudience() string { return httpsAudPrefix + p.String() }

// PrincipalURI names one federated subject:
// principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/subject/S.
func PrincipalURI(pool PoolName, subject string) string {
	return "principal://" + iamHost + "/" + pool.String() + "/subject/" + subject
}

// ServiceAccountEmail is accountID@projectID.iam.gserviceaccount.com.
func ServiceAccountEmail(accountID, projectID string) string {
	return accountID + "@" + projectID + saEmailDomain
}

// GKEPoolID is the id of the GKE-style pool of a project, "PROJECT_ID.svc.id.goog".
func GKEPoolID(projectID string) string { return projectID + gkePoolSuffix }

// gkePoolProject returns the project id of a GKE-style pool id.
func gkePoolProject(poolID string) (string, bool) {
	p, ok := strings.CutSuffix(poolID, gkePoolSuffix)
	if !ok || ValidateProjectID(p) != nil {
		return "", false
	}
	return p, true
}

// ValidateProjectNumber accepts 6 to 20 decimal digits without a leading zero
// (one spelling per project, so exact string comparison stays sound).
func ValidateProjectNumber(n string) error {
	if len(n) < 6 || len(n) > 20 || !allDigits(n) {
		return errorf(ErrInvalidName, "project number %s: must be 6-20 digits", quoteTrunc(n))
	}
	if n[0] == '0' {
		return errorf(ErrInvalidName, "project number %s: must not start with 0", quoteTrunc(n))
	}
	return nil
}

// ValidateProjectID accepts Google project ids: 6-30 characters of [a-z0-9-],
// starting with a letter and not ending with a hyphen. Domain-scoped ids
// ("example.com:p") are not supported.
func ValidateProjectID(id string) error {
	if len(id) < 6 || len(id) > 30 || !isLower(id[0]) || id[len(id)-1] == '-' || !allOf(id, isIDChar) {
		return errorf(ErrInvalidName, "project id %s: must be 6-30 characters of [a-z0-9-], start with a letter and not end with '-'", quoteTrunc(id))
	}
	return nil
}

// ValidatePoolID accepts a workload identity pool id as Google documents it
// (4-32 characters of [a-z0-9-], not starting with the reserved "gcp-"; a
// leading letter is NOT required), or the GKE-style pool id
// "PROJECT_ID.svc.id.goog" that the serviceAccount:PROJECT.svc.id.goog[NS/KSA]
// member form refers to.
func ValidatePoolID(id string) error {
	if strings.HasSuffix(id, gkePoolSuffix) {
		if _, ok := gkePoolProject(id); !ok {
			return errorf(ErrInvalidName, "workload identity pool id %s: a GKE-style pool id is PROJECT_ID.svc.id.goog with a valid project id", quoteTrunc(id))
		}
		return nil
	}
	return validateWIFID("workload identity pool id", id)
}

// ValidateProviderID accepts 4-32 characters of [a-z0-9-], not starting with "gcp-".
func ValidateProviderID(id string) error {
	return validateWIFID("workload identity pool provider id", id)
}

func validateWIFID(what, id string) error {
	if len(id) < 4 || len(id) > 32 || !allOf(id, isIDChar) {
		return errorf(ErrInvalidName, "%s %s: must be 4-32 characters of [a-z0-9-]", what, quoteTrunc(id))
	}
	if strings.HasPrefix(id, "gcp-") {
		return errorf(ErrInvalidName, "%s %q: the prefix gcp- is reserved", what, id)
	}
	return nil
}

// ValidateAccountID accepts a service account id: 6-30 characters matching
// ^[a-z]([-a-z0-9]*[a-z0-9])$.
func ValidateAccountID(id string) error {
	if len(id) < 6 || len(id) > 30 || !isLower(id[0]) || id[len(id)-1] == '-' || !allOf(id, isIDChar) {
		return errorf(ErrInvalidName, "service account id %s: must be 6-30 characters of [a-z0-9-], start with a letter and not end with '-'", quoteTrunc(id))
	}
	return nil
}

// ValidateServiceAccountEmail accepts a lowercase service account email:
// a local part of 1-64 characters of [a-z0-9-] and a DNS domain of at least
// two labels. Upper case is rejected rather than folded, so equal members
// are equal strings.
func ValidateServiceAccountEmail(email string) error {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || len(local) > maxEmailLocal || !allOf(local, isIDChar) || !isHostname(domain, false) || !strings.Contains(domain, ".") {
		return errorf(ErrInvalidName, "service account email %s: must be lowercase LOCAL@DOMAIN with LOCAL of [a-z0-9-]", quoteTrunc(email))
	}
	return nil
}

// ParsePoolName parses "projects/{number}/locations/global/workloadIdentityPools/{pool}".
func ParsePoolName(s string) (PoolName, error) {
	const what = "workload identity pool name"
	if len(s) > maxNameLen {
		return PoolName{}, newParseError(what, s, fmt.Sprintf("longer than %d bytes", maxNameLen), ErrInvalidName)
	}
	pool, tail, err := parsePoolPath(s, "a resource name")
	if err != nil {
		return PoolName{}, wrapParse(what, s, err, ErrInvalidName)
	}
	if tail != "" {
		return PoolName{}, newParseError(what, s, fmt.Sprintf("unexpected %s after the pool id", quoteTrunc(tail)), ErrInvalidName)
	}
	return pool, nil
}

// ParseProviderName parses
// "projects/{number}/locations/global/workloadIdentityPools/{pool}/providers/{provider}"
// exactly: no host, no leading or trailing slash, the project by number.
func ParseProviderName(s string) (ProviderName, error) {
	const what = "provider name"
	if len(s) > maxNameLen {
		return ProviderName{}, newParseError(what, s, fmt.Sprintf("longer than %d bytes", maxNameLen), ErrInvalidName)
	}
	p, err := parseProviderPath(s, "a resource name")
	if err != nil {
		return ProviderName{}, wrapParse(what, s, err, ErrInvalidName)
	}
	return p, nil
}

// ParseAudience parses the STS `audience` parameter. Accepted forms:
//
//	//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X
//	https://iam.googleapis.com/projects/N/...   (same path)
//	//HOST[:PORT]/projects/N/...                (google-github-actions/auth builds
//	                                             //<its iam endpoint host>/...; the host is ignored)
//
// The project must be a number (ErrProjectNotNumber otherwise). Workforce
// audiences ("//iam.googleapis.com/locations/global/workforcePools/...") fail
// with ErrWorkforceUnsupported. The host is not part of the result: the
// provider is identified by the path alone, and the subject token's `aud` is
// checked separately (exactly) against the provider's allowed audiences.
func ParseAudience(aud string) (ProviderName, error) {
	const what = "audience"
	if len(aud) > maxAudienceLen {
		return ProviderName{}, newParseError(what, aud, fmt.Sprintf("longer than %d bytes", maxAudienceLen), ErrInvalidName)
	}
	var rest string
	switch {
	case strings.HasPrefix(aud, httpsAudPrefix):
		rest = aud[len(httpsAudPrefix):]
	case strings.HasPrefix(aud, "//"):
		host, r, ok := strings.Cut(aud[2:], "/")
		if !ok || !isHostPort(host) {
			return ProviderName{}, newParseError(what, aud, "expected //HOST/projects/... with a DNS host name", ErrInvalidName)
		}
		rest = r
	default:
		return ProviderName{}, newParseError(what, aud, "must start with "+audiencePrefix, ErrInvalidName)
	}
	p, err := parseProviderPath(rest, "the audience")
	if err != nil {
		return ProviderName{}, wrapParse(what, aud, err, ErrInvalidName)
	}
	return p, nil
}

// ServiceAccountRef is a parsed "projects/{project}/serviceAccounts/{account}".
// Exactly one of Email and UniqueID is set.
type ServiceAccountRef struct {
	Project  string // "-" (any project), a project id or a project number
	Email    string
	UniqueID string // decimal digits
}

// ParseServiceAccountResource parses the IAM Credentials / IAM admin resource
// "projects/-/serviceAccounts/EMAIL_OR_UNIQUE_ID". The project may also be a
// project id or number, and the '@' may be sent as %40 (Node's
// encodeURIComponent); no other escape is accepted.
func ParseServiceAccountResource(s string) (ServiceAccountRef, error) {
	const what = "service account resource"
	if len(s) > maxNameLen {
		return ServiceAccountRef{}, newParseError(what, s, fmt.Sprintf("longer than %d bytes", maxNameLen), ErrInvalidName)
	}
	rest, ok := strings.CutPrefix(s, "projects/")
	if !ok {
		return ServiceAccountRef{}, newParseError(what, s, "expected projects/-/serviceAccounts/EMAIL", ErrInvalidName)
	}
	project, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return ServiceAccountRef{}, newParseError(what, s, "expected projects/-/serviceAccounts/EMAIL", ErrInvalidName)
	}
	if project != "-" && ValidateProjectID(project) != nil && ValidateProjectNumber(project) != nil {
		return ServiceAccountRef{}, newParseError(what, s, fmt.Sprintf("projects/%s: expected -, a project id or a project number", project), ErrInvalidName)
	}
	account, ok := strings.CutPrefix(rest, "serviceAccounts/")
	if !ok || account == "" {
		return ServiceAccountRef{}, newParseError(what, s, "expected .../serviceAccounts/EMAIL_OR_UNIQUE_ID", ErrInvalidName)
	}
	if allDigits(account) {
		if len(account) > maxUniqueIDLen {
			return ServiceAccountRef{}, newParseError(what, s, "unique id too long", ErrInvalidName)
		}
		return ServiceAccountRef{Project: project, UniqueID: account}, nil
	}
	if strings.Count(account, "%40") == 1 && !strings.Contains(account, "@") {
		account = strings.Replace(account, "%40", "@", 1)
	}
	if err := ValidateServiceAccountEmail(account); err != nil {
		return ServiceAccountRef{}, wrapParse(what, s, err, ErrInvalidName)
	}
	return ServiceAccountRef{Project: project, Email: account}, nil
}

// parseProviderPath parses "projects/.../providers/X" with nothing after X.
func parseProviderPath(s, noun string) (ProviderName, error) {
	pool, tail, err := parsePoolPath(s, noun)
	if err != nil {
		return ProviderName{}, err
	}
	id, ok := strings.CutPrefix(tail, "/providers/")
	if !ok {
		if tail == "" {
			return ProviderName{}, errorf(ErrInvalidName, "missing /providers/{provider} after the pool")
		}
		return ProviderName{}, errorf(ErrInvalidName, "expected /providers/{provider} after the pool, found %s", quoteTrunc(tail))
	}
	if i := strings.IndexByte(id, '/'); i >= 0 {
		return ProviderName{}, errorf(ErrInvalidName, "unexpected %s after the provider id", quoteTrunc(id[i:]))
	}
	if err := ValidateProviderID(id); err != nil {
		return ProviderName{}, err
	}
	return ProviderName{Pool: pool, ProviderID: id}, nil
}

// parsePoolPath parses "projects/N/locations/global/workloadIdentityPools/P"
// and returns what follows P (empty or starting with '/'). noun completes
// the project-id hint: "<noun> names the project by number".
func parsePoolPath(s, noun string) (PoolName, string, error) {
	const shape = "expected projects/{number}/locations/global/workloadIdentityPools/{pool}"
	rest, ok := strings.CutPrefix(s, "projects/")
	if !ok {
		if strings.HasPrefix(s, "locations/") && strings.Contains(s, "/workforcePools/") {
			return PoolName{}, "", errorf(ErrWorkforceUnsupported, "workforce pools are not supported; keyless serves workload identity pools")
		}
		return PoolName{}, "", errorf(ErrInvalidName, shape)
	}
	project, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return PoolName{}, "", errorf(ErrInvalidName, shape)
	}
	if err := ValidateProjectNumber(project); err != nil {
		if ValidateProjectID(project) == nil {
			return PoolName{}, "", errorf(ErrProjectNotNumber, "projects/%s: %s names the project by number", project, noun)
		}
		return PoolName{}, "", err
	}
	rest, ok = strings.CutPrefix(rest, "locations/")
	if !ok {
		return PoolName{}, "", errorf(ErrInvalidName, shape)
	}
	loc, rest, _ := strings.Cut(rest, "/")
	if loc != "global" {
		return PoolName{}, "", errorf(ErrInvalidName, "locations/%s: the only location is global", quoteTrunc(loc))
	}
	if strings.HasPrefix(rest, "workforcePools/") {
		return PoolName{}, "", errorf(ErrWorkforceUnsupported, "workforce pools are not supported; keyless serves workload identity pools")
	}
	rest, ok = strings.CutPrefix(rest, "workloadIdentityPools/")
	if !ok {
		return PoolName{}, "", errorf(ErrInvalidName, shape)
	}
	poolID, tail := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		poolID, tail = rest[:i], rest[i:]
	}
	if err := ValidatePoolID(poolID); err != nil {
		return PoolName{}, "", err
	}
	return PoolName{ProjectNumber: project, PoolID: poolID}, tail, nil
}

// wrapParse turns an inner error into a *ParseError matching both the
// inner sentinel and kind.
func wrapParse(what, input string, inner error, kind error) *ParseError {
	return newParseError(what, input, inner.Error(), kind, inner)
}

func allDigits(s string) bool { return s != "" && allOf(s, isDigit) }

func allOf(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isLower(c byte) bool    { return 'a' <= c && c <= 'z' }
func isIDChar(c byte) bool   { return isLower(c) || isDigit(c) || c == '-' }
func isHostChar(c byte) bool { return isIDChar(c) || ('A' <= c && c <= 'Z') }

// isHostname reports whether s is a DNS name: dot-separated labels of
// 1-63 characters of letters, digits and '-', not starting or ending with
// '-'. Upper case is accepted only when allowUpper is set.
func isHostname(s string, allowUpper bool) bool {
	if s == "" || len(s) > maxHostnameLen {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > maxDNSLabelLen || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		ok := allOf(label, isIDChar)
		if allowUpper {
			ok = allOf(label, isHostChar)
		}
		if !ok {
			return false
		}
	}
	return true
}

// isHostPort accepts HOST or HOST:PORT with a DNS host and a decimal port.
func isHostPort(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && (len(port) == 0 || len(port) > 5 || !allDigits(port)) {
		return false
	}
	return isHostname(host, true)
}
