package strictjson

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays Decode accepts.
const MaxDepth = 32

// Decode decodes data, which must be exactly one JSON value, with the rules
// of the package documentation. Objects are map[string]any, arrays []any
// (never nil), strings string, numbers json.Number, true/false bool and null
// nil.
func Decode(data []byte) (any, error) {
	return decode(string(data))
}

// DecodeObject is Decode for input that must be a JSON object.
func DecodeObject(data []byte) (map[string]any, error) {
	return decodeObject(string(data))
}

// DecodeObjectString is DecodeObject for input already held as a string; it
// saves the copy, and the returned strings share s's memory.
func DecodeObjectString(s string) (map[string]any, error) {
	return decodeObject(s)
}

func decodeObject(s string) (map[string]any, error) {
	v, err := decode(s)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Kind: ErrNotObject, Offset: skipWS(s, 0)}
	}
	return m, nil
}

func decode(s string) (any, error) {
	if !utf8.ValidString(s) {
		return nil, &Error{Kind: ErrInvalidUTF8, Offset: firstInvalidUTF8(s)}
	}
	p := parser{s: s}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, p.fail(ErrTrailingData)
	}
	return v, nil
}

func firstInvalidUTF8(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(s)
}

func skipWS(s string, i int) int {
	for i < len(s) && isWS(s[i]) {
		i++
	}
	return i
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// parser is a recursive-descent parser over s; i is the next unread byte.
type parser struct {
	s string
	i int
}

func (p *parser) fail(kind error) error { return p.failAt(kind, p.i) }

func (p *parser) failAt(kind error, at int) error {
	return &Error{Kind: kind, Offset: min(at, len(p.s))}
}

func (p *parser) ws() { p.i = skipWS(p.s, p.i) }

func (p *parser) value(depth int) (any, error) {
	if p.i >= len(p.s) {
		return nil, p.fail(ErrSyntax)
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if depth >= MaxDepth {
			return nil, p.fail(ErrTooDeep)
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= MaxDepth {
			return nil, p.fail(ErrTooDeep)
		}
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.fail(ErrSyntax)
}

func (p *parser) literal(lit string) error {
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return p.fail(ErrSyntax)
	}
	p.i += len(lit)
	return nil
}

// object reads an object starting at '{'. Nested values may return early
// with an error, so the map is only handed out complete.
func (p *parser) object(depth int) (map[string]any, error) {
	p.i++ // {
	m := make(map[string]any)
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.fail(ErrSyntax)
		}
		at := p.i
		name, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, p.failAt(ErrDuplicateMember, at)
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.fail(ErrSyntax)
		}
		p.i++
		p.ws()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		m[name] = v
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.fail(ErrSyntax)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, p.fail(ErrSyntax)
		}
	}
}

func (p *parser) array(depth int) ([]any, error) {
	p.i++ // [
	a := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.fail(ErrSyntax)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, p.fail(ErrSyntax)
		}
	}
}

// str reads a string starting at the opening quote. Strings without escapes
// are substrings of the input; escaped ones are decoded by unescape.
func (p *parser) str() (string, error) {
	start := p.i
	p.i++ // "
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			body := p.s[start+1 : p.i-1]
			if !escaped {
				return body, nil
			}
			out, ok := unescape(body)
			if !ok {
				return "", p.failAt(ErrSyntax, start)
			}
			return out, nil
		case c == '\\':
			escaped = true
			p.i += 2 // the escape itself is checked by unescape
		case c < 0x20:
			return "", p.fail(ErrSyntax)
		default:
			p.i++
		}
	}
	return "", p.fail(ErrSyntax)
}

// unescape decodes the body of a JSON string that contains escapes, exactly
// as encoding/json does: the eight short escapes and \uXXXX (four hex
// digits); a valid UTF-16 surrogate pair becomes one rune, any other
// surrogate becomes U+FFFD. The body has no raw control characters and is
// valid UTF-8 (both checked by the caller). FuzzStrictJSON compares it with
// encoding/json.
func unescape(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s)) // decoding never lengthens: one allocation
	for {
		n := strings.IndexByte(s, '\\')
		if n < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:n])
		s = s[n:]
		if len(s) < 2 {
			return "", false
		}
		switch c := s[1]; c {
		case '"', '\\', '/':
			b.WriteByte(c)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := u4(s)
			if r < 0 {
				return "", false
			}
			s = s[6:]
			if utf16.IsSurrogate(r) {
				r = utf16.DecodeRune(r, u4(s)) // U+FFFD unless a valid pair
				if r != utf8.RuneError {
					s = s[6:]
				}
			}
			b.WriteRune(r)
			continue
		default:
			return "", false
		}
		s = s[2:]
	}
}

// u4 returns the value of the \uXXXX escape at the start of s, or -1.
func u4(s string) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[2:6]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number reads a JSON number (RFC 8259 grammar) as a json.Number.
func (p *parser) number() (json.Number, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return "", p.fail(ErrSyntax)
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", p.fail(ErrSyntax)
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", p.fail(ErrSyntax)
		}
	}
	return json.Number(p.s[start:p.i]), nil
}
