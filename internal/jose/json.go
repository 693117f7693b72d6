package jose

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
func decodeStrict(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errJSONUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errJSONSyntax
	}
	v, err := readValue(dec, tok, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errJSONTrailing
	}
	return v, nil
}

func readValue(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, errJSONDepth
		}
		switch t {
		case '{':
			return readObject(dec, depth+1)
		case '[':
			return readArray(dec, depth+1)
		}
		return nil, errJSONSyntax
	case string, json.Number, bool, nil:
		return t, nil
	}
	return nil, errJSONSyntax
}

func readObject(dec *json.Decoder, depth int) (map[string]any, error) {
	m := make(map[string]any)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, errJSONSyntax
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return m, nil
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errJSONSyntax
		}
		if _, dup := m[name]; dup {
			return nil, errJSONDuplicate
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, errJSONSyntax
		}
		v, err := readValue(dec, tok, depth)
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
}

func readArray(dec *json.Decoder, depth int) ([]any, error) {
	a := []any{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, errJSONSyntax
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			return a, nil
		}
		v, err := readValue(dec, tok, depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}
