package celpolicy

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitConjunction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want []string
	}{
		{"a", []string{"a"}},
		{"  a  ", []string{"a"}},
		{"a && b", []string{"a", "b"}},
		{"a&&b&&c", []string{"a", "b", "c"}},
		{"(a && b)", []string{"a", "b"}},
		{"((a && b))", []string{"a", "b"}},
		{"(a) && (b)", []string{"(a)", "(b)"}},
		{"(a || b) && c", []string{"(a || b)", "c"}},
		{"a && (b && c)", []string{"a", "(b && c)"}},
		{"a || b", []string{"a || b"}},
		{"a && b || c", []string{"a && b || c"}},
		{"a ? b : c && d", []string{"a ? b : c && d"}},
		{"f(a && b) && [x && y][0] && {'k': p && q}['k']", []string{"f(a && b)", "[x && y][0]", "{'k': p && q}['k']"}},
		{`x == 'a && b' && y == "c || d"`, []string{`x == 'a && b'`, `y == "c || d"`}},
		{`x == 'it\'s && ok' && y`, []string{`x == 'it\'s && ok'`, "y"}},
		{`x == r'\' && y`, []string{`x == r'\'`, "y"}},
		{`x == rb'\' && y`, []string{`x == rb'\'`, "y"}},
		{`x == '''a ' && b''' && y`, []string{`x == '''a ' && b'''`, "y"}},
		{`x == """a " && ) b""" && y`, []string{`x == """a " && ) b"""`, "y"}},
		{"a // note && not split\n && b", []string{"a // note && not split", "b"}},
		{"a && b // (", []string{"a", "b // ("}},
		{"x == '(' && y == ')'", []string{"x == '('", "y == ')'"}},
		{"(a) || (b)", []string{"(a) || (b)"}},
		{"(a) && b)", []string{"(a)", "b)"}}, // junk in, but no panic (the AST check rejects it)
		{"x == 'unterminated && y", []string{"x == 'unterminated && y"}},
		{"a && && b", []string{"a && && b"}}, // empty operand
		{"a &&", []string{"a &&"}},
		{"", []string{""}},
		{"name == `weird && id` && b", []string{"name == `weird && id`", "b"}},
		{"bar'x' && y", []string{"bar'x'", "y"}},
	}
	for _, tc := range tests {
		if d := cmp.Diff(tc.want, splitConjunction(tc.src)); d != "" {
			t.Errorf("splitConjunction(%q) (-want +got):\n%s", tc.src, d)
		}
	}
}

func TestSplitClausesRejectsMismatch(t *testing.T) {
	t.Parallel()
	env, err := newEnv(true)
	if err != nil {
		t.Fatal(err)
	}
	whole, iss := env.Compile("assertion.a == 'x' && assertion.b == 'y' && assertion.c == 'z'")
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	// Source that does not match the AST: the split is refused.
	if got := splitClauses(env, whole, "assertion.a == 'x' && assertion.b == 'y'", DefaultCostLimit); got != nil {
		t.Fatalf("mismatched split accepted: %v", got)
	}
	if got := splitClauses(env, whole, "assertion.a == 'x' && assertion.b == 'y' && assertion.c == 'q'", DefaultCostLimit); got != nil {
		t.Fatalf("different literal accepted: %v", got)
	}
	if got := splitClauses(env, whole, "assertion.a == 'x' && assertion.b == 'y' && assertion.c == 'z'", DefaultCostLimit); len(got) != 3 {
		t.Fatalf("matching split: %v", got)
	}
}

func FuzzSplitConjunction(f *testing.F) {
	for _, s := range []string{
		"assertion.repository_owner == 'my-org' && assertion.ref == 'refs/heads/main'",
		"(a || b) && c", `x == '''a ' && b''' && y`, "a // c\n && b", `r'\' && "\"" && b'x'`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts := splitConjunction(s)
		if len(parts) == 0 {
			t.Fatal("no clauses")
		}
		// The parts are pieces of the source, in order.
		rest := s
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 {
				t.Fatalf("part %q is not in order in %q", p, s)
			}
			rest = rest[i+len(p):]
		}
		if len(parts) > 1 {
			if c, err := CompileCondition(s, Options{}); err == nil && len(c.Clauses()) > 1 && !slices.Equal(c.Clauses(), parts) {
				t.Fatalf("condition clauses %q differ from the split %q", c.Clauses(), parts)
			}
		}
	})
}
