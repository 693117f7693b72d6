package iam

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on member parts. A member that exceeds one can never match a
// caller (mapped values are bounded by SPEC §5.1), so it is a config error.
const (
	MaxSubjectBytes   = 127  // google.subject, in UTF-8 bytes
	MaxAttrNameLen    = 100  // custom attribute key
	MaxAttrValueBytes = 8192 // all mapped attributes together are at most 8 KB
	maxMemberLen      = MaxAttrValueBytes + 512
)

// MemberKind is the type of a policy member.
type MemberKind int

const (
	KindInvalid               MemberKind = iota
	KindPrincipal                        // principal://.../P/subject/S
	KindPrincipalSetGroup                // principalSet://.../P/group/G
	KindPrincipalSetAttribute            // principalSet://.../P/attribute.NAME/VALUE
	KindPrincipalSetAll                  // principalSet://.../P/*
	KindServiceAccount                   // serviceAccount:EMAIL
	KindGKEWorkload                      // serviceAccount:PROJECT.svc.id.goog[NS/KSA]
	KindUser                             // user:EMAIL (parsed, never matches a workload)
	KindGroup                            // group:EMAIL (parsed, never matches a workload)
	KindDomain                           // domain:DOMAIN (parsed, never matches a workload)
	KindAllUsers                         // allUsers (parsed, never matches)
	KindAllAuthenticatedUsers            // allAuthenticatedUsers (parsed, never matches)
)

var kindNames = [...]string{
	KindInvalid:               "invalid",
	KindPrincipal:             "principal",
	KindPrincipalSetGroup:     "principalSet group",
	KindPrincipalSetAttribute: "principalSet attribute",
	KindPrincipalSetAll:       "principalSet pool",
	KindServiceAccount:        "serviceAccount",
	KindGKEWorkload:           "GKE workload",
	KindUser:                  "user",
	KindGroup:                 "group",
	KindDomain:                "domain",
	KindAllUsers:              "allUsers",
	KindAllAuthenticatedUsers: "allAuthenticatedUsers",
}

func (k MemberKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("MemberKind(%d)", int(k))
	}
	return kindNames[k]
}

// Member is a parsed policy member. Only the fields of its Kind are set, so
// two Members are equal (==) exactly when their String() forms are equal.
type Member struct {
	Kind      MemberKind
	Pool      PoolName // principal and principalSet kinds
	Subject   string   // KindPrincipal
	Group     string   // KindPrincipalSetGroup
	AttrName  string   // KindPrincipalSetAttribute, without the "attribute." prefix
	AttrValue string   // KindPrincipalSetAttribute
	Email     string   // KindServiceAccount, KindUser, KindGroup
	Domain    string   // KindDomain
	Project   string   // KindGKEWorkload: project id
	Namespace string   // KindGKEWorkload
	KSA       string   // KindGKEWorkload: Kubernetes service account name
}

// Federated is a caller authenticated through a workload identity pool: the
// result of the exchange pipeline's attribute mapping.
type Federated struct {
	Pool PoolName
	// ProjectID is the id of the project that owns Pool. Only GKE-form
	// members use it (they name the project by id); when it is empty they
	// never match.
	ProjectID string
	Subject   string // google.subject; a caller with an empty subject matches nothing
	Groups    []string
	// Attributes holds custom attributes by name WITHOUT the "attribute."
	// prefix ("repository", not "attribute.repository").
	Attributes map[string][]string
}

// Caller is who asks for a permission. Normally exactly one field is set.
type Caller struct {
	Federated      *Federated
	ServiceAccount string // email, when the caller is a service account
}

// ParseMember parses a policy member. It is strict: exact prefixes and host,
// the project by number in principal URIs, no whitespace, control or
// invisible format characters anywhere, valid UTF-8, and no normalization of
// any kind (values are kept byte for byte, so "a//b", "a/../b" and "A" are
// distinct values). Accepted forms:
//
//	principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/subject/S
//	principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/group/G
//	principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/attribute.NAME/VALUE
//	principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/*
//	serviceAccount:EMAIL
//	serviceAccount:PROJECT_ID.svc.id.goog[NAMESPACE/KSA]
//	user:EMAIL  group:EMAIL  domain:DOMAIN  allUsers  allAuthenticatedUsers
//
// S, G and VALUE are everything after "/subject/", "/group/" and the first
// '/' after attribute.NAME; they may contain '/'.
func ParseMember(s string) (Member, error) {
	m, reason, sentinel := parseMember(s)
	if reason != "" {
		errs := []error{ErrInvalidMember}
		if sentinel == ErrProjectNotNumber || sentinel == ErrWorkforceUnsupported {
			errs = append(errs, sentinel)
		}
		return Member{}, newParseError("member", s, reason, errs...)
	}
	return m, nil
}

func parseMember(s string) (Member, string, error) {
	if s == "" {
		return Member{}, "empty", nil
	}
	if len(s) > maxMemberLen {
		return Member{}, fmt.Sprintf("longer than %d bytes", maxMemberLen), nil
	}
	if !utf8.ValidString(s) {
		return Member{}, "not valid UTF-8", nil
	}
	if i, r := badRune(s); i >= 0 {
		return Member{}, fmt.Sprintf("whitespace, control or invisible character %U at byte %d", r, i), nil
	}
	switch {
	case strings.HasPrefix(s, "principal://"):
		return parsePrincipal(s[len("principal://"):], false)
	case strings.HasPrefix(s, "principalSet://"):
		return parsePrincipal(s[len("principalSet://"):], true)
	case strings.HasPrefix(s, "serviceAccount:"):
		return parseServiceAccountMember(s[len("serviceAccount:"):])
	case strings.HasPrefix(s, "user:"):
		e := s[len("user:"):]
		if !isUserEmail(e) {
			return Member{}, "user: expects an email address", nil
		}
		return Member{Kind: KindUser, Email: e}, "", nil
	case strings.HasPrefix(s, "group:"):
		e := s[len("group:"):]
		if !isUserEmail(e) {
			return Member{}, "group: expects an email address", nil
		}
		return Member{Kind: KindGroup, Email: e}, "", nil
	case strings.HasPrefix(s, "domain:"):
		d := s[len("domain:"):]
		if !isHostname(d, true) || !strings.Contains(d, ".") {
			return Member{}, "domain: expects a DNS domain", nil
		}
		return Member{Kind: KindDomain, Domain: d}, "", nil
	case s == "allUsers":
		return Member{Kind: KindAllUsers}, "", nil
	case s == "allAuthenticatedUsers":
		return Member{Kind: KindAllAuthenticatedUsers}, "", nil
	case strings.HasPrefix(s, "deleted:"):
		return Member{}, "deleted: members are not supported", nil
	}
	return Member{}, "unknown member type; expected principal://, principalSet://, serviceAccount:, user:, group:, domain:, allUsers or allAuthenticatedUsers", nil
}

// parsePrincipal parses what follows "principal://" or "principalSet://".
func parsePrincipal(rest string, set bool) (Member, string, error) {
	scheme, noun := "principal://", "a principal"
	if set {
		scheme, noun = "principalSet://", "a principal set"
	}
	path, ok := strings.CutPrefix(rest, iamHost+"/")
	if !ok {
		return Member{}, scheme + ": the host must be " + iamHost, nil
	}
	pool, tail, err := parsePoolPath(path, noun)
	if err != nil {
		return Member{}, err.Error(), sentinelOf(err)
	}
	if !set {
		subject, ok := strings.CutPrefix(tail, "/subject/")
		switch {
		case !ok && (tail == "/*" || strings.HasPrefix(tail, "/group/") || strings.HasPrefix(tail, "/attribute.")):
			return Member{}, "groups, attributes and whole pools are principalSet:// members", nil
		case !ok:
			return Member{}, "expected /subject/SUBJECT after the pool", nil
		case subject == "":
			return Member{}, "empty subject", nil
		case len(subject) > MaxSubjectBytes:
			return Member{}, fmt.Sprintf("subject is %d bytes, google.subject is at most %d so it can never match", len(subject), MaxSubjectBytes), nil
		}
		return Member{Kind: KindPrincipal, Pool: pool, Subject: subject}, "", nil
	}
	switch {
	case tail == "/*":
		return Member{Kind: KindPrincipalSetAll, Pool: pool}, "", nil
	case strings.HasPrefix(tail, "/group/"):
		g := tail[len("/group/"):]
		if g == "" {
			return Member{}, "empty group", nil
		}
		if len(g) > MaxAttrValueBytes {
			return Member{}, fmt.Sprintf("group is %d bytes, the limit is %d", len(g), MaxAttrValueBytes), nil
		}
		return Member{Kind: KindPrincipalSetGroup, Pool: pool, Group: g}, "", nil
	case strings.HasPrefix(tail, "/attribute."):
		name, value, ok := strings.Cut(tail[len("/attribute."):], "/")
		if !ok {
			return Member{}, "expected /attribute.NAME/VALUE", nil
		}
		if !validAttrName(name) {
			return Member{}, fmt.Sprintf("attribute name %s: must be 1-%d characters of [a-z0-9_]", quoteTrunc(name), MaxAttrNameLen), nil
		}
		if value == "" {
			return Member{}, "empty attribute value", nil
		}
		if len(value) > MaxAttrValueBytes {
			return Member{}, fmt.Sprintf("attribute value is %d bytes, the limit is %d", len(value), MaxAttrValueBytes), nil
		}
		return Member{Kind: KindPrincipalSetAttribute, Pool: pool, AttrName: name, AttrValue: value}, "", nil
	case strings.HasPrefix(tail, "/subject/"):
		return Member{}, "a single subject is a principal:// member", nil
	}
	return Member{}, "expected /group/GROUP, /attribute.NAME/VALUE or /* after the pool", nil
}

func parseServiceAccountMember(v string) (Member, string, error) {
	i := strings.Index(v, gkePoolSuffix+"[")
	if i < 0 {
		if err := ValidateServiceAccountEmail(v); err != nil {
			return Member{}, err.Error(), nil
		}
		return Member{Kind: KindServiceAccount, Email: v}, "", nil
	}
	project := v[:i]
	inner, ok := strings.CutSuffix(v[i+len(gkePoolSuffix)+1:], "]")
	if !ok {
		return Member{}, "expected serviceAccount:PROJECT_ID.svc.id.goog[NAMESPACE/KSA]", nil
	}
	if err := ValidateProjectID(project); err != nil {
		return Member{}, err.Error(), nil
	}
	ns, ksa, ok := strings.Cut(inner, "/")
	if !ok {
		return Member{}, "expected [NAMESPACE/KSA]", nil
	}
	if len(ns) > maxK8sNamespace || strings.Contains(ns, ".") || !isHostname(ns, false) {
		return Member{}, fmt.Sprintf("namespace %s: must be a DNS label", quoteTrunc(ns)), nil
	}
	if len(ksa) > maxKSANameLen || !isHostname(ksa, false) {
		return Member{}, fmt.Sprintf("Kubernetes service account %s: must be a DNS subdomain", quoteTrunc(ksa)), nil
	}
	return Member{Kind: KindGKEWorkload, Project: project, Namespace: ns, KSA: ksa}, "", nil
}

// String is the member's canonical form; for a parsed member it equals the
// parsed input.
func (m Member) String() string {
	switch m.Kind {
	case KindPrincipal:
		return PrincipalURI(m.Pool, m.Subject)
	case KindPrincipalSetGroup:
		return principalSetPrefix(m.Pool) + "/group/" + m.Group
	case KindPrincipalSetAttribute:
		return principalSetPrefix(m.Pool) + "/attribute." + m.AttrName + "/" + m.AttrValue
	case KindPrincipalSetAll:
		return principalSetPrefix(m.Pool) + "/*"
	case KindServiceAccount:
		return "serviceAccount:" + m.Email
	case KindGKEWorkload:
		return "serviceAccount:" + GKEPoolID(m.Project) + "[" + m.Namespace + "/" + m.KSA + "]"
	case KindUser:
		return "user:" + m.Email
	case KindGroup:
		return "group:" + m.Email
	case KindDomain:
		return "domain:" + m.Domain
	case KindAllUsers:
		return "allUsers"
	case KindAllAuthenticatedUsers:
		return "allAuthenticatedUsers"
	}
	return ""
}

func principalSetPrefix(p PoolName) string { return "principalSet://" + iamHost + "/" + p.String() }

// GKESubject is the google.subject a GKE-form member matches:
// "system:serviceaccount:NAMESPACE:KSA", the `sub` of a Kubernetes service
// account token.
func GKESubject(namespace, ksa string) string {
	return "system:serviceaccount:" + namespace + ":" + ksa
}

// IsPublic reports allUsers and allAuthenticatedUsers.
func (m Member) IsPublic() bool {
	return m.Kind == KindAllUsers || m.Kind == KindAllAuthenticatedUsers
}

// CanMatchWorkload reports whether the member can ever match a keyless
// caller. user:, group:, domain: and the public members cannot.
func (m Member) CanMatchWorkload() bool {
	switch m.Kind {
	case KindPrincipal, KindPrincipalSetGroup, KindPrincipalSetAttribute, KindPrincipalSetAll,
		KindServiceAccount, KindGKEWorkload:
		return true
	}
	return false
}

// Matches reports whether the caller is one of the member's principals.
// Every comparison is exact byte equality:
//   - principal: same pool and subject;
//   - principalSet group: same pool and any of the caller's groups equals G;
//   - principalSet attribute: same pool and any of the caller's values for
//     NAME equals VALUE (the whole value, which may contain '/');
//   - principalSet /*: same pool;
//   - serviceAccount:EMAIL: the caller is that service account;
//   - serviceAccount:PROJECT.svc.id.goog[NS/KSA]: a federated caller from the
//     pool "PROJECT.svc.id.goog" of the project whose id is PROJECT, with
//     subject "system:serviceaccount:NS:KSA";
//   - user:, group:, domain: never (keyless has no users);
//   - allUsers, allAuthenticatedUsers never: keyless does not honour public
//     members, because granting token minting to everyone is never intended
//     (lint flags them).
//
// A federated caller with an empty subject matches nothing.
func (m Member) Matches(c Caller) bool {
	ok, _ := m.match(c)
	return ok
}

// match is Matches plus, when false, why (for explain).
func (m Member) match(c Caller) (bool, string) {
	switch m.Kind {
	case KindServiceAccount:
		if c.ServiceAccount == "" {
			return false, "the caller is not a service account"
		}
		if c.ServiceAccount != m.Email {
			return false, fmt.Sprintf("the caller is service account %s", quoteTrunc(c.ServiceAccount))
		}
		return true, ""
	case KindUser, KindGroup, KindDomain:
		return false, m.Kind.String() + ": members never match workloads"
	case KindAllUsers, KindAllAuthenticatedUsers:
		return false, m.Kind.String() + " is never honoured by keyless"
	case KindInvalid:
		return false, "invalid member"
	}
	f := c.Federated
	if f == nil {
		return false, "the caller is not a federated principal"
	}
	if f.Subject == "" {
		return false, "the caller has no subject"
	}
	if m.Kind == KindGKEWorkload {
		switch {
		case f.Pool.PoolID != GKEPoolID(m.Project):
			return false, fmt.Sprintf("the caller's pool id is %s, not %q", quoteTrunc(f.Pool.PoolID), GKEPoolID(m.Project))
		case f.ProjectID != m.Project:
			return false, fmt.Sprintf("the caller's pool belongs to project %s, not %q", quoteTrunc(f.ProjectID), m.Project)
		case f.Subject != GKESubject(m.Namespace, m.KSA):
			return false, fmt.Sprintf("subject %s is not %q", quoteTrunc(f.Subject), GKESubject(m.Namespace, m.KSA))
		}
		return true, ""
	}
	if f.Pool != m.Pool {
		return false, fmt.Sprintf("the caller is in pool %s", quoteTrunc(f.Pool.String()))
	}
	switch m.Kind {
	case KindPrincipal:
		if f.Subject != m.Subject {
			return false, fmt.Sprintf("subject %s is not %s", quoteTrunc(f.Subject), quoteTrunc(m.Subject))
		}
	case KindPrincipalSetGroup:
		if !slices.Contains(f.Groups, m.Group) {
			return false, fmt.Sprintf("the caller's %d groups do not include %s", len(f.Groups), quoteTrunc(m.Group))
		}
	case KindPrincipalSetAttribute:
		vals, ok := f.Attributes[m.AttrName]
		if !ok {
			return false, fmt.Sprintf("the caller has no attribute.%s", m.AttrName)
		}
		if !slices.Contains(vals, m.AttrValue) {
			return false, fmt.Sprintf("attribute.%s is %s, not %s", m.AttrName, quoteValues(vals), quoteTrunc(m.AttrValue))
		}
	}
	return true, ""
}

func quoteValues(vals []string) string {
	const show = 4
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vals {
		if i == show {
			fmt.Fprintf(&b, " …%d more", len(vals)-show)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteTrunc(v))
	}
	b.WriteByte(']')
	return b.String()
}

// badRune finds the first whitespace, control or format (invisible)
// character of a valid UTF-8 string; -1 when there is none.
func badRune(s string) (int, rune) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				return i, rune(c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return i, r
		}
		i += n - 1
	}
	return -1, 0
}

func validAttrName(n string) bool {
	if n == "" || len(n) > MaxAttrNameLen {
		return false
	}
	return allOf(n, func(c byte) bool { return isLower(c) || isDigit(c) || c == '_' })
}

// isUserEmail is a permissive check for user: and group: members, which
// never match and are accepted only so Google policies import cleanly.
func isUserEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || len(local) > maxEmailLocal || strings.Contains(domain, "@") {
		return false
	}
	okLocal := allOf(local, func(c byte) bool {
		return isHostChar(c) || strings.IndexByte("._%+'", c) >= 0
	})
	return okLocal && isHostname(domain, true) && strings.Contains(domain, ".")
}

// sentinelOf returns the most specific sentinel in err's chain.
func sentinelOf(err error) error {
	if d, ok := err.(*detailError); ok {
		return d.err
	}
	return nil
}
