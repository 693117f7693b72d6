package gcemeta

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"recursive=true", map[string]string{"recursive": "true"}},
		// Node and gcloud do not escape the audience.
		{"format=full&audience=https://svc.example/path?x=1", map[string]string{"format": "full", "audience": "https://svc.example/path?x=1"}},
		{"audience=https%3A%2F%2Fsvc%2Fp%3Fx%3D1%26y%3D2&format=full", map[string]string{"audience": "https://svc/p?x=1&y=2", "format": "full"}},
		{"audience=a=b", map[string]string{"audience": "a=b"}},
		{"a=1&a=2", map[string]string{"a": "1"}},
		{"a=%zz&b=1%", map[string]string{"a": "%zz", "b": "1%"}},
		{"a=x;y&&flag", map[string]string{"a": "x;y", "flag": ""}},
		{"scopes=a+b", map[string]string{"scopes": "a b"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, parseQuery(tc.raw)); diff != "" {
			t.Errorf("parseQuery(%q) (-want +got):\n%s", tc.raw, diff)
		}
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"": false, "false": false, "FALSE": false, "true": true, "TRUE": true, "True": true} {
		if got, err := parseBool(in); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"1", "yes", "t", " true"} {
		if _, err := parseBool(in); err == nil {
			t.Errorf("parseBool(%q) accepted", in)
		}
	}
}

func TestEscapeQuery(t *testing.T) {
	t.Parallel()
	if got, want := escapeQuery("a=1&b=\"<>\\# \x7f\xff"), "a=1&b=%22%3C%3E%5C%23%20%7F%FF"; got != want {
		t.Errorf("escapeQuery = %q, want %q", got, want)
	}
}
