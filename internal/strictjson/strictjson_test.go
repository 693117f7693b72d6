package strictjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeValues(t *testing.T) {
	t.Parallel()
	got, err := Decode([]byte(` {"n":-1.5e3,"i":12345678901234567890,"s":"x\u0026y","e":[],"o":{},"t":true,"f":false,"z":null} `))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"n": json.Number("-1.5e3"), "i": json.Number("12345678901234567890"), "s": "x&y",
		"e": []any{}, "o": map[string]any{}, "t": true, "f": false, "z": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	for _, in := range []string{`"s"`, `0`, `null`, `[1]`} {
		if _, err := Decode([]byte(in)); err != nil {
			t.Errorf("Decode(%s): %v", in, err)
		}
	}
}

// TestEscapes pins escape decoding, which must match encoding/json's (see
// FuzzStrictJSON): surrogate pairs combine, other surrogates become U+FFFD.
func TestEscapes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"\ud83d\ude80"`:       "\U0001F680",
		`"\uD83D\uDE80x"`:      "\U0001F680x",
		`"\ud800\u0041"`:       "\uFFFDA",
		`"\udc00\ud800"`:       "\uFFFD\uFFFD",
		`"\ud800\ud800\udc00"`: "\uFFFD\U00010000",
		`"a\/b\\c\"d"`:         `a/b\c"d`,
		`"\b\f\n\r\t\u0000"`:   "\b\f\n\r\t\x00",
		`"caf\u00e9 ✓"`:        "café ✓",
	} {
		got, err := Decode([]byte(in))
		if err != nil || got != want {
			t.Errorf("Decode(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDecodeObject(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`[]`, `"x"`, `1`, `null`, `true`} {
		_, err := DecodeObject([]byte("  " + in))
		var e *Error
		if !errors.Is(err, ErrNotObject) || !errors.As(err, &e) || e.Offset != 2 {
			t.Errorf("DecodeObject(%s) = %v, want ErrNotObject at 2", in, err)
		}
		if _, err := DecodeObjectString(in); !errors.Is(err, ErrNotObject) {
			t.Errorf("DecodeObjectString(%s) = %v", in, err)
		}
	}
	m, err := DecodeObjectString(`{"a":"b","c":{"d":[1]}}`)
	if err != nil || m["a"] != "b" || !reflect.DeepEqual(m["c"], map[string]any{"d": []any{json.Number("1")}}) {
		t.Fatalf("DecodeObjectString = %#v, %v", m, err)
	}
	// Syntax errors take precedence over the object check.
	if _, err := DecodeObject([]byte(`[`)); !errors.Is(err, ErrSyntax) {
		t.Fatalf("got %v", err)
	}
}

// TestErrors pins each reason and the offset it is reported at.
func TestErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	deepObj := strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	for _, in := range []string{deep, deepObj} {
		if _, err := Decode([]byte(in)); err != nil {
			t.Errorf("depth %d refused: %v", MaxDepth, err)
		}
	}
	tests := []struct {
		in     string
		kind   error
		offset int
	}{
		{"", ErrSyntax, 0},
		{"   ", ErrSyntax, 3},
		{`{"a":1,}`, ErrSyntax, 7},
		{`{"a" 1}`, ErrSyntax, 5},
		{`{"a":1 "b":2}`, ErrSyntax, 7},
		{`[1 2]`, ErrSyntax, 3},
		{`[1,`, ErrSyntax, 3},
		{`{"a":"x\qy"}`, ErrSyntax, 5},
		{"{\"a\":\"x\ty\"}", ErrSyntax, 7},
		{`"abc\`, ErrSyntax, 5},
		{`{"a":tru}`, ErrSyntax, 5},
		{`{"a":-}`, ErrSyntax, 6},
		{`{"a":1.}`, ErrSyntax, 7},
		{`{"a":1e}`, ErrSyntax, 7},
		{`{"a":01}`, ErrSyntax, 6},
		{`{'a':1}`, ErrSyntax, 1},
		{`{"a":1}/**/`, ErrTrailingData, 7},
		{`{"a":1} {}`, ErrTrailingData, 8},
		{`truex`, ErrTrailingData, 4},
		{`{"a":1,"a":2}`, ErrDuplicateMember, 7},
		{`{"a":1,"\u0061":2}`, ErrDuplicateMember, 7},
		{`[{"x":{"k":1,"k":1}}]`, ErrDuplicateMember, 13},
		{`{"\ud800":1,"\ufffd":2}`, ErrDuplicateMember, 12},
		{`{"a":"\ud800\x"}`, ErrSyntax, 5},
		{`{"a":"\'"}`, ErrSyntax, 5},
		{"{\"a\":\"\xff\"}", ErrInvalidUTF8, 6},
		{"\"é\xc3\"", ErrInvalidUTF8, 3},
		{"[" + deep + "]", ErrTooDeep, MaxDepth},
		{`{"x":` + deepObj + `}`, ErrTooDeep, 5 + 5*(MaxDepth-1)},
	}
	for _, tc := range tests {
		_, err := Decode([]byte(tc.in))
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, tc.kind) || e.Kind != tc.kind || e.Offset != tc.offset {
			t.Errorf("Decode(%q) = %v, want %v at byte %d", tc.in, err, tc.kind, tc.offset)
		}
	}
}

// TestErrorsDoNotEchoInput: error text names the reason and offset only, so
// it may be logged even when the input is a token.
func TestErrorsDoNotEchoInput(t *testing.T) {
	t.Parallel()
	const secret = "SECRETMARKER"
	for _, in := range []string{
		`{"` + secret + `":1,"` + secret + `":2}`, `{"a":"` + secret + `\q"}`, `{"a":1}` + secret,
		`{"a":` + secret + `}`, "{\"" + secret + "\xff\":1}",
	} {
		_, err := Decode([]byte(in))
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), " at byte ") {
			t.Errorf("%q: error %v", in, err)
		}
	}
}

// TestDecodeCopiesInput: values returned by Decode do not alias the caller's
// buffer, which may be reused.
func TestDecodeCopiesInput(t *testing.T) {
	t.Parallel()
	buf := []byte(`{"k":"value"}`)
	m, err := DecodeObject(buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, strings.Repeat("x", len(buf)))
	if m["k"] != "value" {
		t.Fatalf("value changed to %q", m["k"])
	}
}

func BenchmarkDecodeObject(b *testing.B) {
	in := []byte(`{"iss":"https://token.actions.githubusercontent.com","sub":"repo:octo-org/octo-repo:environment:prod",` +
		`"aud":["https://github.com/octo-org"],"ref":"refs/heads/main","iat":1632493567,"nbf":1632492967,"exp":1632493867,` +
		`"job_workflow_ref":"octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main","esc":"a\u0026b"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := DecodeObject(in); err != nil {
			b.Fatal(err)
		}
	}
}
