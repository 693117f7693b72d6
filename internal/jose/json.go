package jose

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting in headers, claims and JWKs. Real tokens nest
// three or four levels (Kubernetes); anything deeper is refused.
const maxJSONDepth = 32

var (
	errJSONSyntax    = errors.New("invalid JSON")
	errJSONUTF8      = errors.New("invalid UTF-8")
	errJSONNotObject = errors.New("not a JSON object")
	errJSONDuplicate = errors.New("duplicate member name")
	errJSONDepth     = errors.New("nesting too deep")
	errJSONTrailing  = errors.New("trailing data after JSON value")
)

// decodeObject decodes data, which must be exactly one JSON object, into a
// map. Numbers are json.Number. It refuses invalid UTF-8 (encoding/json would
// silently replace it), duplicate member names at any depth (after unescaping,
// so "a" and "\u0061" collide), nesting deeper than maxJSONDepth, and anything
// after the object other than whitespace.
func decodeObject(data []byte) (map[string]any, error) {
	v, err := decodeStrict(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errJSONNotObject
	}
	return m, nil
}

// decodeStrict decodes exactly one JSON value with the checks of decodeObject.
// It is a small recursive-descent parser over one string copy of data, so member
// names and unescaped string values are substrings rather than allocations; this
// replaced a decoder built on json.Decoder.Token that cost more than the RSA
// verification it guarded. Escaped strings are decoded by encoding/json, so
// escape semantics (surrogate pairs, \u0000) are exactly encoding/json's.
func decodeStrict(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errJSONUTF8
	}
	p := jsonParser{s: string(data)}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, errJSONTrailing
	}
	return v, nil
}

type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if p.i >= len(p.s) {
		return nil, errJSONSyntax
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, errJSONDepth
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, errJSONDepth
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
	return nil, errJSONSyntax
}

func (p *jsonParser) literal(lit string) error {
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return errJSONSyntax
	}
	p.i += len(lit)
	return nil
}

func (p *jsonParser) object(depth int) (map[string]any, error) {
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
			return nil, errJSONSyntax
		}
		name, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, errJSONDuplicate
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errJSONSyntax
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
			return nil, errJSONSyntax
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, errJSONSyntax
		}
	}
}

func (p *jsonParser) array(depth int) ([]any, error) {
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
			return nil, errJSONSyntax
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, errJSONSyntax
		}
	}
}

// str reads a string starting at the opening quote.
func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // "
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if !escaped {
				return p.s[start+1 : p.i-1], nil
			}
			var out string
			if err := json.Unmarshal([]byte(p.s[start:p.i]), &out); err != nil {
				return "", errJSONSyntax
			}
			return out, nil
		case c == '\\':
			escaped = true
			p.i += 2 // the escape's validity is checked by encoding/json above
		case c < 0x20:
			return "", errJSONSyntax
		default:
			p.i++
		}
	}
	return "", errJSONSyntax
}

// number reads a JSON number (RFC 8259 grammar) as a json.Number.
func (p *jsonParser) number() (json.Number, error) {
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
		return "", errJSONSyntax
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", errJSONSyntax
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", errJSONSyntax
		}
	}
	return json.Number(p.s[start:p.i]), nil
}
