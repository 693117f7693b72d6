package jwks

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

const wellKnownPath = "/.well-known/openid-configuration"

// discoveryURL derives the OIDC discovery URL: OpenID Connect Discovery 1.0 §4 says to
// remove a trailing "/" from the issuer and append "/.well-known/openid-configuration".
func discoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + wellKnownPath
}

// urlPolicy holds the URL-level rules (scheme, host form). The dial-time address check
// in addrPolicy is the authoritative SSRF guard; this one rejects early and without DNS.
type urlPolicy struct {
	allowInsecureHTTP bool
	addrs             *addrPolicy
}

// checkIssuer validates a configured issuer identifier: an absolute https URL without
// userinfo, query or fragment (OIDC Discovery §2, OIDC Core §2).
func (p urlPolicy) checkIssuer(issuer string) (*url.URL, error) {
	u, err := p.check(issuer)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(issuer, "#") {
		return nil, fmt.Errorf("%w: issuer must not have a query or fragment", ErrInvalidURL)
	}
	return u, nil
}

// check parses raw and applies the scheme and host rules.
func (p urlPolicy) check(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: empty URL", ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %q does not parse", ErrInvalidURL, raw)
	}
	return u, p.checkParsed(u)
}

func (p urlPolicy) checkParsed(u *url.URL) error {
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute URL with a host", ErrInvalidURL, u.Redacted())
	}
	if u.User != nil {
		return fmt.Errorf("%w: %q has userinfo", ErrInvalidURL, u.Redacted())
	}
	host := u.Hostname()
	if port := u.Port(); port != "" && (len(port) > 5 || port == "0") {
		return fmt.Errorf("%w: %q has an invalid port", ErrInvalidURL, u.Redacted())
	}
	ip, isIP, err := p.checkHost(host)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if !p.allowInsecureHTTP {
			return fmt.Errorf("%w: %q is not https", ErrInsecureURL, u.Redacted())
		}
		loopback := strings.EqualFold(host, "localhost") || (isIP && ip.Unmap().IsLoopback())
		if !loopback {
			return fmt.Errorf("%w: plain http is allowed only to loopback, not %q", ErrInsecureURL, host)
		}
		return nil
	default:
		return fmt.Errorf("%w: scheme %q", ErrInsecureURL, u.Scheme)
	}
}

// checkHost rejects IP literals the address policy refuses, IPv6 zones, and hosts that
// are neither a canonical IP literal nor an LDH DNS name. In particular the numeric
// spellings that inet_aton and WHATWG URL parsers read as IPv4 ("2130706433",
// "0177.0.0.1", "0x7f000001", "127.1") are refused without a DNS lookup.
func (p urlPolicy) checkHost(host string) (netip.Addr, bool, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := p.addrs.check(ip); err != nil {
			return ip, true, err
		}
		if ip.Zone() != "" {
			return ip, true, fmt.Errorf("%w: IPv6 zone in host %q", ErrInvalidURL, host)
		}
		return ip, true, nil
	}
	if !validDNSName(host) {
		return netip.Addr{}, false, fmt.Errorf("%w: host %q is not a DNS name or IP address", ErrInvalidURL, host)
	}
	if endsInNumber(host) {
		return netip.Addr{}, false, fmt.Errorf("%w: host %q is an ambiguous numeric address", ErrBlockedAddress, host)
	}
	return netip.Addr{}, false, nil
}

// validDNSName accepts letters, digits, '-' and '_' in non-empty labels of at most 63
// bytes, 253 bytes in total, with an optional trailing dot. IDNs must be in A-label form.
func validDNSName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}

// endsInNumber reports whether the last label of h is a number in the WHATWG URL sense
// (all decimal digits, or 0x followed by hex digits); such hosts are IPv4 spellings.
func endsInNumber(h string) bool {
	h = strings.TrimSuffix(h, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X") {
		for i := 2; i < len(last); i++ {
			if !isHex(last[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// sameOrigin reports whether a redirect from a to b keeps scheme and host:port.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host)
}
