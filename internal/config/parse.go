package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/keylessdev/keyless/internal/spelling"

	yaml "go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest config document keyless reads (4 MiB).
const MaxFileSize = 4 << 20

const (
	// maxAliasNodes bounds the nodes visited through YAML aliases, so that a small document
	// of nested aliases (a "billion laughs") cannot expand into an unbounded amount of work.
	maxAliasNodes = 50_000
	// maxDepth bounds nesting during the walk (the model is about ten levels deep; free-form
	// JSON such as trust policies gets the rest).
	maxDepth = 64
)

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	yamlErrLine    = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// position is where a field is written in the source document.
type position struct{ line, col int }

// positions maps field paths to where they are written.
type positions map[string]position

// locate finds the position of path, or of its nearest ancestor that was written.
func (ps positions) locate(path string) (position, bool) {
	for {
		if p, ok := ps[path]; ok {
			return p, true
		}
		parent, ok := parentPath(path)
		if !ok {
			return position{}, false
		}
		path = parent
	}
}

// Parse decodes a YAML or JSON config strictly: unknown fields (with a suggestion), duplicate
// keys, wrong types, several documents, unsupported tags and merge keys, and alias expansion
// beyond a small budget are all problems, each with its path, line and column. Parse does not
// validate values; see Validate and LoadBytes. The returned config is never nil, but when
// problems is non-empty it is incomplete and must not be used.
func Parse(data []byte, filename string) (*Config, Problems) {
	r := parse(data, filename)
	return r.cfg, r.problems
}

// parsed is the outcome of parse.
type parsed struct {
	cfg      *Config
	pos      positions
	problems Problems
	// fatal is set when the document could not be read as a config at all (size, syntax,
	// several documents, not a mapping, alias budget or depth exceeded).
	fatal bool
}

func parse(data []byte, filename string) parsed {
	cfg := &Config{}
	r := parseInto(data, filename, reflect.ValueOf(cfg).Elem(), "issuer, google, aws, …")
	r.cfg = cfg
	return r
}

// ParseInto decodes a YAML or JSON document into v, a pointer to a struct whose fields
// carry json tags, with Parse's strictness (unknown fields with suggestions, duplicate
// keys, wrong types, alias and depth budgets), for other keyless documents such as the
// agent's config.
func ParseInto(data []byte, filename string, v any) Problems {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return Problems{{File: filename, Message: "internal: ParseInto needs a pointer to a struct"}}
	}
	var names []string
	for _, f := range structFields(map[reflect.Type][]fieldInfo{}, rv.Elem().Type()) {
		names = append(names, f.name)
	}
	return parseInto(data, filename, rv.Elem(), strings.Join(names, ", ")).problems
}

func parseInto(data []byte, filename string, target reflect.Value, fieldsHint string) parsed {
	d := &decoder{pos: positions{}, fields: map[reflect.Type][]fieldInfo{}}
	result := func(fatal bool) parsed {
		for i := range d.problems {
			d.problems[i].File = filename
		}
		return parsed{pos: d.pos, problems: finish(d.problems), fatal: fatal || d.exhausted}
	}
	if len(data) > MaxFileSize {
		d.add("", nil, "the document is %d bytes, the limit is %d (4 MiB)", len(data), MaxFileSize)
		return result(true)
	}
	root, ok := d.document(data)
	if !ok {
		return result(true)
	}
	if root == nil || (root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null") {
		return result(false) // an empty document is an empty config
	}
	d.record("", root)
	if root.Kind != yaml.MappingNode {
		d.add("", root, "the top level must be a mapping of fields (%s), found %s", fieldsHint, describe(root))
		return result(true)
	}
	d.decode(root, target, "")
	return result(false)
}

// document parses data into a single root node (nil for an empty stream).
func (d *decoder) document(data []byte) (root *yaml.Node, ok bool) {
	if json.Valid(data) {
		n, err := jsonToNode(data)
		if err != nil {
			d.add("", nil, "invalid JSON: %v", err)
			return nil, false
		}
		return n, true
	}
	defer func() {
		// The YAML parser reports malformed input by panicking internally; it recovers its
		// own errors, so anything reaching here is a parser bug on hostile input.
		if r := recover(); r != nil {
			d.add("", nil, "invalid YAML: the parser failed (%v)", r)
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		d.yamlError(err)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.problems = append(d.problems, Problem{Line: next.Line, Column: next.Column,
			Message: "a second YAML document starts here; a config file holds exactly one document (remove the '---' separator and merge the documents)"})
		return nil, false
	case !errors.Is(err, io.EOF):
		d.yamlError(err)
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, true
	}
	return doc.Content[0], true
}

func (d *decoder) yamlError(err error) {
	msg := err.Error()
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.problems = append(d.problems, Problem{Line: line, Message: "invalid YAML: " + m[2]})
		return
	}
	d.problems = append(d.problems, Problem{Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
}

// decoder walks a node tree against the model's Go types.
type decoder struct {
	problems Problems
	pos      positions
	fields   map[reflect.Type][]fieldInfo
	// aliasDepth > 0 while walking the target of an alias; aliasNodes counts those nodes.
	aliasDepth int
	aliasNodes int
	exhausted  bool
	depth      int
}

func (d *decoder) add(path string, n *yaml.Node, format string, args ...any) {
	p := newProblem(path, format, args...)
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
	if len(d.problems) > maxProblems {
		d.exhausted = true // stop walking: finish keeps only the first maxProblems
	}
}

func (d *decoder) record(path string, n *yaml.Node) {
	if _, ok := d.pos[path]; !ok && n.Line > 0 {
		d.pos[path] = position{n.Line, n.Column}
	}
}

// enter accounts for visiting n and resolves aliases. It returns false when the walk must stop.
func (d *decoder) enter(n *yaml.Node, path string) (*yaml.Node, func(), bool) {
	if d.exhausted {
		return nil, nil, false
	}
	if d.depth >= maxDepth {
		d.add(path, n, "nested more than %d levels deep", maxDepth)
		d.exhausted = true
		return nil, nil, false
	}
	d.depth++
	aliased := 0
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.depth--
			d.add(path, n, "alias *%s refers to no anchor", n.Value)
			return nil, nil, false
		}
		n = n.Alias
		aliased++
	}
	d.aliasDepth += aliased
	if d.aliasDepth > 0 {
		d.aliasNodes++
		if d.aliasNodes > maxAliasNodes {
			d.add(path, n, "YAML aliases expand to more than %d nodes; refusing to expand further (write the repeated parts out, or use fewer nested aliases)", maxAliasNodes)
			d.exhausted = true
			d.aliasDepth -= aliased
			d.depth--
			return nil, nil, false
		}
	}
	return n, func() { d.aliasDepth -= aliased; d.depth-- }, true
}

// decode sets v from n. v is addressable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n, leave, ok := d.enter(n, path)
	if !ok {
		return
	}
	defer leave()
	if !d.tagOK(n, path) {
		return
	}
	if v.Type() == rawMessageType {
		d.decodeRaw(n, v, path)
		return
	}
	if isNull(n) {
		v.SetZero()
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		switch {
		case n.Kind != yaml.ScalarNode:
			d.add(path, n, "expected a string, found %s", describe(n))
		case isText(n):
			v.SetString(n.Value)
		default:
			d.add(path, n, "expected a string, found %s; quote it (%s) if it is meant as text", describe(n), strconv.Quote(n.Value))
		}
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.add(path, n, "expected true or false, found %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, v.Type().Bits())
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil {
			d.add(path, n, "expected a whole number, found %s", describe(n))
			return
		}
		v.SetInt(i)
	default:
		d.add(path, n, "internal error: the config model has an unsupported field type %s", v.Type())
	}
}

// tagOK refuses explicit tags outside the JSON-compatible core schema (custom !tags,
// !!binary, !!set, …): keyless's config is plain data.
func (d *decoder) tagOK(n *yaml.Node, path string) bool {
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!timestamp", "!!merge":
		return true
	}
	d.add(path, n, "unsupported YAML tag %s; the config holds plain strings, numbers, booleans, lists and mappings", n.Tag)
	return false
}

// isText reports whether a scalar reads as text: a string, or a plain scalar that YAML would
// otherwise resolve as a timestamp (Version: 2012-10-17) or, outside key position, a merge
// key (<<).
func isText(n *yaml.Node) bool {
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!merge":
		return n.Kind == yaml.ScalarNode
	}
	return false
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.add(path, n, "expected a list, found %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := joinIndex(path, i)
		d.record(ip, item)
		d.decode(item, s.Index(i), ip)
	}
	v.Set(s)
}

// mappingKeys iterates over a mapping's keys, reporting non-string keys, merge keys and
// duplicates, and calls fn for each usable key with its value node.
func (d *decoder) mappingKeys(n *yaml.Node, path string, keyPath func(string) string, fn func(key string, kn, vn *yaml.Node)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		for kn.Kind == yaml.AliasNode && kn.Alias != nil {
			kn = kn.Alias
		}
		if kn.Kind == yaml.ScalarNode && kn.Value == "<<" && kn.ShortTag() == "!!merge" {
			d.add(path, kn, "YAML merge keys (<<) are not supported; write the fields out, or alias a whole value")
			continue
		}
		if kn.Kind != yaml.ScalarNode || kn.ShortTag() != "!!str" {
			d.add(path, kn, "mapping keys must be strings, found %s", describe(kn))
			continue
		}
		kp := keyPath(kn.Value)
		if first, dup := seen[kn.Value]; dup {
			d.add(kp, kn, "duplicate key %q (first set on line %d); keep one", kn.Value, first)
			continue
		}
		seen[kn.Value] = kn.Line
		fn(kn.Value, kn, vn)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.add(path, n, "expected a mapping, found %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.add(path, n, "internal error: the config model has a map with non-string keys")
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.mappingKeys(n, path, func(k string) string { return joinKey(path, k) }, func(key string, kn, vn *yaml.Node) {
		kp := joinKey(path, key)
		d.record(kp, kn)
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(vn, ev, kp)
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), ev)
	})
	v.Set(m)
}

type fieldInfo struct {
	name      string
	index     int
	omitEmpty bool
}

// structFields lists a struct type's fields by their JSON names.
func structFields(cache map[reflect.Type][]fieldInfo, t reflect.Type) []fieldInfo {
	if fs, ok := cache[t]; ok {
		return fs
	}
	var fs []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fs = append(fs, fieldInfo{name: name, index: i, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	if cache != nil {
		cache[t] = fs
	}
	return fs
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.add(path, n, "expected a mapping of fields, found %s", describe(n))
		return
	}
	fs := structFields(d.fields, v.Type())
	d.mappingKeys(n, path, func(k string) string { return joinField(path, k) }, func(key string, kn, vn *yaml.Node) {
		fp := joinField(path, key)
		for _, f := range fs {
			if f.name == key {
				d.record(fp, kn)
				d.decode(vn, v.Field(f.index), fp)
				return
			}
		}
		names := make([]string, len(fs))
		for i, f := range fs {
			names[i] = f.name
		}
		if s := spelling.Suggest(key, names); s != "" {
			d.add(fp, kn, "unknown field %q (did you mean %q?)", key, s)
		} else {
			d.add(fp, kn, "unknown field %q; the fields here are %s", key, strings.Join(names, ", "))
		}
	})
}

// describe names what a node is, for messages: `a number (123)`, `a list`, `a mapping`.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string " + strconv.Quote(v)
	case "!!int", "!!float":
		return "a number (" + v + ")"
	case "!!bool":
		return "a boolean (" + v + ")"
	case "!!null":
		return "null"
	case "!!timestamp":
		return "a date (" + v + ")"
	}
	return "a value tagged " + n.Tag
}
