package celpolicy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompileConditionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, want string
	}{
		{"empty", "", "expression is empty"},
		{"too long", "'" + strings.Repeat("a", 4088) + "' == 'x'", "expression is 4097 characters, the limit is 4096"},
		{"assertions", "assertions.sub == 'x'", "undeclared reference to 'assertions' (did you mean 'assertion'?)"},
		{"atribute", "atribute.repo == 'x'", "undeclared reference to 'atribute' (did you mean 'attribute'?)"},
		{"gogle", "gogle.subject == 'x'", "(did you mean 'google'?)"},
		{"google typo", "google.subjet == 'x'", "unknown attribute 'google.subjet' (did you mean 'google.subject'?)"},
		{"google unknown", "google.display_name == 'x'", "unknown attribute 'google.display_name'"},
		{"google index", "google['grups'].size() > 0", "unknown attribute 'google.grups' (did you mean 'google.groups'?)"},
		{"attribute case", "attribute.Repo == 'x'", `attribute name "Repo" must be lowercase (did you mean "repo"?)`},
		{"attribute index", "attribute['my-repo'] == 'x'", `attribute name "my-repo" may only contain`},
		{"string result", "assertion.sub", "the condition must produce a bool, found 'dyn'"},
		{"string literal", "'true'", "found 'string'"},
		{"int", "1 + 1", "found 'int'"},
		{"syntax", "assertion.sub == ", "syntax error: unexpected end of expression"},
		{"bad template", "assertion.arn.extract('{a}{b}') == 'x'", "invalid extract() template \"{a}{b}\": it has more than one placeholder"},
		{"bad regex", "assertion.sub.matches('[')", "invalid matches argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := CompileCondition(tc.expr, Options{})
			if c != nil || err == nil {
				t.Fatalf("compiled %q", tc.expr)
			}
			if err.Key != "" || !strings.Contains(err.Message, tc.want) {
				t.Fatalf("error = %q, want %q", err.Message, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "attributeCondition: ") {
				t.Fatalf("Error() = %q", err.Error())
			}
		})
	}
	// Exactly at the limit compiles.
	if _, err := CompileCondition("'"+strings.Repeat("a", 4087)+"' == 'x'", Options{}); err != nil {
		t.Fatalf("4096 characters: %v", err)
	}
}

// A typical GitHub Actions provider.
const githubCondition = "assertion.repository_owner == 'my-org' && assertion.ref == 'refs/heads/main'"

func TestConditionFailedClause(t *testing.T) {
	t.Parallel()
	c := mustCondition(t, githubCondition)
	res, err := c.Evaluate(map[string]any{"repository_owner": "other-org", "ref": "refs/heads/main"}, &Attributes{Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	want := ConditionResult{
		FailedClause: "assertion.repository_owner == 'my-org'",
		Clauses: []ClauseTrace{
			{Expression: "assertion.repository_owner == 'my-org'", Value: "false"},
			{Expression: "assertion.ref == 'refs/heads/main'", Value: "true"},
		},
	}
	if d := cmp.Diff(want, res); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}

	res, err = c.Evaluate(map[string]any{"repository_owner": "my-org", "ref": "refs/heads/main"}, &Attributes{Subject: "s"})
	if err != nil || !res.Allowed || res.FailedClause != "" || len(res.Clauses) != 2 || res.Clauses[1].Value != "true" {
		t.Fatalf("allowed case: %+v, %v", res, err)
	}
}

func TestConditionClauseValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr string
		claims     string
		want       ConditionResult
		wantErr    bool
	}{
		{
			name:   "disjunction is one clause",
			expr:   "assertion.a == 'x' || assertion.b == 'y'",
			claims: `{"a":"1","b":"2"}`,
			want: ConditionResult{FailedClause: "assertion.a == 'x' || assertion.b == 'y'",
				Clauses: []ClauseTrace{{"assertion.a == 'x' || assertion.b == 'y'", "false"}}},
		},
		{
			name:   "failing disjunction inside a conjunction",
			expr:   "assertion.a == '1' && (assertion.b == 'x' || assertion.c == 'y')",
			claims: `{"a":"1","b":"2","c":"3"}`,
			want: ConditionResult{FailedClause: "(assertion.b == 'x' || assertion.c == 'y')",
				Clauses: []ClauseTrace{{"assertion.a == '1'", "true"}, {"(assertion.b == 'x' || assertion.c == 'y')", "false"}}},
		},
		{
			name:   "first false wins over an earlier error",
			expr:   "assertion.missing == 'x' && assertion.a == 'no' && assertion.b == 'no'",
			claims: `{"a":"1","b":"2"}`,
			want: ConditionResult{FailedClause: "assertion.a == 'no'",
				Clauses: []ClauseTrace{
					{"assertion.missing == 'x'", "error: no such key: missing"},
					{"assertion.a == 'no'", "false"},
					{"assertion.b == 'no'", "false"},
				}},
		},
		{
			name:   "error only",
			expr:   "assertion.a == '1' && assertion.missing == 'x'",
			claims: `{"a":"1"}`,
			want: ConditionResult{FailedClause: "assertion.missing == 'x'",
				Clauses: []ClauseTrace{{"assertion.a == '1'", "true"}, {"assertion.missing == 'x'", "error: no such key: missing"}}},
			wantErr: true,
		},
		{
			name:   "has guard",
			expr:   "has(assertion.environment) && assertion.environment == 'prod'",
			claims: `{"a":"1"}`,
			want: ConditionResult{FailedClause: "has(assertion.environment)",
				Clauses: []ClauseTrace{{"has(assertion.environment)", "false"}, {"assertion.environment == 'prod'", "error: no such key: environment"}}},
		},
		{
			name:   "non-bool clause",
			expr:   "assertion.flag && assertion.a == '1'",
			claims: `{"flag":"true","a":"1"}`,
			want: ConditionResult{FailedClause: "assertion.flag",
				Clauses: []ClauseTrace{{"assertion.flag", "error: produced string, want bool"}, {"assertion.a == '1'", "true"}}},
			wantErr: true,
		},
		{
			name:   "wrapped in parentheses, multi-line, comment",
			expr:   "(\n  assertion.a == '1' // owner\n  && assertion.b == 'x'\n)",
			claims: `{"a":"1","b":"2"}`,
			want: ConditionResult{FailedClause: "assertion.b == 'x'",
				Clauses: []ClauseTrace{{"assertion.a == '1' // owner", "true"}, {"assertion.b == 'x'", "false"}}},
		},
		{
			name:   "ternary is one clause",
			expr:   "assertion.a == '1' ? assertion.b == 'x' : false",
			claims: `{"a":"1","b":"2"}`,
			want: ConditionResult{FailedClause: "assertion.a == '1' ? assertion.b == 'x' : false",
				Clauses: []ClauseTrace{{"assertion.a == '1' ? assertion.b == 'x' : false", "false"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustCondition(t, tc.expr)
			res, err := c.Evaluate(decodeClaims(t, tc.claims), &Attributes{Subject: "s"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrEvaluation) {
				t.Fatalf("err = %v, want ErrEvaluation", err)
			}
			if d := cmp.Diff(tc.want, res); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestConditionGoogleAndAttribute(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{
		"google.subject":      "assertion.sub",
		"google.groups":       "assertion.groups_direct",
		"attribute.project":   "assertion.project_path",
		"attribute.groups":    "assertion.groups_direct",
		"attribute.runner_id": "assertion.runner_id",
		"attribute.protected": "assertion.ref_protected",
	})
	claims := fixtureClaims(t, "gitlab_ci_id_token.json")
	attrs, _, err := m.Evaluate(claims)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"google.subject.startsWith('project_path:my-group/')",
		"'my-group/my-subgroup' in google.groups",
		"attribute.project == 'my-group/my-project'",
		"'my-group/my-subgroup' in attribute.groups", // one-element list stays a list
		"attribute.groups.size() == 1",
		"attribute.runner_id == '1'",
		"assertion.runner_id == 1",
		"attribute.protected == 'true' && assertion.ref_protected == 'true'",
		"assertion.ci_config_ref_uri == 'gitlab.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main'",
		"assertion.ci_config_ref_uri.extract('//{file}@') == '.gitlab-ci.yml'",
		"assertion.groups_direct.exists(g, g.startsWith('my-group/'))",
		"google.groups.all(g, g.matches('^my-group(/.*)?$'))",
		"has(google.groups) && !has(attribute.unmapped)",
	}
	for _, expr := range allowed {
		res, err := mustCondition(t, expr).Evaluate(claims, attrs)
		if err != nil || !res.Allowed {
			t.Errorf("%s: %+v, %v", expr, res, err)
		}
	}
	denied := []string{
		"attribute.project == 'my-group/other'",
		"'admins' in google.groups",
		"attribute.runner_id == '2'",
	}
	for _, expr := range denied {
		res, err := mustCondition(t, expr).Evaluate(claims, attrs)
		if err != nil || res.Allowed || res.FailedClause != expr {
			t.Errorf("%s: %+v, %v", expr, res, err)
		}
	}
	// References to what the mapping did not produce fail, and deny.
	for _, expr := range []string{"attribute.unmapped == 'x'", "!('x' in attribute.unmapped)"} {
		res, err := mustCondition(t, expr).Evaluate(claims, attrs)
		if !errors.Is(err, ErrEvaluation) || res.Allowed {
			t.Errorf("%s: %+v, %v", expr, res, err)
		}
	}
	noGroups := &Attributes{Subject: attrs.Subject, Custom: attrs.Custom, ListValued: attrs.ListValued}
	res, err := mustCondition(t, "!('admins' in google.groups)").Evaluate(claims, noGroups)
	if !errors.Is(err, ErrEvaluation) || res.Allowed {
		t.Errorf("unmapped google.groups: %+v, %v", res, err)
	}
	// No attributes at all: only assertion-based conditions can pass.
	if res, err := mustCondition(t, "assertion.project_path == 'my-group/my-project'").Evaluate(claims, nil); err != nil || !res.Allowed {
		t.Errorf("nil attributes: %+v %v", res, err)
	}
	if res, err := mustCondition(t, "google.subject != 'x'").Evaluate(claims, nil); err == nil || res.Allowed {
		t.Errorf("nil attributes, google.subject: %+v %v", res, err)
	}
}

func TestConditionCostLimit(t *testing.T) {
	t.Parallel()
	c := mustCondition(t, "assertion.a == 'x' && "+expensive)
	res, err := c.Evaluate(map[string]any{"a": "x", "l": bigList(5)}, &Attributes{Subject: "s"})
	if err != nil || !res.Allowed {
		t.Fatalf("small input: %+v, %v", res, err)
	}
	res, err = c.Evaluate(map[string]any{"a": "x", "l": bigList(1000)}, &Attributes{Subject: "s"})
	if !errors.Is(err, ErrCostLimit) || !errors.Is(err, ErrEvaluation) || res.Allowed {
		t.Fatalf("big input: %+v, %v", res, err)
	}
	for _, cl := range res.Clauses {
		if !strings.HasPrefix(cl.Value, "not evaluated") {
			t.Fatalf("clause after a cost overrun: %+v", cl)
		}
	}
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Public() != "the attribute condition could not be evaluated" || ee.Key != "" {
		t.Fatalf("EvalError: %#v", err)
	}
}

func TestConditionClauseTraceBudget(t *testing.T) {
	t.Parallel()
	// Each clause fits the limit alone; the traces together do not.
	clause := "assertion.l.exists(x, x == 'nope')"
	expr := "assertion.a == 'x' && " + strings.Repeat(clause+" && ", 5) + clause
	c, cerr := CompileCondition(expr, Options{CostLimit: 2000})
	if cerr != nil {
		t.Fatal(cerr)
	}
	// The whole condition short-circuits on the first clause, cheaply.
	res, err := c.Evaluate(map[string]any{"a": "y", "l": bigList(300)}, &Attributes{Subject: "s"})
	if err != nil || res.Allowed || res.FailedClause != "assertion.a == 'x'" {
		t.Fatalf("%+v %v", res, err)
	}
	if last := res.Clauses[len(res.Clauses)-1].Value; !strings.HasPrefix(last, "not evaluated: the cost budget is spent") {
		t.Fatalf("last clause = %q", last)
	}
}

// Claim semantics from PyPI Trusted Publishing (warehouse tests), as conditions.
func TestConditionPyPIClaimSemantics(t *testing.T) {
	t.Parallel()
	base := fixtureClaims(t, "github_actions_docs_example.json")
	with := func(kv ...string) map[string]any {
		m := make(map[string]any, len(base))
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	const strict = "assertion.job_workflow_ref.startsWith('octo-org/octo-repo/.github/workflows/release.yml@')"
	const naive = "assertion.job_workflow_ref.contains('release.yml')"
	tests := []struct {
		name, ref         string
		strictOK, naiveOK bool
	}{
		{"release workflow", "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main", true, true},
		{"misleading branch name", "octo-org/octo-repo/.github/workflows/basic.yml@refs/heads/misleading@release.yml", false, true},
		{"nested at-sign", "octo-org/octo-repo/.github/workflows/nested@evil.yml@refs/heads/main", false, false},
		{"lookalike file", "octo-org/octo-repo/.github/workflows/release.yml.evil.yml@refs/heads/main", false, true},
		{"other repo", "evil-org/octo-repo/.github/workflows/release.yml@refs/heads/main", false, true},
	}
	cs, cn := mustCondition(t, strict), mustCondition(t, naive)
	for _, tc := range tests {
		claims := with("job_workflow_ref", tc.ref)
		rs, err1 := cs.Evaluate(claims, &Attributes{Subject: "s"})
		rn, err2 := cn.Evaluate(claims, &Attributes{Subject: "s"})
		if err1 != nil || err2 != nil || rs.Allowed != tc.strictOK || rn.Allowed != tc.naiveOK {
			t.Errorf("%s: strict %v (want %v), naive %v (want %v) %v %v", tc.name, rs.Allowed, tc.strictOK, rn.Allowed, tc.naiveOK, err1, err2)
		}
	}

	// Case-insensitive repository match, owner id against resurrection,
	// and the empty-claim rule.
	cond := mustCondition(t, "assertion.repository.lowerAscii() == 'octo-org/octo-repo' && assertion.repository_owner_id == '65' && assertion.environment != ''")
	for _, tc := range []struct {
		name   string
		claims map[string]any
		ok     bool
		failed string
	}{
		{"match", with(), true, ""},
		{"case differs", with("repository", "Octo-Org/Octo-Repo"), true, ""},
		{"resurrected owner", with("repository_owner_id", "66"), false, "assertion.repository_owner_id == '65'"},
		{"empty environment", with("environment", ""), false, "assertion.environment != ''"},
	} {
		res, err := cond.Evaluate(tc.claims, &Attributes{Subject: "s"})
		if err != nil || res.Allowed != tc.ok || res.FailedClause != tc.failed {
			t.Errorf("%s: %+v %v", tc.name, res, err)
		}
	}
}

func TestConditionFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, expr string
		ok         bool
	}{
		{"github_actions_real_immutable_sub.json", "assertion.sub.startsWith('repo:andreaso@285964/actions-tester@1339936803:')", true},
		{"github_actions_real_immutable_sub.json", "assertion.repository_owner_id == '285964' && assertion.ref_protected == 'false'", true},
		{"github_actions_real_immutable_sub.json", "assertion.event_name != 'dynamic' && assertion.runner_environment == 'github-hosted'", true},
		{"github_actions_docs_example.json", "assertion.sub == 'repo:octo-org/octo-repo:environment:prod' && assertion.aud == 'https://github.com/octo-org'", true},
		{"k8s_projected_sa_token.json", "assertion['kubernetes.io'].namespace == 'kube-system' && 'https://kubernetes.default.svc' in assertion.aud", true},
		{"k8s_projected_sa_token.json", "assertion['kubernetes.io']['serviceaccount']['name'] == 'default'", false},
		{"k8s_eks_token.json", "assertion.iss.startsWith('https://oidc.eks.us-east-2.amazonaws.com/id/') && assertion.exp - assertion.iat <= 48 * 3600", false},
		{"k8s_eks_token.json", "assertion.sub.split(':')[2] == 'default' && size(assertion.sub.split(':')) == 4", true},
		{"gitlab_ci_id_token.json", "assertion.namespace_path == 'my-group' && assertion.ref_type == 'branch' && assertion.ref == 'main'", true},
	}
	for _, tc := range tests {
		res, err := mustCondition(t, tc.expr).Evaluate(fixtureClaims(t, tc.file), &Attributes{Subject: "s"})
		if err != nil || res.Allowed != tc.ok {
			t.Errorf("%s: %s: %+v %v", tc.file, tc.expr, res, err)
		}
	}
}

func TestConditionCheckMapping(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{"google.subject": "assertion.sub", "attribute.repository": "assertion.repository"})
	c := mustCondition(t, "attribute.repository == 'a' && attribute.repo == 'b' && 'g' in google.groups && google.subject != '' && !has(attribute.other) && attribute['repo'] == 'b'")
	var got []string
	for _, e := range c.CheckMapping(m) {
		got = append(got, e.Message)
	}
	want := []string{
		"'attribute.repo' is not in the attribute mapping (did you mean 'attribute.repository'?), so the condition always fails",
		"'google.groups' is not in the attribute mapping, so the condition always fails",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	if errs := mustCondition(t, "attribute.repository == 'a'").CheckMapping(m); len(errs) != 0 {
		t.Fatalf("satisfied condition: %v", errs)
	}
}

func TestConditionAccessors(t *testing.T) {
	t.Parallel()
	c := mustCondition(t, githubCondition)
	if c.Expression() != githubCondition {
		t.Fatal(c.Expression())
	}
	if d := cmp.Diff([]string{"assertion.repository_owner == 'my-org'", "assertion.ref == 'refs/heads/main'"}, c.Clauses()); d != "" {
		t.Fatal(d)
	}
}

func TestCompileErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"assertion.sub == 'a' $", "column 22: syntax error: unrecognized text '$'"},
		{"assertion.sub ==== 'a'", "column 17: syntax error: unexpected '=='"},
		{"assertion.sub == 'a' 'b'", "column 22: syntax error: unexpected ''b''"},
		{"(assertion.sub", "column 15: syntax error: unexpected end of expression"},
		{"assertion.'x'", "column 11: syntax error: cannot parse '.'x''"},
		{"!'a'", "column 1: found no matching overload for '!' applied to '(string)'"},
		{"'a' in 1", "column 5: found no matching overload for 'in' applied to '(string, int)'"},
		{"{1: 'a'}['x'] == 'a'", "column 9: found no matching overload for '[]' applied to '(map(int, string), string)'"},
		{"'a' == 'b' ? 1 : 'x'", "column 12: found no matching overload for '?:' applied to '(bool, int, string)'"},
		{"1 < 'a'", "column 3: found no matching overload for '<' applied to '(int, string)'"},
		{"assertion.sub.extract(1) == 'a'", "column 22: found no matching overload for 'extract' applied to 'dyn.(int)'"},
		{"assertions.a == 'x' && atribute.b == 'y'", "column 1: undeclared reference to 'assertions' (did you mean 'assertion'?); undeclared reference to 'atribute' (did you mean 'attribute'?)"},
	}
	for _, tc := range tests {
		_, err := CompileCondition(tc.expr, Options{})
		if err == nil || err.Error() != "attributeCondition: "+tc.want {
			t.Errorf("%s:\n got %v\nwant attributeCondition: %s", tc.expr, err, tc.want)
		}
		if err != nil && strings.Contains(err.Message, "expecting") {
			t.Errorf("%s: message keeps the grammar dump: %q", tc.expr, err.Message)
		}
	}
}

func TestExtractCostIsCharged(t *testing.T) {
	t.Parallel()
	m, errs := CompileMapping(map[string]string{"google.subject": "assertion.s.extract('{x}').size() > 0 ? 'a' : 'b'"}, Options{CostLimit: 100})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, _, err := m.Evaluate(map[string]any{"s": "short"}); err != nil {
		t.Fatalf("short receiver: %v", err)
	}
	if _, _, err := m.Evaluate(map[string]any{"s": strings.Repeat("x", 5000)}); !errors.Is(err, ErrCostLimit) {
		t.Fatalf("long receiver: err = %v, want cost limit", err)
	}
}
