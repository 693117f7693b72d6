package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The streaming decoder below is the original strict decoder, built on
// encoding/json's tokenizer. It is kept as the reference the parser is checked
// against (TestMatchesReference, FuzzStrictJSON). It returns bare sentinels.

func refDecode(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, ErrInvalidUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, ErrSyntax
	}
	v, err := refReadValue(dec, tok, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrTrailingData
	}
	return v, nil
}

func refReadValue(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return nil, ErrTooDeep
		}
		switch t {
		case '{':
			return refReadObject(dec, depth+1)
		case '[':
			return refReadArray(dec, depth+1)
		}
		return nil, ErrSyntax
	case string, json.Number, bool, nil:
		return t, nil
	}
	return nil, ErrSyntax
}

func refReadObject(dec *json.Decoder, depth int) (map[string]any, error) {
	m := make(map[string]any)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, ErrSyntax
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return m, nil
		}
		name, ok := tok.(string)
		if !ok {
			return nil, ErrSyntax
		}
		if _, dup := m[name]; dup {
			return nil, ErrDuplicateMember
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, ErrSyntax
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
			return nil, ErrSyntax
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

var seeds = []string{
	`{}`, `[]`, `{"a":1}`, `{"a":"b","c":[1,2.5,-3e10,true,false,null,{"d":{}}]}`,
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"b":1,"b":2}}`, `[{"x":1},{"x":1}]`,
	`{"s":"\ud83d\ude80"}`, `{"s":"\ud800"}`, `{"s":"\u0000"}`, `{"s":"a\"b\\c\/d\b\f\n\r\t"}`,
	`{"s":"\x"}`, "{\"s\":\"\x01\"}", `{"s":"unterminated}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{,}`,
	`01`, `-`, `-0`, `1.`, `.5`, `1e`, `1e+`, `1E-7`, `-0.0e0`, `1.5e308`, `1e400`,
	`tru`, `nul`, `true`, `truex`, ` {"a":1} `, `{"a":1} x`, `{"a":1}{}`, "\t{\n\"a\"\r:1}", `"str"`, `123`,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, `{"é":"ü"}`, "{\"a\":\"\xff\"}",
	`{"alg":"ES256","kid":"k1","typ":"JWT"}`, `{"iss":"https://x","aud":["a","b"],"exp":1700000000,"nested":{"k":"v"}}`,
	`"\ud83d\ude80"`, `"\uD83D\uDE80"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`, `"\ud800"`, `"a\ud800"`,
	`"\ud800\"`, `"\ud800\x"`, `"\ud800\u12"`, `"\'"`, `"\u12"`, `"\u12G4"`, `"\u00e9\u00E9"`, `"\uFFFF\uFFFE"`,
	`"x\\"`, `"\\\""`, `"\"`, `"\u0000\u001f"`, `"é\n✓\t"`, `{"\ud800":1,"\udc00":2}`, `{"\ud800":1,"\ufffd":2}`,
	`{"url":"https://sts.amazonaws.com?Action=GetCallerIdentity\u0026Version=2011-06-15","method":"POST",` +
		`"headers":[{"key":"Host","value":"sts.amazonaws.com"},{"key":"X-Amz-Date","value":"20261122T210326Z"}]}`,
}

// agreeingKinds are the reasons both decoders must report alike. Syntax and
// trailing data are not among them: the tokenizer calls "truex" a syntax
// error where this parser sees "true" followed by trailing data.
var agreeingKinds = []error{ErrDuplicateMember, ErrTooDeep, ErrInvalidUTF8}

func checkAgainstReference(t *testing.T, in []byte) {
	t.Helper()
	got, gerr := Decode(in)
	want, werr := refDecode(in)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: accept mismatch: err %v, reference err %v", in, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: value mismatch: %#v vs %#v", in, got, want)
	}
	if gerr == nil {
		return
	}
	var e *Error
	if !errors.As(gerr, &e) || e.Offset < 0 || e.Offset > len(in) {
		t.Fatalf("%q: error %#v is not an *Error with an in-range offset", in, gerr)
	}
	for _, k := range agreeingKinds {
		if errors.Is(gerr, k) != errors.Is(werr, k) {
			t.Fatalf("%q: reason mismatch: %v, reference %v", in, gerr, werr)
		}
	}
}

func TestMatchesReference(t *testing.T) {
	t.Parallel()
	for _, in := range seeds {
		checkAgainstReference(t, []byte(in))
	}
}

// FuzzStrictJSON checks the parser against the reference decoder: the same
// accept/reject decision, the same value, and the same reason for duplicate
// members, excess depth and invalid UTF-8.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstReference(t, in)
	})
}
