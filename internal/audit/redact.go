package audit

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxHeaderLen bounds the JOSE header segment the redactor will decode.
const maxHeaderLen = 8 << 10

// redactJWTs replaces every compact JWS (3 segments) or JWE (5 segments)
// in s with "[redacted-jwt sha256:HEX]". A token is recognised when a
// segment that starts a run of base64url characters and dots decodes to a
// JSON object and is followed by at least two more segments. A token glued
// to preceding base64url characters (x_eyJ...) is not recognised: the
// primary rule is that callers never put tokens in events; this is a net.
func redactJWTs(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isRunChar(s[i]) {
			i++
			continue
		}
		// s[i] starts a run; try each segment of the run as a header.
		end := i
		for end < len(s) && isRunChar(s[end]) {
			end++
		}
		seg := i
		for seg < end {
			n := tokenLen(s[seg:end])
			if n > 0 {
				b.WriteString(s[last:seg])
				b.WriteString("[redacted-jwt sha256:")
				b.WriteString(TokenHash(s[seg : seg+n]))
				b.WriteString("]")
				last = seg + n
				seg += n
				continue
			}
			dot := strings.IndexByte(s[seg:end], '.')
			if dot < 0 {
				break
			}
			seg += dot + 1
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// tokenLen returns the length of the compact JOSE token at the start of run
// (a string of base64url characters and dots), or 0 when there is none.
func tokenLen(run string) int {
	dot := strings.IndexByte(run, '.')
	if dot < 4 || dot > maxHeaderLen || !isJOSEHeader(run[:dot]) {
		return 0
	}
	// Count the segments that follow: JWS has 2 more, JWE 4.
	n, dots := dot, 1
	for j := dot + 1; j < len(run) && dots <= 4; j++ {
		if run[j] == '.' {
			if dots == 4 {
				break
			}
			dots++
		}
		n = j + 1
	}
	if dots < 2 {
		return 0
	}
	if dots == 3 { // a trailing dot after a JWS (end of a sentence): keep it
		n = strings.LastIndexByte(run[:n], '.')
	}
	return n
}

// isJOSEHeader reports whether seg is unpadded base64url of a JSON object.
func isJOSEHeader(seg string) bool {
	// '{' followed by '"' or whitespace encodes to one of these prefixes;
	// checking it first keeps the decode off ordinary dotted words.
	if len(seg) < 4 || seg[0] != 'e' ||
		!((seg[1] == 'y' && strings.IndexByte("ABCDIJKL", seg[2]) >= 0) ||
			(seg[1] == 'w' && strings.IndexByte("klmnopqr0123", seg[2]) >= 0)) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Valid(raw) && raw[0] == '{'
}

func isRunChar(c byte) bool { return c == '.' || isB64(c) }

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
