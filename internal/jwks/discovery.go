package jwks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
)

// discoveryDoc holds the fields of an OpenID Provider Configuration this package uses.
type discoveryDoc struct {
	Issuer  string
	JWKSURI string
}

// parseDiscovery decodes a discovery document: a single JSON object whose "issuer" and
// "jwks_uri" members, when present and not null, are strings. Member names match exactly
// (encoding/json would also accept "Issuer" for a struct field). Other members are
// ignored. It does not judge the values; see validateDiscovery.
func parseDiscovery(data []byte) (discoveryDoc, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return discoveryDoc{}, fmt.Errorf("%w: discovery document is not a JSON object", ErrInvalidDocument)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return discoveryDoc{}, fmt.Errorf("%w: discovery document: %w", ErrInvalidDocument, err)
	}
	var doc discoveryDoc
	for name, dst := range map[string]*string{"issuer": &doc.Issuer, "jwks_uri": &doc.JWKSURI} {
		raw, ok := members[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return discoveryDoc{}, fmt.Errorf("%w: discovery document member %q is not a string", ErrInvalidDocument, name)
		}
	}
	return doc, nil
}

// validateDiscovery applies the security checks to a parsed document: issuer must equal
// the configured issuer byte for byte (OIDC Discovery §4.3), and jwks_uri must pass the
// URL policy (https, or http to loopback in dev mode; no userinfo; acceptable host).
func validateDiscovery(doc discoveryDoc, issuer string, p urlPolicy) (*url.URL, error) {
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("%w: document says %q, configured %q", ErrIssuerMismatch, truncate(doc.Issuer, 256), issuer)
	}
	if doc.JWKSURI == "" {
		return nil, fmt.Errorf("%w: discovery document has no jwks_uri", ErrInvalidDocument)
	}
	u, err := p.check(doc.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	return u, nil
}

// truncate shortens s to at most n bytes for error details (callers quote it with %q).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
