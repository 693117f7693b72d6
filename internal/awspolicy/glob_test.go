package awspolicy

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// refGlob is a straightforward dynamic-programming matcher used as the oracle.
func refGlob(pattern, s string) bool {
	chars := func(x string) []string {
		var out []string
		for len(x) > 0 {
			_, n := utf8.DecodeRuneInString(x)
			out = append(out, x[:n])
			x = x[n:]
		}
		return out
	}
	p, v := chars(pattern), chars(s)
	// dp[j]: pattern[:i] matches v[:j].
	dp := make([]bool, len(v)+1)
	dp[0] = true
	for _, pc := range p {
		next := make([]bool, len(v)+1)
		switch pc {
		case "*":
			acc := false
			for j := range next {
				acc = acc || dp[j]
				next[j] = acc
			}
		default:
			for j := 1; j <= len(v); j++ {
				next[j] = dp[j-1] && (pc == "?" || pc == v[j-1])
			}
		}
		dp = next
	}
	return dp[len(v)]
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"?", "", false},
		{"?", "é", true},
		{"??", "é", false},
		{"a*b", "ab", true},
		{"a*b", "axxb", true},
		{"a*b", "axxbc", false},
		{"a*b*c", "abbbc", true},
		{"repo:org/*", "repo:org/x:ref:refs/heads/main", true},
		{"repo:org/*:ref:refs/heads/main", "repo:org/x:ref:refs/heads/dev", false},
		{"*a", "bbba", true},
		{"a**", "a", true},
		{"A", "a", false},
		{"\\*", "\\x", true}, // no escaping
		{"[a]", "a", false},  // no classes
	}
	for _, tc := range tests {
		if got := globMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
		if got := refGlob(tc.p, tc.s); got != tc.want {
			t.Errorf("refGlob(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

// TestGlobNoBlowup: a pattern that makes naive backtracking exponential.
func TestGlobNoBlowup(t *testing.T) {
	t.Parallel()
	p := strings.Repeat("*a", 200) + "b"
	s := strings.Repeat("a", 8000)
	start := time.Now()
	if globMatch(p, s) {
		t.Fatal("matched")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"repo:org/*", "repo:org/r:ref:refs/heads/main"}, {"a?c*", "abcdef"}, {"*a*a*b", "aaaaab"},
		{"?é*", "xé"}, {"*", ""}, {"\xff?", "\xff\xfe"}, {"sts:*", "sts:assumerolewithwebidentity"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 64 || len(s) > 256 {
			return
		}
		if got, want := globMatch(p, s), refGlob(p, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, reference %v", p, s, got, want)
		}
	})
}
