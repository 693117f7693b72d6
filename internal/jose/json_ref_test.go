package jose

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"
)

// The streaming decoder below is the original strict decoder, built on
// encoding/json's tokenizer. It is kept as the reference the faster parser in
// json.go is checked against (TestStrictJSONMatchesReference, FuzzStrictJSON).

// refDecodeStrict decodes exactly one JSON value with the checks of decodeObject.
func refDecodeStrict(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errJSONUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errJSONSyntax
	}
	v, err := refReadValue(dec, tok, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errJSONTrailing
	}
	return v, nil
}

func refReadValue(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, errJSONDepth
		}
		switch t {
		case '{':
			return refReadObject(dec, depth+1)
		case '[':
			return refReadArray(dec, depth+1)
		}
		return nil, errJSONSyntax
	case string, json.Number, bool, nil:
		return t, nil
	}
	return nil, errJSONSyntax
}

func refReadObject(dec *json.Decoder, depth int) (map[string]any, error) {
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
		v, err := refReadValue(dec, tok, depth)
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
}

func refReadArray(dec *json.Decoder, depth int) ([]any, error) {
	a := []any{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, errJSONSyntax
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			return a, nil
		}
		v, err := refReadValue(dec, tok, depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

var strictJSONSeeds = []string{
	`{}`, `[]`, `{"a":1}`, `{"a":"b","c":[1,2.5,-3e10,true,false,null,{"d":{}}]}`,
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"b":1,"b":2}}`, `[{"x":1},{"x":1}]`,
	`{"s":"\ud83d\ude80"}`, `{"s":"\ud800"}`, `{"s":"\u0000"}`, `{"s":"a\"b\\c\/d\b\f\n\r\t"}`,
	`{"s":"\x"}`, "{\"s\":\"\x01\"}", `{"s":"unterminated}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{,}`,
	`01`, `-`, `-0`, `1.`, `.5`, `1e`, `1e+`, `1E-7`, `-0.0e0`, `1.5e308`, `1e400`,
	`tru`, `nul`, `true`, ` {"a":1} `, `{"a":1} x`, `{"a":1}{}`, "\t{\n\"a\"\r:1}", `"str"`, `123`,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, `{"é":"ü"}`, "{\"a\":\"\xff\"}",
	`{"alg":"ES256","kid":"k1","typ":"JWT"}`, `{"iss":"https://x","aud":["a","b"],"exp":1700000000,"nested":{"k":"v"}}`,
}

func TestStrictJSONMatchesReference(t *testing.T) {
	t.Parallel()
	for _, in := range strictJSONSeeds {
		got, gerr := decodeStrict([]byte(in))
		want, werr := refDecodeStrict([]byte(in))
		if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got (%v, %v), reference (%v, %v)", in, got, gerr, want, werr)
		}
	}
}

// FuzzStrictJSON checks the fast strict parser against the reference decoder:
// same accept/reject decision and the same value for every input.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range strictJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, gerr := decodeStrict(in)
		want, werr := refDecodeStrict(in)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: accept mismatch: fast err %v, reference err %v", in, gerr, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: value mismatch: %#v vs %#v", in, got, want)
		}
	})
}
