package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// decodeRaw sets a json.RawMessage field (an AWS policy document) from a YAML value, or from
// a string holding JSON text. Either way the result is compact JSON with numbers in one
// canonical spelling, so that export and re-import give back the same bytes.
func (d *decoder) decodeRaw(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		text := []byte(strings.TrimSpace(n.Value))
		if !json.Valid(text) {
			d.add(path, n, "expected a JSON document or a YAML mapping, found a string that is not valid JSON")
			return
		}
		inner, err := jsonToNode(text)
		if err != nil {
			d.add(path, n, "the JSON text is not usable: %v", err)
			return
		}
		// Report problems inside the text at the string's own position.
		setPositions(inner, n.Line, n.Column)
		n = inner
	}
	var buf bytes.Buffer
	before := len(d.problems)
	d.appendJSON(&buf, n, path)
	if len(d.problems) == before {
		v.SetBytes(bytes.Clone(buf.Bytes()))
	}
}

func setPositions(n *yaml.Node, line, col int) {
	n.Line, n.Column = line, col
	for _, c := range n.Content {
		setPositions(c, line, col)
	}
}

// appendJSON writes n as JSON, reporting values JSON cannot carry and duplicate keys as
// problems (the caller discards the output when any were added).
func (d *decoder) appendJSON(buf *bytes.Buffer, n *yaml.Node, path string) {
	n, leave, ok := d.enter(n, path)
	if !ok {
		return
	}
	defer leave()
	if !d.tagOK(n, path) {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		first := true
		d.mappingKeys(n, path, func(k string) string { return joinKey(path, k) }, func(key string, _, vn *yaml.Node) {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			appendJSONString(buf, key)
			buf.WriteByte(':')
			d.appendJSON(buf, vn, joinKey(path, key))
		})
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			d.appendJSON(buf, c, joinIndex(path, i))
		}
		buf.WriteByte(']')
	default: // a scalar: enter resolved aliases
		s, err := scalarJSON(n)
		if err != nil {
			d.add(path, n, "%v", err)
			return
		}
		buf.WriteString(s)
	}
}

// scalarJSON renders a scalar node as a JSON value.
func scalarJSON(n *yaml.Node) (string, error) {
	switch {
	case isText(n):
		var b bytes.Buffer
		appendJSONString(&b, n.Value)
		return b.String(), nil
	}
	switch n.ShortTag() {
	case "!!null":
		return "null", nil
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return "", fmt.Errorf("%s is not a boolean", describe(n))
		}
		return strconv.FormatBool(v), nil
	case "!!int":
		var i big.Int
		if _, ok := i.SetString(strings.ReplaceAll(n.Value, "_", ""), 0); !ok {
			return "", fmt.Errorf("%s is not a number JSON can carry", describe(n))
		}
		return i.String(), nil
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", fmt.Errorf("%s is not a number JSON can carry", describe(n))
		}
		return canonicalFloat(f), nil
	}
	return "", fmt.Errorf("%s cannot be written as JSON", describe(n))
}

// canonicalFloat spells a float the same way however it was written (1.50, 15e-1 → 1.5),
// and whole numbers without a fraction so they read back as the same integer.
func canonicalFloat(f float64) string {
	if f == 0 {
		return "0" // also -0, which would read back as the integer 0
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// appendJSONString writes s as a JSON string, escaping what JSON requires (quotes,
// backslashes, control characters) and replacing invalid UTF-8 as encoding/json does.
func appendJSONString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case c == '\n':
				buf.WriteString(`\n`)
			case c == '\r':
				buf.WriteString(`\r`)
			case c == '\t':
				buf.WriteString(`\t`)
			case c < 0x20:
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[c>>4])
				buf.WriteByte(hex[c&0xf])
			default:
				buf.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(`\ufffd`)
		} else {
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}
