package celpolicy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzCompileMapping(f *testing.F) {
	for _, s := range [][2]string{
		{"attribute.repository", "assertion.repository"},
		{"attribute.ns", "assertion['kubernetes.io']['namespace']"},
		{"google.groups", "assertion.groups_direct.map(g, g.lowerAscii())"},
		{"attribute.aws_role", DefaultAWSMapping()["attribute.aws_role"]},
		{"attribute.x", "assertion.sub.extract('{a}{b}')"},
		{"Attribute.X", "assertions.sub"},
		{"google.foo", "1 +"},
		{"attribute.y", "assertion.l.all(x, assertion.l.all(y, x != y))"},
		{"attribute.z", "has(assertion.x) ? assertion.x : 'none'"},
		{"attribute.b", "base64.encode(b'abc')"},
		{"attribute.s", "'%s-%d'.format([assertion.sub, 1])"},
	} {
		f.Add(s[0], s[1])
	}
	claims := fixtureClaims(f, "gitlab_ci_id_token.json")
	f.Fuzz(func(t *testing.T, key, expr string) {
		m, errs := CompileMapping(map[string]string{"google.subject": "assertion.sub", key: expr}, Options{CostLimit: 20000})
		if (m == nil) == (len(errs) == 0) {
			t.Fatalf("mapping %v with errors %v", m != nil, errs)
		}
		for _, e := range errs {
			if e.Message == "" || e.Error() == "" {
				t.Fatalf("empty error message for %q", expr)
			}
		}
		if m != nil {
			attrs, _, err := m.Evaluate(claims)
			checkAttributes(t, attrs, err)
		}
		c, cerr := CompileCondition(expr, Options{CostLimit: 20000})
		if (c == nil) == (cerr == nil) {
			t.Fatalf("condition %v with error %v", c != nil, cerr)
		}
		if c != nil {
			res, err := c.Evaluate(claims, &Attributes{Subject: "s", Custom: map[string][]string{"x": {"v"}}})
			if err != nil && res.Allowed {
				t.Fatalf("allowed despite %v", err)
			}
			if !res.Allowed && res.FailedClause == "" {
				t.Fatalf("denied without a failed clause: %+v", res)
			}
			if err == nil && !res.Allowed && len(res.Clauses) > 1 && !falseOrSkipped(res) {
				t.Fatalf("the condition is false but no clause is: %+v", res)
			}
		}
	})
}

// falseOrSkipped reports whether a false condition's trace names a false
// clause or stopped early on its budget.
func falseOrSkipped(res ConditionResult) bool {
	for _, c := range res.Clauses {
		if c.Value == "false" && c.Expression == res.FailedClause || strings.HasPrefix(c.Value, "not evaluated") {
			return true
		}
	}
	return false
}

// checkAttributes asserts the invariants every successful mapping satisfies.
func checkAttributes(t *testing.T, attrs *Attributes, err error) {
	t.Helper()
	if err != nil {
		if attrs != nil {
			t.Fatalf("attributes returned with error %v", err)
		}
		return
	}
	if attrs.Subject == "" || len(attrs.Subject) > MaxSubjectBytes || !utf8.ValidString(attrs.Subject) {
		t.Fatalf("bad subject %q", attrs.Subject)
	}
	size := len(attrs.Subject)
	for _, g := range attrs.Groups {
		size += len(g)
	}
	for _, vs := range attrs.Custom {
		for _, v := range vs {
			size += len(v)
		}
	}
	if size > MaxAttributesBytes {
		t.Fatalf("attributes are %d bytes", size)
	}
}

func FuzzEvaluateAssertion(f *testing.F) {
	for _, name := range []string{"github_actions_docs_example.json", "github_actions_real_immutable_sub.json", "gitlab_ci_id_token.json", "k8s_projected_sa_token.json", "k8s_eks_token.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		var doc struct {
			Claims json.RawMessage `json:"claims"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(doc.Claims))
	}
	f.Add([]byte(`{"sub":"s","repository_owner":"my-org","ref":"refs/heads/main","groups":["admins"]}`))
	f.Add([]byte(`{"sub":"s","repository_owner":"my-org","ref":"refs/heads/main","groups":"admins"}`))
	f.Add([]byte(`{"sub":1e400,"groups":[null,{"a":[]}],"ref":true}`))

	m := mustMapping(f, map[string]string{
		"google.subject":      "assertion.sub",
		"google.groups":       "assertion.groups",
		"attribute.owner":     "assertion.repository_owner",
		"attribute.ns":        "'kubernetes.io' in assertion ? assertion['kubernetes.io'].namespace : 'none'",
		"attribute.role":      "assertion.sub.extract('role/{r}/')",
		"attribute.runner_id": "has(assertion.runner_id) ? assertion.runner_id : 0",
	})
	c := mustCondition(f, "attribute.owner == 'my-org' && assertion.ref == 'refs/heads/main' && 'admins' in google.groups")
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var claims map[string]any
		if dec.Decode(&claims) != nil {
			return
		}
		attrs, traces, err := m.Evaluate(claims)
		checkAttributes(t, attrs, err)
		if len(traces) != 6 {
			t.Fatalf("%d traces", len(traces))
		}
		res, cerr := c.Evaluate(claims, attrs)
		if cerr != nil && res.Allowed {
			t.Fatalf("allowed despite %v", cerr)
		}
		if !res.Allowed {
			return
		}
		// Allowed: check against a Go oracle.
		owner, _ := claims["repository_owner"].(string)
		ref, _ := claims["ref"].(string)
		if err != nil || owner != "my-org" || ref != "refs/heads/main" || !slices.Contains(attrs.Groups, "admins") {
			t.Fatalf("allowed but the oracle disagrees: claims=%v attrs=%+v err=%v", claims, attrs, err)
		}
	})
}
