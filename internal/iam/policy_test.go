package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const tRepoMember = tSet + "/attribute.repository/my-org/my-repo"

func mustCompile(t testing.TB, p Policy) *CompiledPolicy {
	t.Helper()
	cp, errs := CompilePolicy(p)
	if len(errs) > 0 {
		t.Fatalf("CompilePolicy: %v", errs)
	}
	return cp
}

// errorsByPath indexes compile errors by path, checking each is a *PolicyError.
func errorsByPath(t *testing.T, errs []error) map[string]error {
	t.Helper()
	m := map[string]error{}
	for _, err := range errs {
		var pe *PolicyError
		if !errors.As(err, &pe) {
			t.Fatalf("error %T is not a *PolicyError: %v", err, err)
		}
		if _, dup := m[pe.Path]; dup {
			t.Errorf("two errors at %s", pe.Path)
		}
		m[pe.Path] = err
		if !strings.HasPrefix(err.Error(), pe.Path+": ") {
			t.Errorf("error text %q does not start with its path", err)
		}
	}
	return m
}

func TestCompilePolicyErrors(t *testing.T) {
	t.Parallel()
	p := Policy{Version: 3, Bindings: []Binding{
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}},
		{Role: RoleWorkloadIdentityUser, Members: []string{
			"principal://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/subject/alice",
			tPrincipal + "/subject/ok",
			tSet + "/attribute.Repo/x",
		}},
		{Role: "roles/iam.workloadIdentityUsers", Members: []string{tRepoMember}},
		{Role: "", Members: []string{tRepoMember}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}, Condition: &Expr{Title: "t", Expression: "resource.name == 'x'"}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}, Condition: &Expr{Expression: "request.time < timestamp('2030-01-01T00:00:00Z')"}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}, Condition: &Expr{Title: strings.Repeat("t", 101), Description: strings.Repeat("d", 257), Expression: " "}},
		{Role: "roles/storage.admin", Members: []string{"allUsers", "bogus"}},
	}}
	cp, errs := CompilePolicy(p)
	if cp != nil {
		t.Fatal("CompilePolicy returned a policy along with errors")
	}
	got := errorsByPath(t, errs)
	want := []struct {
		path, text string
		is         error
	}{
		{"bindings[1].members[0]", "projects/my-project: a principal names the project by number", ErrProjectNotNumber},
		{"bindings[1].members[2]", "attribute name", ErrInvalidMember},
		{"bindings[2].role", `unknown role "roles/iam.workloadIdentityUsers" (did you mean "roles/iam.workloadIdentityUser"?)`, ErrUnknownRole},
		{"bindings[3].role", "required", ErrInvalidPolicy},
		{"bindings[4].condition.expression", `unsupported attribute "resource.name"`, ErrInvalidCondition},
		{"bindings[5].condition.title", "required", ErrInvalidCondition},
		{"bindings[6].condition.title", "101 characters, the limit is 100", ErrInvalidCondition},
		{"bindings[6].condition.description", "257 characters, the limit is 256", ErrInvalidCondition},
		{"bindings[6].condition.expression", "required", ErrInvalidCondition},
		{"bindings[7].role", "keyless knows roles/editor, roles/iam.serviceAccountAdmin", ErrUnknownRole},
		{"bindings[7].members[1]", "unknown member type", ErrInvalidMember},
	}
	for _, w := range want {
		err, ok := got[w.path]
		if !ok {
			t.Errorf("no error at %s", w.path)
			continue
		}
		if !strings.Contains(err.Error(), w.text) {
			t.Errorf("%s: %q lacks %q", w.path, err, w.text)
		}
		if !errors.Is(err, w.is) {
			t.Errorf("%s: %v does not match %v", w.path, err, w.is)
		}
		delete(got, w.path)
	}
	for path, err := range got {
		t.Errorf("unexpected error at %s: %v", path, err)
	}
}

func TestCompilePolicyVersion(t *testing.T) {
	t.Parallel()
	cond := &Expr{Title: "expiry", Expression: "request.time < timestamp('2030-01-01T00:00:00Z')"}
	for _, v := range []int{0, 1, 3} {
		if _, errs := CompilePolicy(Policy{Version: v, Bindings: []Binding{{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}}}}); errs != nil {
			t.Errorf("version %d: %v", v, errs)
		}
	}
	for _, v := range []int{-1, 2, 4} {
		_, errs := CompilePolicy(Policy{Version: v})
		if e := errorsByPath(t, errs)["version"]; e == nil || !errors.Is(e, ErrInvalidPolicy) {
			t.Errorf("version %d: errors %v", v, errs)
		}
	}
	for _, v := range []int{0, 3} {
		if _, errs := CompilePolicy(Policy{Version: v, Bindings: []Binding{{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}, Condition: cond}}}); errs != nil {
			t.Errorf("version %d with a condition: %v", v, errs)
		}
	}
	_, errs := CompilePolicy(Policy{Version: 1, Bindings: []Binding{{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}, Condition: cond}}})
	if e := errorsByPath(t, errs)["bindings[0].condition"]; e == nil || !strings.Contains(e.Error(), "must be version 3") {
		t.Errorf("version 1 with a condition: %v", errs)
	}
	if got := (Policy{Bindings: []Binding{{Role: RoleWorkloadIdentityUser}}}).RequiredVersion(); got != 1 {
		t.Errorf("RequiredVersion() = %d, want 1", got)
	}
	if got := (Policy{Bindings: []Binding{{Role: RoleWorkloadIdentityUser}, {Condition: cond}}}).RequiredVersion(); got != 3 {
		t.Errorf("RequiredVersion() = %d, want 3", got)
	}
}

func TestCompilePolicyMemberLimit(t *testing.T) {
	t.Parallel()
	members := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s/subject/s%d", tPrincipal, i)
		}
		return out
	}
	ok := Policy{Bindings: []Binding{{Role: RoleWorkloadIdentityUser, Members: members(4000)}, {Role: RoleServiceAccountUser, Members: members(1000)}}}
	if _, errs := CompilePolicy(ok); errs != nil {
		t.Fatalf("5000 members: %v", errs)
	}
	over := Policy{Bindings: []Binding{{Role: RoleWorkloadIdentityUser, Members: members(4000)}, {Role: RoleServiceAccountUser, Members: members(1001)}}}
	_, errs := CompilePolicy(over)
	if e := errorsByPath(t, errs)["bindings"]; e == nil || !strings.Contains(e.Error(), "5001 members in total, the limit is 5000") {
		t.Fatalf("5001 members: %v", errs)
	}
}

func TestCompileConditionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ expr, want string }{
		{"resource.name.startsWith('projects/')", `unsupported attribute "resource.name"`},
		{"resource.type == 'x'", `unsupported attribute "resource.type"`},
		{"request.path == '/'", `unsupported attribute "request.path"`},
		{"request == null", `unsupported attribute "request"`},
		{"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).size() > 0", `unsupported attribute "api.getAttribute()"`},
		{"destination.ip == '10.0.0.1'", `unsupported attribute "destination.ip"`},
		{"assertion.sub == 'x'", "undeclared reference to 'assertion'"},
		{"request.time", "must evaluate to bool"},
		{"request.time < ", "Syntax error"},
		{"request.time < '2030-01-01'", "no matching overload"},
		{"request.time < timestamp('not a time')", `invalid RFC 3339 timestamp "not a time"`},
		{"request.time.getHours('Not/AZone') > 1", "evaluation fails"},
		{strings.Repeat("(", 5000), "5000 characters, the limit is 4096"},
		{"request.time > timestamp('2000-01-01T00:00:00Z') && " + strings.Repeat("l.all(x, ", 3) + "true" + strings.Repeat(")", 3), "undeclared reference to 'l'"},
		{"request.time > timestamp('2000-01-01T00:00:00Z') && " + nested(3), "the expression may cost up to"},
		{nested(1), ""},
		{strings.Repeat("true && ", 511) + "true", ""}, // 4096 characters: within the limit
	}
	for _, tc := range cases {
		_, errs := CompilePolicy(Policy{Bindings: []Binding{{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember},
			Condition: &Expr{Title: "t", Expression: tc.expr}}}})
		if tc.want == "" {
			if errs != nil {
				t.Errorf("%.40q: %v", tc.expr, errs)
			}
			continue
		}
		e := errorsByPath(t, errs)["bindings[0].condition.expression"]
		if e == nil || !strings.Contains(e.Error(), tc.want) || !errors.Is(e, ErrInvalidCondition) {
			t.Errorf("%.40q: errors %v, want %q", tc.expr, errs, tc.want)
		}
	}
}

// nested builds depth nested all() comprehensions over a 100-element list:
// 100^depth iterations.
func nested(depth int) string {
	list := "[" + strings.TrimSuffix(strings.Repeat("1,", 100), ",") + "]"
	var b strings.Builder
	for range depth {
		b.WriteString(list + ".all(x, ")
	}
	b.WriteString("true")
	b.WriteString(strings.Repeat(")", depth))
	return b.String()
}

func TestPolicyJSON(t *testing.T) {
	t.Parallel()
	in := `{"version":3,"etag":"BwX+/w8=","bindings":[{"role":"roles/iam.workloadIdentityUser","members":["` + tRepoMember + `"],` +
		`"condition":{"expression":"request.time < timestamp('2030-01-01T00:00:00Z')","title":"expiry","description":"d","location":"l"}},` +
		`{"role":"roles/iam.serviceAccountUser","members":["serviceAccount:` + tSAEmail + `"]}]}`
	var p Policy
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != 3 || p.Etag != "BwX+/w8=" || len(p.Bindings) != 2 || p.Bindings[0].Condition.Title != "expiry" || p.Bindings[0].Condition.Location != "l" {
		t.Fatalf("decoded %+v", p)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != strings.ReplaceAll(in, "<", `\u003c`) {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
	if _, errs := CompilePolicy(p); errs != nil {
		t.Errorf("CompilePolicy: %v", errs)
	}
	empty, _ := json.Marshal(Policy{})
	if string(empty) != "{}" {
		t.Errorf("empty policy = %s", empty)
	}
}

func TestCompilePolicyCopiesInput(t *testing.T) {
	t.Parallel()
	p := Policy{Bindings: []Binding{{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}}}}
	cp := mustCompile(t, p)
	p.Bindings[0].Members[0] = "allUsers"
	p.Bindings[0].Role = RoleOwner
	c := Caller{Federated: &Federated{Pool: tPool, Subject: "s", Attributes: map[string][]string{"repository": {"my-org/my-repo"}}}}
	d := cp.Check(c, PermGetAccessToken, tNow)
	if !d.Allowed || d.Member != tRepoMember || d.Role != RoleWorkloadIdentityUser {
		t.Fatalf("decision changed after the input was mutated: %+v", d)
	}
}
