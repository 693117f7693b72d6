package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// Marshal renders a config as YAML with the JSON field names, for export. Fields come in the
// model's order and map keys sorted, so the output is stable; fields marked omitempty are left
// out when empty. Policy documents become YAML mappings. Parse(Marshal(c)) gives back c.
func Marshal(c *Config) ([]byte, error) {
	if c == nil {
		return nil, errors.New("config: Marshal of a nil config")
	}
	n, err := marshalValue(reflect.ValueOf(c).Elem(), "", map[reflect.Type][]fieldInfo{})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("config: encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encode YAML: %w", err)
	}
	return buf.Bytes(), nil
}

func marshalValue(v reflect.Value, path string, cache map[reflect.Type][]fieldInfo) (*yaml.Node, error) {
	if v.Type() == rawMessageType {
		if v.Len() == 0 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		return rawToNode(v.Bytes(), path)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		return marshalValue(v.Elem(), path, cache)
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, f := range structFields(cache, v.Type()) {
			fv := v.Field(f.index)
			if f.omitEmpty && isEmptyValue(fv) {
				continue
			}
			fp := joinField(path, f.name)
			vn, err := marshalValue(fv, fp, cache)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, strNode(f.name), vn)
		}
		return n, nil
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := range v.Len() {
			vn, err := marshalValue(v.Index(i), joinIndex(path, i), cache)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, vn)
		}
		return n, nil
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !utf8.ValidString(k) {
				return nil, fmt.Errorf("config: %s: key %q is not valid UTF-8", path, k)
			}
			kp := joinKey(path, k)
			vn, err := marshalValue(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), kp, cache)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, strNode(k), vn)
		}
		return n, nil
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return nil, fmt.Errorf("config: %s: value is not valid UTF-8", path)
		}
		return strNode(v.String()), nil
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v.Bool())}, nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v.Int(), 10)}, nil
	}
	return nil, fmt.Errorf("config: %s: cannot marshal type %s", path, v.Type())
}

func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if s == "<<" {
		// The emitter writes it plain, and a plain << key is a merge key.
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// rawToNode turns a JSON document into YAML nodes, keeping member order.
func rawToNode(doc []byte, path string) (*yaml.Node, error) {
	doc = bytes.TrimSpace(doc)
	if !json.Valid(doc) {
		return nil, fmt.Errorf("config: %s: not valid JSON", path)
	}
	n, err := jsonToNode(doc)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	plainStyle(n)
	return n, nil
}

// plainStyle drops the JSON quoting so that the emitter picks the most readable style.
func plainStyle(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	if n.Kind != yaml.ScalarNode || n.Value != "<<" {
		n.Style = 0
	}
	for _, c := range n.Content {
		plainStyle(c)
	}
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}
