package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// maxJSONDepth bounds nesting while building a node tree from JSON input.
const maxJSONDepth = 1000

// jsonToNode builds a yaml.Node tree (with line and column numbers) from a JSON document, so
// JSON configs go through the same strict walk as YAML ones. It exists because a YAML parser
// is not a complete JSON parser: it refuses escaped surrogate pairs ("\ud83d\ude00"), which
// are valid JSON. The caller has checked json.Valid(data).
func jsonToNode(data []byte) (*yaml.Node, error) {
	b := &jsonBuilder{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	b.dec.UseNumber()
	b.lineStarts = []int{0}
	for i, c := range data {
		if c == '\n' {
			b.lineStarts = append(b.lineStarts, i+1)
		}
	}
	n, err := b.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := b.dec.Token(); err == nil {
		return nil, errors.New("unexpected data after the top-level JSON value")
	}
	return n, nil
}

type jsonBuilder struct {
	data       []byte
	dec        *json.Decoder
	lineStarts []int
}

// position returns the 1-based line and column of the next token.
func (b *jsonBuilder) position() (int, int) {
	off := int(b.dec.InputOffset())
	for off < len(b.data) && strings.IndexByte(" \t\r\n,:", b.data[off]) >= 0 {
		off++
	}
	line := sort.Search(len(b.lineStarts), func(i int) bool { return b.lineStarts[i] > off })
	col := utf8.RuneCount(b.data[b.lineStarts[line-1]:off]) + 1
	return line, col
}

func (b *jsonBuilder) value(depth int) (*yaml.Node, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("JSON nested more than %d levels deep", maxJSONDepth)
	}
	line, col := b.position()
	tok, err := b.dec.Token()
	if err != nil {
		return nil, err
	}
	n := &yaml.Node{Line: line, Column: col}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for b.dec.More() {
				kl, kc := b.position()
				kt, err := b.dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("JSON object key is not a string")
				}
				kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: key, Line: kl, Column: kc}
				vn, err := b.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, kn, vn)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for b.dec.More() {
				vn, err := b.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, vn)
			}
		default:
			return nil, fmt.Errorf("unexpected JSON delimiter %q", t)
		}
		if _, err := b.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.Kind, n.Tag, n.Style, n.Value = yaml.ScalarNode, "!!str", yaml.DoubleQuotedStyle, t
	case json.Number:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!int", t.String()
		if strings.ContainsAny(n.Value, ".eE") {
			n.Tag = "!!float"
		}
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", fmt.Sprint(t)
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
	default:
		return nil, fmt.Errorf("unexpected JSON token %T", tok)
	}
	return n, nil
}
