package gcemeta

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// parseQuery splits a raw query leniently, as Node and gcloud send the ID
// token audience without escaping it ("audience=https://svc/p?x=1"): pairs
// are separated by '&' only, a value runs from the first '=' to the next '&',
// a part that does not unescape is taken verbatim, and the first occurrence
// of a key wins.
func parseQuery(raw string) map[string]string {
	m := make(map[string]string)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescape(k), unescape(v)
		if _, seen := m[k]; !seen {
			m[k] = v
		}
	}
	return m
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// parseBool reads the boolean parameters the real server accepts
// (recursive=true, licenses=TRUE); absent is false.
func parseBool(v string) (bool, error) {
	switch {
	case v == "" || strings.EqualFold(v, "false"):
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	}
	return false, errors.New("want true or false")
}

// parseScopes reads ?scopes=a,b (comma-joined by every SDK; blanks tolerated).
// Duplicates are dropped; nil means none were asked for.
func parseScopes(v string) ([]string, error) {
	var out []string
	for s := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !isScope(s) {
			return nil, errors.New("a scope contains a control or non-ASCII character or is too long")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
		if len(out) > maxScopes {
			return nil, errors.New("too many scopes")
		}
	}
	return out, nil
}

// escapeQuery percent-encodes bytes that do not belong in a Location header.
func escapeQuery(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
