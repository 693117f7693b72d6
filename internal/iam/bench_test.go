package iam

import (
	"fmt"
	"testing"
)

// benchPolicy has 200 bindings of 10 members each, mixing every indexed
// member kind; a condition on every tenth binding.
func benchPolicy(tb testing.TB) *CompiledPolicy {
	tb.Helper()
	roles := []string{RoleWorkloadIdentityUser, RoleServiceAccountTokenCreator, RoleServiceAccountUser, RoleServiceAccountOpenIDTokenCreator}
	var p Policy
	for i := range 200 {
		b := Binding{Role: roles[i%len(roles)]}
		for j := range 10 {
			var m string
			switch j % 5 {
			case 0:
				m = fmt.Sprintf("%s/subject/repo:org-%d/repo-%d:ref:refs/heads/main", tPrincipal, i, j)
			case 1:
				m = fmt.Sprintf("%s/attribute.repository/org-%d/repo-%d", tSet, i, j)
			case 2:
				m = fmt.Sprintf("%s/group/team-%d-%d", tSet, i, j)
			case 3:
				m = fmt.Sprintf("serviceAccount:sa-%d-%d@my-project.iam.gserviceaccount.com", i, j)
			case 4:
				m = fmt.Sprintf("serviceAccount:my-project.svc.id.goog[ns-%d/ksa-%d]", i, j)
			}
			b.Members = append(b.Members, m)
		}
		if i%10 == 0 {
			b.Condition = &Expr{Title: "expiry", Expression: "request.time < timestamp('2030-01-01T00:00:00Z')"}
		}
		p.Bindings = append(p.Bindings, b)
	}
	return mustCompile(tb, p)
}

func benchCallers() map[string]Caller {
	attrs := map[string][]string{"repository": {"org-196/repo-1"}, "repository_owner": {"org-196"}, "workflow": {"deploy"}, "ref": {"refs/heads/main"}}
	return map[string]Caller{
		"attribute-hit": {Federated: &Federated{Pool: tPool, Subject: "repo:org-196/repo-1:ref:refs/heads/main", Attributes: attrs, Groups: []string{"a", "b"}}},
		"miss":          {Federated: &Federated{Pool: tPool, Subject: "repo:nobody/x:ref:refs/heads/main", Attributes: map[string][]string{"repository": {"nobody/x"}}, Groups: []string{"a", "b"}}},
		"condition-hit": {Federated: &Federated{Pool: tPool, Subject: "repo:org-0/repo-0:ref:refs/heads/main"}},
		"sa-hit":        {ServiceAccount: "sa-198-3@my-project.iam.gserviceaccount.com"},
	}
}

func BenchmarkCheck(b *testing.B) {
	cp := benchPolicy(b)
	for name, c := range benchCallers() {
		perm := PermGetAccessToken
		if name == "sa-hit" {
			perm = PermActAs
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cp.Check(c, perm, tNow)
			}
		})
	}
}

func BenchmarkExplain(b *testing.B) {
	cp := benchPolicy(b)
	c := benchCallers()["miss"]
	b.ReportAllocs()
	for b.Loop() {
		cp.Explain(c, PermGetAccessToken, tNow)
	}
}

func BenchmarkCompilePolicy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchPolicy(b)
	}
}

func BenchmarkParseMember(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMember(tRepoMember); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckOnBenchPolicy keeps the benchmark's callers honest: each
// decision is the one the benchmark name claims.
func TestCheckOnBenchPolicy(t *testing.T) {
	t.Parallel()
	cp := benchPolicy(t)
	cs := benchCallers()
	want := map[string]int{"attribute-hit": 196, "miss": -1, "condition-hit": 0}
	for name, bi := range want {
		if d := cp.Check(cs[name], PermGetAccessToken, tNow); d.Binding != bi {
			t.Errorf("%s: %+v, want binding %d", name, d, bi)
		}
	}
	if d := cp.Check(cs["sa-hit"], PermActAs, tNow); d.Binding != 198 {
		t.Errorf("sa-hit: %+v", d)
	}
}

// TestCheckAllocations: a denial and an unconditional grant do not allocate.
func TestCheckAllocations(t *testing.T) {
	cp := benchPolicy(t)
	cs := benchCallers()
	for _, name := range []string{"miss", "attribute-hit"} {
		c := cs[name]
		if n := testing.AllocsPerRun(100, func() { cp.Check(c, PermGetAccessToken, tNow) }); n > 0 {
			t.Errorf("%s: Check allocates %.0f times", name, n)
		}
	}
}
