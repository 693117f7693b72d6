package awspolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// objectMembers decodes data, which must be exactly one JSON object, into its
// members in document order. Duplicate member names are refused (encoding/json
// would silently keep the last one).
func objectMembers(data []byte, path string) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, perr(path, "malformed JSON: "+jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, perr(path, "must be a JSON object, found "+describe(data))
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, perr(path, "malformed JSON: "+jsonErr(err))
		}
		name, ok := tok.(string)
		if !ok {
			return nil, perr(path, "malformed JSON object")
		}
		if seen[name] {
			return nil, perr(join(path, name), "duplicate member name")
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, perr(join(path, name), "malformed JSON: "+jsonErr(err))
		}
		out = append(out, member{name, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, perr(path, "malformed JSON: "+jsonErr(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, perr(path, "unexpected data after the JSON object")
	}
	return out, nil
}

func jsonErr(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

// describe names the JSON type of a raw value for error messages.
func describe(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// stringOrList decodes a string or a non-empty array of strings.
func stringOrList(raw json.RawMessage, path string) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '"' && raw[0] != '[') {
		return nil, perr(path, "must be a string or an array of strings, found "+describe(raw))
	}
	return oneOrList(raw, path, str)
}

// scalarOrList decodes a condition value: a string, number or boolean, or a
// non-empty array of them. Numbers keep their JSON spelling.
func scalarOrList(raw json.RawMessage, path string) ([]string, error) {
	return oneOrList(bytes.TrimSpace(raw), path, scalar)
}

// oneOrList decodes one value or a non-empty array of values with elem.
func oneOrList(raw json.RawMessage, path string, elem func(json.RawMessage, string) (string, error)) ([]string, error) {
	if len(raw) == 0 || raw[0] != '[' {
		s, err := elem(raw, path)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, perr(path, "malformed array")
	}
	if len(items) == 0 {
		return nil, perr(path, "must not be an empty array")
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, err := elem(bytes.TrimSpace(it), fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// str decodes a JSON string.
func str(raw json.RawMessage, path string) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", perr(path, "must be a string, found "+describe(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", perr(path, "malformed string")
	}
	return s, nil
}

func scalar(raw json.RawMessage, path string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", perr(path, "malformed JSON value")
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	default:
		return "", perr(path, "must be a string, number or boolean, found "+describe(raw))
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
