package awsreq

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
)

// CanonicalRequest builds the SigV4 canonical request of r for the signed
// headers (and, when presigned, the X-Amz-* query) described by a:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//
// The URI is the raw path with "." / ".." segments and duplicate slashes
// removed (unless r.SkipPathNormalization) and every byte outside the RFC
// 3986 unreserved set percent-encoded, so an already-encoded wire path is
// encoded a second time (the non-S3 rule). Query pairs are decoded ('+' stays
// '+'), re-encoded and sorted; a presigned X-Amz-Signature is left out.
// Header values are trimmed with inner whitespace runs folded to one space,
// and repeated headers are joined with ",". The payload hash is SHA-256 of
// the body; a present x-amz-content-sha256 header must equal it.
func CanonicalRequest(r SignedRequest, a *Auth) (string, error) {
	if a == nil {
		return "", fail(StageFormat, "no parsed authorization")
	}
	if r.Method == "" || !allBytes(r.Method, isTokenByte) {
		return "", fail(StageFormat, "malformed method")
	}
	query, err := parseQuery(r.RawQuery)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.Path, !r.SkipPathNormalization))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query, a.Presigned))
	b.WriteByte('\n')
	for _, name := range a.SignedHeaders {
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		} else {
			vals = headerValues(r.Headers, name)
		}
		if len(vals) == 0 || (name == "host" && r.Host == "") {
			return "", fail(StageSignature, "signed header "+name+" is missing")
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(foldSpaces(v))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.SignedHeaders, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(r.Body)
	payload := hex.EncodeToString(sum[:])
	if cs := headerValues(r.Headers, "X-Amz-Content-Sha256"); len(cs) > 0 {
		if len(cs) != 1 || cs[0] != payload {
			return "", fail(StageSignature, "x-amz-content-sha256 does not match the body")
		}
	}
	b.WriteString(payload)
	return b.String(), nil
}

// canonicalURI normalizes (optionally) and encodes a raw path.
func canonicalURI(p string, normalize bool) string {
	if p == "" {
		p = "/"
	}
	if normalize {
		p = normalizePath(p)
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || isUnreserved(c) {
			b.WriteByte(c)
		} else {
			writePct(&b, c)
		}
	}
	return b.String()
}

// normalizePath removes "." and ".." segments and empty segments; a path
// whose last segment was empty, "." or ".." keeps a trailing slash.
func normalizePath(p string) string {
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "/"
	}
	res := "/" + strings.Join(out, "/")
	if last := segs[len(segs)-1]; last == "" || last == "." || last == ".." {
		res += "/"
	}
	return res
}

type queryPair struct{ key, value string }

// parseQuery splits a raw query on '&' and '=' and percent-decodes both
// halves; '+' is not a space in SigV4. Empty pieces ("a&&b") are skipped.
func parseQuery(raw string) ([]queryPair, error) {
	var out []queryPair
	if raw == "" {
		return nil, nil
	}
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		dk, ok1 := pctDecode(k)
		dv, ok2 := pctDecode(v)
		if !ok1 || !ok2 {
			return nil, fail(StageFormat, "malformed percent-encoding in query")
		}
		out = append(out, queryPair{dk, dv})
	}
	return out, nil
}

func canonicalQuery(q []queryPair, presigned bool) string {
	enc := make([]queryPair, 0, len(q))
	for _, p := range q {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryPair{uriEncode(p.key), uriEncode(p.value)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

func pctDecode(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), true
}

func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isUnreserved(s[i]) {
			b.WriteByte(s[i])
		} else {
			writePct(&b, s[i])
		}
	}
	return b.String()
}

func writePct(b *strings.Builder, c byte) {
	const hexUpper = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hexUpper[c>>4])
	b.WriteByte(hexUpper[c&15])
}

// headerValues returns every value of the header named name (compared
// case-insensitively), in order. Keys are expected in canonical form; a
// non-canonical spelling is found too.
func headerValues(h http.Header, name string) []string {
	if v, ok := h[http.CanonicalHeaderKey(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func allBytes(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// isTokenByte reports an RFC 9110 tchar.
func isTokenByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isLowerTokenByte(c byte) bool { return isTokenByte(c) && !(c >= 'A' && c <= 'Z') }

// isScopeLabel accepts region and service names: lowercase letters, digits, '-'.
func isScopeLabel(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return allBytes(s, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' })
}

// foldSpaces trims ASCII whitespace and folds inner runs to one space.
func foldSpaces(v string) string {
	var b strings.Builder
	pending := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\r', '\n':
			pending = b.Len() > 0
		default:
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}
