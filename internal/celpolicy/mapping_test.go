package celpolicy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompileMappingKeyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		exprs map[string]string
		key   string
		want  string
	}{
		{"missing subject", map[string]string{"attribute.x": "assertion.x"}, "google.subject", "google.subject must be mapped"},
		{"unknown google", map[string]string{"google.subject": "assertion.sub", "google.foo": "assertion.x"}, "google.foo", `unknown attribute "google.foo"`},
		{"google typo", map[string]string{"google.subject": "assertion.sub", "google.grups": "assertion.x"}, "google.grups", "did you mean 'google.groups'?"},
		{"capitalised attribute", map[string]string{"google.subject": "assertion.sub", "Attribute.X": "assertion.x"}, "Attribute.X", `did you mean "attribute.x"?`},
		{"capitalised name", map[string]string{"google.subject": "assertion.sub", "attribute.Repo": "assertion.x"}, "attribute.Repo", `must be lowercase (did you mean "repo"?)`},
		{"dash in name", map[string]string{"google.subject": "assertion.sub", "attribute.my-repo": "assertion.x"}, "attribute.my-repo", "may only contain a-z, 0-9 and '_'"},
		{"empty name", map[string]string{"google.subject": "assertion.sub", "attribute.": "assertion.x"}, "attribute.", "must be 1 to 100 characters"},
		{"long name", map[string]string{"google.subject": "assertion.sub", "attribute." + strings.Repeat("a", 101): "assertion.x"}, "attribute." + strings.Repeat("a", 101), "must be 1 to 100 characters"},
		{"unknown key", map[string]string{"google.subject": "assertion.sub", "subject": "assertion.x"}, "subject", "keys are google.subject, google.groups or attribute.NAME"},
		{"google_subject", map[string]string{"google_subject": "assertion.sub"}, "google_subject", "did you mean 'google.subject'?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, errs := CompileMapping(tc.exprs, Options{})
			if m != nil {
				t.Fatal("got a Mapping despite errors")
			}
			var found bool
			for _, e := range errs {
				if e.Key == tc.key && strings.Contains(e.Message, tc.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("errors = %v, want key %q with %q", errs, tc.key, tc.want)
			}
		})
	}
}

func TestCompileMappingAttributeLimits(t *testing.T) {
	t.Parallel()
	exprs := map[string]string{"google.subject": "assertion.sub", "attribute." + strings.Repeat("a", 100): "'x'"}
	for i := range MaxCustomAttributes - 1 {
		exprs[fmt.Sprintf("attribute.a%02d", i)] = "'x'"
	}
	if _, errs := CompileMapping(exprs, Options{}); len(errs) != 0 {
		t.Fatalf("50 attributes, 100-character name: %v", errs)
	}
	exprs["attribute.zz"] = "'x'"
	_, errs := CompileMapping(exprs, Options{})
	if len(errs) != 1 || errs[0].Key != "attribute.zz" || !strings.Contains(errs[0].Message, "the limit is 50") {
		t.Fatalf("51 attributes: %v", errs)
	}
}

func TestCompileMappingExpressionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, expr, want string
		column                int
	}{
		{"empty", "google.subject", "", "expression is empty", 0},
		{"blank", "google.subject", " \n\t", "expression is empty", 0},
		{"too long", "google.subject", "'" + strings.Repeat("a", 2047) + "'", "expression is 2049 characters, the limit is 2048", 0},
		{"invalid utf8", "google.subject", "'\xff'", "not valid UTF-8", 0},
		{"typo variable", "google.subject", "assertions.sub", "undeclared reference to 'assertions' (did you mean 'assertion'?)", 1},
		{"typo function", "google.subject", "assertion.sub.lowerAsci()", "did you mean 'lowerAscii'?", 24},
		{"google in mapping", "attribute.x", "google.subject", "undeclared reference to 'google'", 1},
		{"attribute in mapping", "attribute.x", "attribute.y", "undeclared reference to 'attribute'", 1},
		{"syntax eof", "google.subject", "assertion.sub +", "syntax error: unexpected end of expression", 16},
		{"syntax junk", "google.subject", "assertion.sub )", "syntax error: unexpected ')'", 15},
		{"bad regex", "google.subject", "assertion.sub.matches('(') ? 'a' : 'b'", "invalid matches argument", 23},
		{"int result", "attribute.x", "size(assertion.groups)", "must produce a string or a list of strings, found 'int' (convert with string(...))", 0},
		{"bool result", "attribute.x", "assertion.a == 'b'", "found 'bool'", 0},
		{"map result", "attribute.x", "{'a': 'b'}", "found 'map(string, string)'", 0},
		{"list int", "attribute.x", "[1, 2]", "found 'list(int)'", 0},
		{"bytes result", "attribute.x", "base64.decode('YQ==')", "found 'bytes'", 0},
		{"subject list", "google.subject", "['a']", "google.subject must be a single string", 0},
		{"subject list dyn", "google.subject", "[assertion.sub]", "google.subject must be a single string", 0},
		{"operator overload", "attribute.x", "'a' + 1", "found no matching overload for '+' applied to '(string, int)'", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exprs := map[string]string{"google.subject": "assertion.sub", tc.key: tc.expr}
			_, errs := CompileMapping(exprs, Options{})
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want exactly one", errs)
			}
			e := errs[0]
			if e.Key != tc.key || !strings.Contains(e.Message, tc.want) || e.Column != tc.column {
				t.Fatalf("error = {%q %q col %d}, want {%q ...%q... col %d}", e.Key, e.Message, e.Column, tc.key, tc.want, tc.column)
			}
			if !strings.HasPrefix(e.Error(), fmt.Sprintf("attributeMapping[%q]: ", tc.key)) {
				t.Fatalf("Error() = %q", e.Error())
			}
		})
	}
}

func TestCompileMappingAcceptsDynAndLists(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"assertion.sub", "'literal'", "assertion.a + '/' + assertion.b", "assertion.groups",
		"['a', 'b']", "[assertion.a, assertion.b]", "assertion.groups.map(g, g.lowerAscii())",
		"assertion['kubernetes.io']['namespace']", "string(assertion.runner_id)",
	} {
		if _, errs := CompileMapping(map[string]string{"google.subject": "assertion.sub", "attribute.x": expr}, Options{}); len(errs) != 0 {
			t.Errorf("%s: %v", expr, errs)
		}
	}
}

func TestCompileErrorPosition(t *testing.T) {
	t.Parallel()
	_, errs := CompileMapping(map[string]string{"google.subject": "assertion.sub +\n  assertionz.x"}, Options{})
	if len(errs) != 1 || errs[0].Line != 2 || errs[0].Column != 3 {
		t.Fatalf("errors = %+v", errs)
	}
	if got, want := errs[0].Error(), `attributeMapping["google.subject"]: line 2, column 3: undeclared reference to 'assertionz' (did you mean 'assertion'?)`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestEvaluateGitHubActions(t *testing.T) {
	t.Parallel()
	claims := fixtureClaims(t, "github_actions_docs_example.json")
	m := mustMapping(t, map[string]string{
		"google.subject":             "assertion.sub",
		"attribute.repository":       "assertion.repository",
		"attribute.repository_owner": "assertion.repository_owner",
		"attribute.actor":            "assertion.actor",
		"attribute.workflow_file":    "assertion.job_workflow_ref.extract('/.github/workflows/{file}@')",
		"attribute.owner_id":         "assertion.repository_owner_id",
	})
	attrs, traces, err := m.Evaluate(claims)
	if err != nil {
		t.Fatal(err)
	}
	want := &Attributes{
		Subject: "repo:octo-org/octo-repo:environment:prod",
		Custom: map[string][]string{
			"repository":       {"octo-org/octo-repo"},
			"repository_owner": {"octo-org"},
			"actor":            {"octocat"},
			"workflow_file":    {"oidc.yml"},
			"owner_id":         {"65"},
		},
	}
	if d := cmp.Diff(want, attrs); d != "" {
		t.Fatalf("attributes (-want +got):\n%s", d)
	}
	var keys []string
	for _, tr := range traces {
		keys = append(keys, tr.Key)
		if tr.Err != "" || len(tr.Value) != 1 {
			t.Errorf("trace %+v", tr)
		}
	}
	wantKeys := []string{"google.subject", "attribute.actor", "attribute.owner_id", "attribute.repository", "attribute.repository_owner", "attribute.workflow_file"}
	if d := cmp.Diff(wantKeys, keys); d != "" {
		t.Fatalf("trace order (-want +got):\n%s", d)
	}
	if got := m.Keys(); cmp.Diff(wantKeys, got) != "" {
		t.Fatalf("Keys() = %v", got)
	}
	if e, ok := m.Expression("attribute.actor"); !ok || e != "assertion.actor" {
		t.Fatalf("Expression = %q, %v", e, ok)
	}
	if _, ok := m.Expression("attribute.nope"); ok {
		t.Fatal("Expression of an unmapped key")
	}
}

func TestEvaluateKubernetesNested(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{
		"google.subject":            "assertion.sub",
		"attribute.namespace":       "assertion['kubernetes.io']['namespace']",
		"attribute.service_account": "assertion['kubernetes.io'].serviceaccount.name",
		"attribute.pod":             "has(assertion['kubernetes.io'].pod) ? assertion['kubernetes.io'].pod.name : 'none'",
		"attribute.warnafter":       "assertion['kubernetes.io'].warnafter",
	})
	for _, tc := range []struct{ file, ns, sa, pod, warn string }{
		{"k8s_projected_sa_token.json", "kube-system", "coredns", "coredns-69cbfb9798-jv9gn", "1700081020"},
		{"k8s_eks_token.json", "default", "default", "alpine", "1643703070"},
	} {
		attrs, _, err := m.Evaluate(fixtureClaims(t, tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		want := map[string][]string{"namespace": {tc.ns}, "service_account": {tc.sa}, "pod": {tc.pod}, "warnafter": {tc.warn}}
		if d := cmp.Diff(want, attrs.Custom); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.file, d)
		}
	}
}

func TestEvaluateGitLabNumbersAndLists(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{
		"google.subject":        "assertion.sub",
		"google.groups":         "assertion.groups_direct",
		"attribute.runner_id":   "assertion.runner_id",
		"attribute.groups":      "assertion.groups_direct",
		"attribute.project":     "assertion.project_path",
		"attribute.config_file": "assertion.ci_config_ref_uri.extract('//{file}@')",
	})
	attrs, _, err := m.Evaluate(fixtureClaims(t, "gitlab_ci_id_token.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Attributes{
		Subject: "project_path:my-group/my-project:ref_type:branch:ref:main",
		Groups:  []string{"my-group/my-subgroup"},
		Custom: map[string][]string{
			"runner_id":   {"1"},
			"groups":      {"my-group/my-subgroup"},
			"project":     {"my-group/my-project"},
			"config_file": {".gitlab-ci.yml"},
		},
		ListValued: map[string]bool{"groups": true},
	}
	if d := cmp.Diff(want, attrs); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestEvaluateResultConversion(t *testing.T) {
	t.Parallel()
	claims := decodeClaims(t, `{"int":1,"neg":-7,"big":18446744073709551615,"double":1.5,"intfloat":1.0,"exp":1e3,
		"t":true,"f":false,"null":null,"nul":null,"obj":{"a":"b"},"strs":["a","b"],"mixed":["a",1],"empty":[],"str":"s",
		"huge":1e400}`)
	tests := []struct {
		expr string
		want []string
		err  bool
	}{
		{"assertion.int", []string{"1"}, false},
		{"assertion.neg", []string{"-7"}, false},
		{"assertion.big", []string{"18446744073709551615"}, false},
		{"assertion.double", []string{"1.5"}, false},
		{"assertion.intfloat", []string{"1"}, false},
		{"assertion.exp", []string{"1000"}, false},
		{"assertion.t", []string{"true"}, false},
		{"assertion.f", []string{"false"}, false},
		{"assertion.strs", []string{"a", "b"}, false},
		{"assertion.empty", []string{}, false},
		{"assertion.str", []string{"s"}, false},
		{"assertion['null']", nil, true},
		{"assertion.nul", nil, true},
		{"assertion.obj", nil, true},
		{"assertion.mixed", nil, true},
		{"[assertion.int]", nil, true},
		{"dyn(base64.decode('YQ=='))", nil, true}, // bytes
		{"assertion.huge", nil, true},
		{"assertion.nope", nil, true},
		{"assertion.int + 'x'", nil, true}, // no such overload at runtime
		{"assertion.obj.nope", nil, true},
	}
	for _, tc := range tests {
		got, err := mapOne(t, tc.expr, claims)
		if tc.err {
			var ee *EvalError
			if !errors.Is(err, ErrEvaluation) || !errors.As(err, &ee) || ee.Key != "attribute.x" || ee.Expression != tc.expr {
				t.Errorf("%s: err = %v, want ErrEvaluation for attribute.x", tc.expr, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.expr, d)
		}
	}
	// Claims decoded without UseNumber (float64) work too.
	got, err := mapOne(t, "assertion.n", map[string]any{"n": float64(42)})
	if err != nil || got[0] != "42" {
		t.Fatalf("float64 claim: %v %v", got, err)
	}
}

func TestEvaluateGroups(t *testing.T) {
	t.Parallel()
	claims := decodeClaims(t, `{"sub":"s","one":"admins","many":["a","b"],"none":[]}`)
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{"assertion.one", []string{"admins"}},
		{"assertion.many", []string{"a", "b"}},
		{"assertion.none", []string{}},
	} {
		m := mustMapping(t, map[string]string{"google.subject": "assertion.sub", "google.groups": tc.expr})
		attrs, _, err := m.Evaluate(claims)
		if err != nil {
			t.Fatal(err)
		}
		if attrs.Groups == nil || cmp.Diff(tc.want, attrs.Groups) != "" {
			t.Errorf("%s: groups = %#v, want %#v", tc.expr, attrs.Groups, tc.want)
		}
	}
	m := mustMapping(t, map[string]string{"google.subject": "assertion.sub"})
	attrs, _, err := m.Evaluate(claims)
	if err != nil || attrs.Groups != nil {
		t.Fatalf("unmapped groups = %#v, %v; want nil", attrs.Groups, err)
	}
}

func TestEvaluateSubjectRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sub  any
		want error
	}{
		{"127 ascii bytes", strings.Repeat("a", 127), nil},
		{"128 ascii bytes", strings.Repeat("a", 128), ErrSubjectTooLong},
		{"63 two-byte chars (126 bytes)", strings.Repeat("é", 63), nil},
		{"64 two-byte chars (128 bytes)", strings.Repeat("é", 64), ErrSubjectTooLong},
		{"empty", "", ErrSubjectEmpty},
		{"list at runtime", []any{"a"}, ErrEvaluation},
		{"number", 7, nil},
		{"null", nil, ErrEvaluation},
	}
	m := mustMapping(t, map[string]string{"google.subject": "assertion.sub"})
	for _, tc := range tests {
		attrs, traces, err := m.Evaluate(map[string]any{"sub": tc.sub})
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			continue
		}
		if err != nil {
			var ee *EvalError
			if attrs != nil || !errors.As(err, &ee) || ee.Key != "google.subject" || traces[0].Err == "" {
				t.Errorf("%s: attrs=%v err=%#v traces=%+v", tc.name, attrs, err, traces)
			}
			if strings.Contains(ee.Public(), "aaaa") {
				t.Errorf("public text leaks the value: %q", ee.Public())
			}
		}
	}
}

func TestEvaluateAttributesTooLarge(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{
		"google.subject": "assertion.sub",
		"google.groups":  "assertion.groups",
		"attribute.a":    "assertion.a",
	})
	// 1 (subject) + 2*1000 (groups) + len(a)
	groups := []any{strings.Repeat("g", 1000), strings.Repeat("h", 1000)}
	ok := map[string]any{"sub": "s", "groups": groups, "a": strings.Repeat("x", MaxAttributesBytes-2001)}
	if _, _, err := m.Evaluate(ok); err != nil {
		t.Fatalf("exactly %d bytes: %v", MaxAttributesBytes, err)
	}
	over := map[string]any{"sub": "s", "groups": groups, "a": strings.Repeat("x", MaxAttributesBytes-2000)}
	attrs, _, err := m.Evaluate(over)
	if !errors.Is(err, ErrAttributesTooLarge) || attrs != nil {
		t.Fatalf("over the limit: %v", err)
	}
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Public() != "the mapped attributes exceed 8192 bytes" {
		t.Fatalf("public text: %v", err)
	}
}

func TestEvaluateErrorTraces(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{
		"google.subject": "assertion.sub",
		"attribute.a":    "assertion.missing",
		"attribute.b":    "assertion.b",
	})
	attrs, traces, err := m.Evaluate(map[string]any{"sub": "s", "b": "bee"})
	if attrs != nil || !errors.Is(err, ErrEvaluation) {
		t.Fatalf("attrs=%v err=%v", attrs, err)
	}
	if !strings.Contains(err.Error(), `attributeMapping["attribute.a"]`) || !strings.Contains(err.Error(), "no such key: missing") {
		t.Fatalf("error text %q", err)
	}
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Public() != "the attribute mapping could not be evaluated" {
		t.Fatalf("public: %v", err)
	}
	want := []AttrTrace{
		{Key: "google.subject", Expression: "assertion.sub", Value: []string{"s"}},
		{Key: "attribute.a", Expression: "assertion.missing", Err: "celpolicy: evaluation failed: no such key: missing"},
		{Key: "attribute.b", Expression: "assertion.b", Value: []string{"bee"}},
	}
	if d := cmp.Diff(want, traces); d != "" {
		t.Fatalf("traces (-want +got):\n%s", d)
	}
}

// expensive is a cubic comprehension over a list claim.
const expensive = "assertion.l.all(x, assertion.l.all(y, assertion.l.all(z, x + y + z != 'never')))"

func bigList(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = fmt.Sprintf("item-%d", i)
	}
	return l
}

func TestEvaluateCostLimit(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{"google.subject": expensive + " ? 'a' : 'b'"})
	// Small input: within budget.
	if attrs, _, err := m.Evaluate(map[string]any{"l": bigList(5)}); err != nil || attrs.Subject != "a" {
		t.Fatalf("small list: %v %v", attrs, err)
	}
	_, traces, err := m.Evaluate(map[string]any{"l": bigList(1000)})
	if !errors.Is(err, ErrCostLimit) || !errors.Is(err, ErrEvaluation) {
		t.Fatalf("err = %v, want cost limit", err)
	}
	if !strings.Contains(traces[0].Err, "cost limit") {
		t.Fatalf("trace: %+v", traces[0])
	}
}

func TestEvaluateMappingTotalBudget(t *testing.T) {
	t.Parallel()
	// Each expression fits the limit on its own; together they do not.
	exprs := map[string]string{"google.subject": "'s'"}
	for i := range 5 {
		exprs[fmt.Sprintf("attribute.a%d", i)] = "assertion.l.filter(x, x.size() > 0 && x.contains('item'))"
	}
	m, errs := CompileMapping(exprs, Options{CostLimit: 5000})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	_, traces, err := m.Evaluate(map[string]any{"l": bigList(300)})
	if !errors.Is(err, ErrCostLimit) {
		t.Fatalf("err = %v, want the total budget to be exceeded", err)
	}
	if last := traces[len(traces)-1]; !strings.HasPrefix(last.Err, "not evaluated") {
		t.Fatalf("last trace %+v, want not evaluated", last)
	}
	if _, _, err := m.Evaluate(map[string]any{"l": bigList(10)}); err != nil {
		t.Fatalf("small input: %v", err)
	}
}

func TestEvaluateContextCancelled(t *testing.T) {
	t.Parallel()
	m, errs := CompileMapping(map[string]string{"google.subject": expensive + " ? 'a' : 'b'"}, Options{CostLimit: 1 << 40})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := m.EvaluateContext(ctx, map[string]any{"l": bigList(400)})
	if !errors.Is(err, ErrEvaluation) || !strings.Contains(err.Error(), "cancel") {
		t.Fatalf("err = %v, want cancellation", err)
	}
}

func TestDefaultAWSMapping(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, DefaultAWSMapping())
	tests := []struct{ arn, role string }{
		{"arn:aws:sts::123456789012:assumed-role/my-role/i-0abc123", "arn:aws:sts::123456789012:assumed-role/my-role"},
		{"arn:aws:sts::123456789012:assumed-role/deploy/botocore-session-1700000000", "arn:aws:sts::123456789012:assumed-role/deploy"},
		{"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"},
		{"arn:aws:iam::123456789012:user/path/to/bob", "arn:aws:iam::123456789012:user/path/to/bob"},
		{"arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root"},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/r/s", "arn:aws-us-gov:sts::123456789012:assumed-role/r"},
		// No session part: Google's expression yields an empty role name.
		{"arn:aws:sts::123456789012:assumed-role/r", "arn:aws:sts::123456789012:assumed-role/"},
	}
	for _, tc := range tests {
		attrs, _, err := m.Evaluate(map[string]any{"arn": tc.arn, "account": "123456789012"})
		if err != nil {
			t.Errorf("%s: %v", tc.arn, err)
			continue
		}
		if attrs.Subject != tc.arn || len(attrs.Custom["aws_role"]) != 1 || attrs.Custom["aws_role"][0] != tc.role {
			t.Errorf("%s: subject %q aws_role %v, want %q", tc.arn, attrs.Subject, attrs.Custom["aws_role"], tc.role)
		}
	}
	// A maximal assumed-role ARN (64-character role and session names) is
	// over Google's 127-byte subject limit.
	long := "arn:aws:sts::123456789012:assumed-role/" + strings.Repeat("r", 64) + "/" + strings.Repeat("s", 64)
	if _, _, err := m.Evaluate(map[string]any{"arn": long}); !errors.Is(err, ErrSubjectTooLong) {
		t.Fatalf("long ARN: %v", err)
	}
	// Callers own the returned map.
	d := DefaultAWSMapping()
	d["google.subject"] = "x"
	if DefaultAWSMapping()["google.subject"] != "assertion.arn" {
		t.Fatal("DefaultAWSMapping shares state")
	}
}

func TestEvaluateDeterministicMapIteration(t *testing.T) {
	t.Parallel()
	obj := map[string]any{}
	var want []string
	for i := range 26 {
		k := string(rune('z' - i))
		obj[k] = "v"
		want = append([]string{k}, want...)
	}
	claims := map[string]any{"obj": obj, "copy": map[string]any{"b": "2", "a": "1"}}
	m := mustMapping(t, map[string]string{
		"google.subject": "'s'",
		"attribute.keys": "assertion.obj.map(k, k)",
		"attribute.top":  "assertion.map(k, k)",
		"attribute.eq":   "assertion.copy == {'a': '1', 'b': '2'} && 'a' in assertion.copy && size(assertion.obj) == 26 ? 'yes' : 'no'",
	})
	for range 20 {
		attrs, _, err := m.Evaluate(claims)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, attrs.Custom["keys"]); d != "" {
			t.Fatalf("keys (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{"copy", "obj"}, attrs.Custom["top"]); d != "" {
			t.Fatalf("top-level keys (-want +got):\n%s", d)
		}
		if attrs.Custom["eq"][0] != "yes" {
			t.Fatal("map equality or membership broken")
		}
	}
}
