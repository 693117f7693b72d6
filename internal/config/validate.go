package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keylessdev/keyless/internal/jose"
)

// validator collects problems; every check reports and carries on, so one run finds them all.
type validator struct {
	problems Problems
	// insecureHTTP is server.allowInsecureHTTPIssuers: http:// issuers on loopback hosts.
	insecureHTTP bool
}

// add reports a problem; string arguments are configured values and are shortened if long.
func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, newProblem(path, format, args...))
}

// addMsg reports a problem whose message is already complete.
func (v *validator) addMsg(path, msg string) {
	v.problems = append(v.problems, Problem{Path: path, Message: msg})
}

// Validate checks every structural rule of SPEC §2–§5.1 and returns all problems at once,
// each with its field path (sorted by path). It checks structure and limits only: CEL
// expressions, IAM members and AWS policy semantics are compiled by their own packages.
// A nil result means the config is valid.
func (c *Config) Validate() Problems {
	return finish(c.validate())
}

// validate returns every problem, unsorted and uncapped.
func (c *Config) validate() Problems {
	if c == nil {
		return Problems{{Message: "no configuration"}}
	}
	v := &validator{insecureHTTP: c.Server != nil && c.Server.AllowInsecureHTTPIssuers}
	if c.Issuer != "" {
		if msg := checkURL(c.Issuer, true); msg != "" {
			v.addMsg("issuer", msg)
		}
	}
	var allowed map[string]bool
	if c.OrgPolicy != nil {
		allowed = v.orgPolicy(c.OrgPolicy)
	}
	if c.Google != nil {
		v.google(c.Google, allowed)
	}
	if c.Server != nil {
		v.server(c.Server)
	}
	if c.AWS != nil {
		v.aws(c.AWS, allowed)
	}
	if c.Azure != nil {
		v.azure(c.Azure)
	}
	return v.problems
}

// orgPolicy checks the policy and returns the set of allowed issuers.
func (v *validator) orgPolicy(op *OrgPolicy) map[string]bool {
	const path = "orgPolicy.allowedIssuers"
	if len(op.AllowedIssuers) == 0 {
		v.add(path, "is empty, which would forbid every OIDC provider; list the issuers providers may trust, or remove orgPolicy")
		return nil
	}
	allowed := make(map[string]bool, len(op.AllowedIssuers))
	for i, iss := range op.AllowedIssuers {
		if iss == "" {
			v.add(joinIndex(path, i), "is empty; write the issuer URL exactly as providers' issuerUri spells it")
		}
		allowed[iss] = true
	}
	return allowed
}

// checkURL checks an issuer-like URL: absolute, https (or http to a loopback host when
// httpLoopback), with a host and no user info, query or fragment. It returns "" when the URL
// is acceptable and otherwise a message.
func checkURL(s string, httpLoopback bool) string {
	q := strconv.Quote(shown(s))
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Sprintf("%s contains whitespace or control characters; issuers are compared exactly, so remove them", q)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("%s is not a URL; expected https://HOST[/PATH]", q)
	}
	isHTTPS, isHTTP := strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "http://")
	switch {
	case !isHTTPS && !isHTTP:
		return fmt.Sprintf("%s is not an https:// URL; expected https://HOST[/PATH]", q)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%s has no host; expected https://HOST[/PATH]", q)
	case u.User != nil:
		return fmt.Sprintf("%s contains user information (user@); remove it", q)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Sprintf("%s has a query (?…); an issuer URL has none", q)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Sprintf("%s has a fragment (#…); an issuer URL has none", q)
	case isHTTP && !httpLoopback:
		return fmt.Sprintf("%s uses http://; issuers must use https:// (set server.allowInsecureHTTPIssuers: true to allow http:// to loopback hosts during development)", q)
	case isHTTP && !isLoopback(u.Hostname()):
		return fmt.Sprintf("%s uses http:// to a host that is not loopback; http:// is allowed only for localhost, 127.0.0.0/8 and [::1]", q)
	}
	return ""
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}

func chars(s string) int { return utf8.RuneCountInString(s) }

// maxLen reports s when it is longer than limit characters.
func (v *validator) maxLen(path, s string, limit int) {
	if n := chars(s); n > limit {
		v.add(path, "%d characters, the limit is %d", n, limit)
	}
}

// jwks checks inline pinned keys: every key must be one keyless uses (SPEC §5.1).
func (v *validator) jwks(path, doc string) {
	if doc == "" {
		return
	}
	ks, dropped, err := jose.ParseKeySet([]byte(doc))
	if err != nil {
		v.add(path, "is not a usable JWKS document: %v", err)
		return
	}
	for _, d := range dropped {
		kid := ""
		if d.KID != "" {
			kid = fmt.Sprintf(" (kid %q)", d.KID)
		}
		v.add(path, "keys[%d]%s would be ignored by keyless: %s; remove or fix it", d.Index, kid, d.Reason)
	}
	if len(dropped) == 0 && (ks == nil || len(ks.Keys) == 0) {
		v.add(path, "contains no keys; add the issuer's signing keys, or remove jwksJson to use discovery")
	}
}

// unique remembers the first path that used each value in one scope.
type unique map[string]string

// claim records value at path and reports whether an earlier path already holds it.
func (u unique) claim(value, path string) (string, bool) {
	if first, ok := u[value]; ok {
		return first, true
	}
	u[value] = path
	return "", false
}
