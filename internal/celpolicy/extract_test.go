package celpolicy

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:sts::123456789012:assumed-role/my-role/i-0abc"
	tests := []struct {
		s, template, want string
	}{
		{arn, "assumed-role/{role}/", "my-role"},
		{arn, "{account_arn}assumed-role/", "arn:aws:sts::123456789012:"},
		{arn, "assumed-role/{role}", "my-role/i-0abc"}, // empty suffix: to the end
		{arn, "{all}", arn}, // no anchors
		{arn, "arn:aws:sts::{account}:", "123456789012"}, // first suffix after the prefix
		{arn, "assumed-role/{x}/nothere", ""},            // suffix absent
		{arn, "user/{name}", ""},                         // prefix absent
		{arn, "{x}nothere", ""},                          // suffix absent, empty prefix
		{"", "{x}", ""},                                  // empty receiver
		{"", "a{x}", ""},                                 // empty receiver, prefix
		{"a/b/c/d", "/{x}/", "b"},                        // first prefix, next suffix
		{"projects/123/locations/global", "projects/{project}/", "123"},
		{"xx", "x{a}x", ""},                     // prefix and suffix overlap: suffix must follow the prefix
		{"xxx", "x{a}x", ""},                    // x|x|x: empty capture
		{"xaxbx", "x{a}x", "a"},                 // first occurrence wins
		{"prefix-only", "prefix-only{v}", ""},   // matched prefix, empty rest
		{"héllo/wörld/", "héllo/{x}/", "wörld"}, // UTF-8
		{"a{b}c", "a{x}c", "{b}"},               // braces in the receiver are literal
		{"refs/heads/main", "refs/heads/{branch}", "main"},
		{"repo:org/r:ref:refs/heads/x", "repo:{repo}:", "org/r"},
	}
	for _, tc := range tests {
		got, err := extract(tc.s, tc.template)
		if err != nil {
			t.Errorf("extract(%q, %q): %v", tc.s, tc.template, err)
			continue
		}
		if got != tc.want {
			t.Errorf("extract(%q, %q) = %q, want %q", tc.s, tc.template, got, tc.want)
		}
	}
}

func TestExtractInvalidTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		template string
		want     error
	}{
		{"", errTemplateNoPlaceholder},
		{"no-placeholder", errTemplateNoPlaceholder},
		{"{a}{b}", errTemplateMany},
		{"x{a}y{b}z", errTemplateMany},
		{"{a", errTemplateUnbalanced},
		{"a}", errTemplateUnbalanced},
		{"}a{", errTemplateUnbalanced},
		{"{{a}}", errTemplateUnbalanced},
		{"{a}}", errTemplateUnbalanced},
		{"{a}{", errTemplateUnbalanced},
		{"{}", errTemplateName},
		{"{a-b}", errTemplateName},
		{"{a b}", errTemplateName},
		{"{é}", errTemplateName},
	}
	for _, tc := range tests {
		_, err := extract("anything", tc.template)
		if !errors.Is(err, tc.want) {
			t.Errorf("extract(_, %q) error = %v, want %v", tc.template, err, tc.want)
		}
	}
}

func TestExtractInCEL(t *testing.T) {
	t.Parallel()
	claims := decodeClaims(t, `{"arn":"arn:aws:sts::123:assumed-role/my-role/i-0abc","tmpl":"assumed-role/{r}/","bad":"{a}{b}"}`)
	got, err := mapOne(t, "assertion.arn.extract('assumed-role/{role}/')", claims)
	if err != nil || len(got) != 1 || got[0] != "my-role" {
		t.Fatalf("literal template: %v, %v", got, err)
	}
	got, err = mapOne(t, "assertion.arn.extract(assertion.tmpl)", claims)
	if err != nil || len(got) != 1 || got[0] != "my-role" {
		t.Fatalf("computed template: %v, %v", got, err)
	}
	if _, err := mapOne(t, "assertion.arn.extract(assertion.bad)", claims); !errors.Is(err, ErrEvaluation) {
		t.Fatalf("invalid computed template: err = %v, want ErrEvaluation", err)
	}
	if _, err := mapOne(t, "assertion.missing.extract('{x}')", claims); !errors.Is(err, ErrEvaluation) {
		t.Fatalf("missing receiver: err = %v, want ErrEvaluation", err)
	}
}

func TestExtractLiteralTemplateCompileErrors(t *testing.T) {
	t.Parallel()
	for _, tmpl := range []string{"none", "{a}{b}", "{a", "a}", "{}", "{a b}"} {
		expr := "assertion.arn.extract('" + tmpl + "')"
		_, errs := CompileMapping(map[string]string{"google.subject": expr}, Options{})
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "invalid extract() template") {
			t.Errorf("%s: errors = %v, want one invalid-template error", expr, errs)
		}
		if _, err := CompileCondition(expr+" == 'x'", Options{}); err == nil || !strings.Contains(err.Message, "invalid extract() template") {
			t.Errorf("condition %s: error = %v, want invalid-template error", expr, err)
		}
	}
	// A template that is not a literal is only checked at evaluation.
	if _, errs := CompileMapping(map[string]string{"google.subject": "assertion.arn.extract(assertion.t)"}, Options{}); len(errs) != 0 {
		t.Errorf("computed template: %v", errs)
	}
}

func FuzzExtract(f *testing.F) {
	seeds := [][2]string{
		{"arn:aws:sts::123456789012:assumed-role/my-role/i-0abc", "assumed-role/{role}/"},
		{"arn:aws:sts::123456789012:assumed-role/my-role/i-0abc", "{account_arn}assumed-role/"},
		{"arn:aws:iam::123456789012:user/alice", "user/{name}"},
		{"projects/123/locations/global", "projects/{p}/"},
		{"xaxbx", "x{a}x"},
		{"", "{x}"},
		{"a", "{a}{b}"},
		{"a{b}c", "{{x}}"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	m, errs := CompileMapping(map[string]string{"google.subject": "'s'", "attribute.x": "assertion.s.extract(assertion.t)"}, Options{})
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	f.Fuzz(func(t *testing.T, s, template string) {
		got, err := extract(s, template)
		tp, perr := parseExtractTemplate(template)
		if (err == nil) != (perr == nil) {
			t.Fatalf("extract and parse disagree: %v vs %v", err, perr)
		}
		if err == nil {
			if rebuilt := tp.prefix + "{" + tp.name + "}" + tp.suffix; rebuilt != template {
				t.Fatalf("template %q reparsed as %q", template, rebuilt)
			}
			if strings.Count(template, "{") != 1 || strings.Count(template, "}") != 1 {
				t.Fatalf("accepted template %q with extra braces", template)
			}
			checkExtractResult(t, s, tp, got)
		}
		// The CEL function agrees with the Go function on valid UTF-8.
		if !utf8.ValidString(s) || !utf8.ValidString(template) {
			return
		}
		attrs, _, cerr := m.Evaluate(map[string]any{"s": s, "t": template})
		switch {
		case err != nil && cerr == nil:
			t.Fatalf("CEL accepted invalid template %q", template)
		case err == nil && cerr != nil && len(got) <= MaxAttributesBytes-1:
			t.Fatalf("CEL failed on valid template %q: %v", template, cerr)
		case err == nil && cerr == nil && attrs.Custom["x"][0] != got:
			t.Fatalf("CEL extract = %q, Go extract = %q", attrs.Custom["x"][0], got)
		}
	})
}

// checkExtractResult verifies got against the definition, independently of apply.
func checkExtractResult(t *testing.T, s string, tp extractTemplate, got string) {
	t.Helper()
	i := strings.Index(s, tp.prefix)
	if i < 0 {
		if got != "" {
			t.Fatalf("prefix %q absent from %q but got %q", tp.prefix, s, got)
		}
		return
	}
	rest := s[i+len(tp.prefix):]
	if !strings.HasPrefix(rest, got) {
		t.Fatalf("%q is not right after the first %q in %q", got, tp.prefix, s)
	}
	if tp.suffix == "" {
		if got != rest {
			t.Fatalf("empty suffix: got %q, want %q", got, rest)
		}
		return
	}
	j := strings.Index(rest, tp.suffix)
	if j < 0 {
		if got != "" {
			t.Fatalf("suffix %q absent but got %q", tp.suffix, got)
		}
		return
	}
	if len(got) != j {
		t.Fatalf("got %q, want the text before the first %q in %q", got, tp.suffix, rest)
	}
}
