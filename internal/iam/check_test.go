package iam

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var tNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func repoCaller(repo string) Caller {
	return Caller{Federated: &Federated{Pool: tPool, Subject: "repo:" + repo + ":ref:refs/heads/main",
		Attributes: map[string][]string{"repository": {repo}}}}
}

func TestCheckBasics(t *testing.T) {
	t.Parallel()
	cp := mustCompile(t, Policy{Bindings: []Binding{
		{Role: RoleServiceAccountOpenIDTokenCreator, Members: []string{tSet + "/attribute.repository/my-org/id-only"}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tPrincipal + "/subject/alice", tRepoMember}},
		{Role: RoleServiceAccountTokenCreator, Members: []string{"serviceAccount:" + tSAEmail}},
		{Role: RoleOwner, Members: []string{tSet + "/*"}},
	}})
	cases := []struct {
		name    string
		caller  Caller
		perm    string
		binding int
		member  string
	}{
		{"repo gets access token", repoCaller("my-org/my-repo"), PermGetAccessToken, 1, tRepoMember},
		{"repo gets id token", repoCaller("my-org/my-repo"), PermGetOpenIDToken, 1, tRepoMember},
		{"repo cannot sign", repoCaller("my-org/my-repo"), PermSignBlob, -1, ""},
		{"other repo denied", repoCaller("my-org/other"), PermGetAccessToken, -1, ""},
		{"repo with trailing slash denied", repoCaller("my-org/my-repo/"), PermGetAccessToken, -1, ""},
		{"id-only repo gets id token", repoCaller("my-org/id-only"), PermGetOpenIDToken, 0, tSet + "/attribute.repository/my-org/id-only"},
		{"id-only repo no access token", repoCaller("my-org/id-only"), PermGetAccessToken, -1, ""},
		{"alice", Caller{Federated: &Federated{Pool: tPool, Subject: "alice"}}, PermGetAccessToken, 1, tPrincipal + "/subject/alice"},
		{"service account signs", Caller{ServiceAccount: tSAEmail}, PermSignJwt, 2, "serviceAccount:" + tSAEmail},
		{"service account delegation", Caller{ServiceAccount: tSAEmail}, PermImplicitDelegation, 2, "serviceAccount:" + tSAEmail},
		{"pool-wide owner gets actAs", repoCaller("x/y"), PermActAs, 3, tSet + "/*"},
		{"owner is not a token creator", repoCaller("x/y"), PermGetAccessToken, -1, ""},
		{"unknown permission", repoCaller("my-org/my-repo"), "iam.serviceAccounts.everything", -1, ""},
		{"empty permission", repoCaller("my-org/my-repo"), "", -1, ""},
		{"nobody", Caller{}, PermGetAccessToken, -1, ""},
		{"federated without subject", Caller{Federated: &Federated{Pool: tPool, Attributes: map[string][]string{"repository": {"my-org/my-repo"}}}}, PermGetAccessToken, -1, ""},
	}
	for _, tc := range cases {
		for name, d := range map[string]Decision{"Check": cp.Check(tc.caller, tc.perm, tNow), "Explain": cp.Explain(tc.caller, tc.perm, tNow)} {
			if d.Allowed != (tc.binding >= 0) || d.Binding != tc.binding || d.Member != tc.member {
				t.Errorf("%s: %s = %+v, want binding %d member %q", tc.name, name, d, tc.binding, tc.member)
			}
			if d.Allowed && d.Role == "" {
				t.Errorf("%s: %s: allowed without a role", tc.name, name)
			}
		}
	}
}

func TestCheckNilPolicy(t *testing.T) {
	t.Parallel()
	var cp *CompiledPolicy
	for _, d := range []Decision{cp.Check(repoCaller("a/b"), PermGetAccessToken, tNow), cp.Explain(repoCaller("a/b"), PermGetAccessToken, tNow)} {
		if d.Allowed || d.Binding != -1 {
			t.Errorf("nil policy: %+v", d)
		}
	}
	empty := mustCompile(t, Policy{})
	if d := empty.Check(repoCaller("a/b"), PermGetAccessToken, tNow); d.Allowed || d.Binding != -1 {
		t.Errorf("empty policy: %+v", d)
	}
}

func TestCheckLowestBindingAndMember(t *testing.T) {
	t.Parallel()
	alice := tPrincipal + "/subject/alice"
	cp := mustCompile(t, Policy{Bindings: []Binding{
		{Role: RoleServiceAccountUser, Members: []string{alice}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tSet + "/group/devs", tSet + "/*", alice}},
		{Role: RoleServiceAccountTokenCreator, Members: []string{alice}},
	}})
	c := Caller{Federated: &Federated{Pool: tPool, Subject: "alice", Groups: []string{"ops", "devs"}}}
	for name, d := range map[string]Decision{"Check": cp.Check(c, PermGetAccessToken, tNow), "Explain": cp.Explain(c, PermGetAccessToken, tNow)} {
		if !d.Allowed || d.Binding != 1 || d.Member != tSet+"/group/devs" || d.Role != RoleWorkloadIdentityUser {
			t.Errorf("%s = %+v", name, d)
		}
	}
}

func TestConditionsRequestTime(t *testing.T) {
	t.Parallel()
	expiry := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)
	cp := mustCompile(t, Policy{Version: 3, Bindings: []Binding{
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember},
			Condition: &Expr{Title: "window", Expression: "request.time >= timestamp('2029-06-01T00:00:00Z') && request.time < timestamp('2030-01-01T00:00:00Z')"}},
		{Role: RoleServiceAccountOpenIDTokenCreator, Members: []string{tRepoMember},
			Condition: &Expr{Title: "weekday", Expression: "request.time.getDayOfWeek('UTC') >= 1 && request.time.getDayOfWeek('UTC') <= 5"}},
	}})
	c := repoCaller("my-org/my-repo")
	cases := []struct {
		now  time.Time
		perm string
		want bool
	}{
		{start.Add(-time.Second), PermGetAccessToken, false},
		{start, PermGetAccessToken, true},
		{expiry.Add(-time.Nanosecond), PermGetAccessToken, true},
		{expiry, PermGetAccessToken, false},
		{expiry.Add(time.Hour), PermGetAccessToken, false},
		{time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), PermGetOpenIDToken, true},                    // Monday
		{time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), PermGetOpenIDToken, false},                   // Sunday
		{time.Date(2026, 11, 23, 1, 0, 0, 0, time.FixedZone("X", 5*3600)), PermGetOpenIDToken, false}, // Sunday in UTC
	}
	for _, tc := range cases {
		d := cp.Check(c, tc.perm, tc.now)
		e := cp.Explain(c, tc.perm, tc.now)
		if d.Allowed != tc.want || e.Allowed != tc.want {
			t.Errorf("%s at %s: Check %v, Explain %v; want %v", tc.perm, tc.now, d.Allowed, e.Allowed, tc.want)
		}
	}
}

func TestConditionFalseFallsThrough(t *testing.T) {
	t.Parallel()
	cp := mustCompile(t, Policy{Version: 3, Bindings: []Binding{
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember, tSet + "/*"}, Condition: &Expr{Title: "expired", Expression: "request.time < timestamp('2020-01-01T00:00:00Z')"}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tSet + "/group/g"}},
		{Role: RoleServiceAccountTokenCreator, Members: []string{tRepoMember}},
	}})
	c := repoCaller("my-org/my-repo")
	d := cp.Check(c, PermGetAccessToken, tNow)
	if !d.Allowed || d.Binding != 2 || d.Role != RoleServiceAccountTokenCreator {
		t.Fatalf("Check = %+v", d)
	}
	e := cp.Explain(c, PermGetAccessToken, tNow)
	want := []string{
		`bindings[0] roles/iam.workloadIdentityUser ` + tRepoMember + `: condition false: condition "expired" is false at 2026-11-22T12:00:00Z`,
		`bindings[0] roles/iam.workloadIdentityUser ` + tSet + `/*: condition false: condition "expired" is false at 2026-11-22T12:00:00Z`,
		`bindings[1] roles/iam.workloadIdentityUser ` + tSet + `/group/g: member does not match: the caller's 0 groups do not include "g"`,
		`bindings[2] roles/iam.serviceAccountTokenCreator ` + tRepoMember + `: matched`,
	}
	var got []string
	for _, tr := range e.Trace {
		got = append(got, tr.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e.Binding != d.Binding || e.Member != d.Member || !e.Allowed {
		t.Errorf("Explain = %+v, Check = %+v", e, d)
	}
	if d.Trace != nil {
		t.Error("Check returned a trace")
	}
}

func TestExplainOutcomes(t *testing.T) {
	t.Parallel()
	cp := mustCompile(t, Policy{Version: 3, Bindings: []Binding{
		{Role: RoleServiceAccountUser, Members: []string{tRepoMember}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember}, Condition: &Expr{Title: "in zone", Expression: "request.time.getHours('Europe/Berlin') < 99"}},
		{Role: RoleWorkloadIdentityUser, Members: []string{tSet + "/attribute.repository/my-org/other"}},
		{Role: RoleWorkloadIdentityUser, Members: []string{"allUsers"}},
	}})
	e := cp.Explain(repoCaller("my-org/my-repo"), PermGetAccessToken, tNow)
	if len(e.Trace) != 4 {
		t.Fatalf("trace has %d lines: %v", len(e.Trace), e.Trace)
	}
	wantOutcomes := []Outcome{OutcomeRoleLacksPermission, OutcomeMatched, OutcomeMemberMismatch, OutcomeMemberMismatch}
	for i, tr := range e.Trace {
		if tr.Index != i || tr.Outcome != wantOutcomes[i] {
			t.Errorf("trace[%d] = %+v, want outcome %q", i, tr, wantOutcomes[i])
		}
	}
	if e.Trace[0].Member != "" || !strings.Contains(e.Trace[0].Detail, "roles/iam.serviceAccountUser does not grant iam.serviceAccounts.getAccessToken") {
		t.Errorf("trace[0] = %+v", e.Trace[0])
	}
	if !strings.Contains(e.Trace[2].Detail, `attribute.repository is ["my-org/my-repo"], not "my-org/other"`) {
		t.Errorf("trace[2] = %+v", e.Trace[2])
	}
	if !strings.Contains(e.Trace[3].Detail, "allUsers is never honoured") {
		t.Errorf("trace[3] = %+v", e.Trace[3])
	}
	if !e.Allowed || e.Binding != 1 {
		t.Errorf("decision %+v", e)
	}
}

func TestConditionRuntimeErrorDenies(t *testing.T) {
	t.Parallel()
	// Overflows only for instants near the end of the timestamp range, so it
	// passes the compile-time test evaluation.
	cp := mustCompile(t, Policy{Version: 3, Bindings: []Binding{
		{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember},
			Condition: &Expr{Title: "overflow", Expression: "request.time + duration('87600h') > timestamp('2000-01-01T00:00:00Z')"}},
	}})
	c := repoCaller("my-org/my-repo")
	if d := cp.Check(c, PermGetAccessToken, tNow); !d.Allowed {
		t.Fatalf("control: %+v", d)
	}
	late := time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC)
	if d := cp.Check(c, PermGetAccessToken, late); d.Allowed {
		t.Errorf("Check allowed on a condition error: %+v", d)
	}
	e := cp.Explain(c, PermGetAccessToken, late)
	if e.Allowed || len(e.Trace) != 1 || e.Trace[0].Outcome != OutcomeConditionError {
		t.Errorf("Explain = %+v", e)
	}
}

// randomPolicy draws a policy and callers from a small universe so that
// matches, misses, duplicate keys and conditions all occur often.
type universe struct {
	pools    []PoolName
	subjects []string
	values   []string
	names    []string
	sas      []string
}

func newUniverse() universe {
	return universe{
		pools:    []PoolName{tPool, {tProject, "other-pool"}, {"999999999999", "github-pool"}, {tProject, "my-project.svc.id.goog"}},
		subjects: []string{"alice", "bob", "a/b", "a//b", "system:serviceaccount:prod:app"},
		values:   []string{"my-org/my-repo", "my-org/my-repo/", "MY-ORG/my-repo", "x"},
		names:    []string{"repository", "env"},
		sas:      []string{tSAEmail, "other-sa@my-project.iam.gserviceaccount.com"},
	}
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func (u universe) member(r *rand.Rand) string {
	pool := tPool
	if r.IntN(2) == 0 {
		pool = pick(r, u.pools)
	}
	switch r.IntN(10) {
	case 0, 1:
		return PrincipalURI(pool, pick(r, u.subjects))
	case 2:
		return "principalSet://iam.googleapis.com/" + pool.String() + "/group/" + pick(r, u.values)
	case 3, 4:
		return "principalSet://iam.googleapis.com/" + pool.String() + "/attribute." + pick(r, u.names) + "/" + pick(r, u.values)
	case 5:
		return "principalSet://iam.googleapis.com/" + pool.String() + "/*"
	case 6:
		return "serviceAccount:" + pick(r, u.sas)
	case 7:
		return "serviceAccount:my-project.svc.id.goog[prod/app]"
	case 8:
		return pick(r, []string{"allUsers", "allAuthenticatedUsers", "user:alice@example.com", "domain:example.com"})
	}
	return PrincipalURI(tPool, "alice")
}

func (u universe) policy(r *rand.Rand) Policy {
	roles := KnownRoles()
	conds := []*Expr{nil, nil, nil,
		{Title: "future", Expression: "request.time < timestamp('2030-01-01T00:00:00Z')"},
		{Title: "past", Expression: "request.time < timestamp('2020-01-01T00:00:00Z')"},
		{Title: "even", Expression: "request.time.getSeconds() % 2 == 0"},
	}
	p := Policy{Version: 3}
	for range r.IntN(8) {
		b := Binding{Role: pick(r, roles), Condition: pick(r, conds)}
		for range r.IntN(5) {
			b.Members = append(b.Members, u.member(r))
		}
		p.Bindings = append(p.Bindings, b)
	}
	return p
}

func (u universe) caller(r *rand.Rand) Caller {
	if r.IntN(5) == 0 {
		return Caller{ServiceAccount: pick(r, append(u.sas, ""))}
	}
	pool := tPool // half the callers share the most used pool
	if r.IntN(2) == 0 {
		pool = pick(r, u.pools)
	}
	f := &Federated{Pool: pool, Subject: pick(r, append(u.subjects, "")), ProjectID: pick(r, []string{"my-project", "", "other-project"})}
	for range r.IntN(3) {
		f.Groups = append(f.Groups, pick(r, u.values))
	}
	if r.IntN(4) > 0 {
		f.Attributes = map[string][]string{}
		for range r.IntN(3) {
			n := pick(r, u.names)
			f.Attributes[n] = append(f.Attributes[n], pick(r, u.values))
		}
	}
	c := Caller{Federated: f}
	if r.IntN(10) == 0 {
		c.ServiceAccount = pick(r, u.sas)
	}
	return c
}

// reference is the decision spelled out from the definitions, with no index.
func reference(p Policy, c Caller, perm string, now time.Time, cp *CompiledPolicy) (bool, int, string) {
	for i, b := range p.Bindings {
		perms, _ := RolePermissions(b.Role)
		if !slices.Contains(perms, perm) {
			continue
		}
		for _, s := range b.Members {
			m, _ := ParseMember(s)
			if !m.Matches(c) {
				continue
			}
			if cond := cp.bindings[i].cond; cond != nil {
				if ok, err := cond.eval(now); err != nil || !ok {
					break
				}
			}
			return true, i, s
		}
	}
	return false, -1, ""
}

func TestCheckExplainAgree(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	u := newUniverse()
	perms := []string{PermGetAccessToken, PermGetOpenIDToken, PermSignBlob, PermActAs, PermGet, "unknown"}
	times := []time.Time{tNow, tNow.Add(time.Second), time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}
	allowed := 0
	const policies, callersPer = 400, 25
	for range policies {
		p := u.policy(r)
		cp := mustCompile(t, p)
		for range callersPer {
			c, perm, now := u.caller(r), pick(r, perms), pick(r, times)
			d, e := cp.Check(c, perm, now), cp.Explain(c, perm, now)
			ok, bi, mem := reference(p, c, perm, now, cp)
			if d.Allowed != e.Allowed || d.Binding != e.Binding || d.Member != e.Member || d.Role != e.Role ||
				d.Allowed != ok || d.Binding != bi || d.Member != mem {
				t.Fatalf("disagreement\npolicy %+v\ncaller %+v %+v\nperm %s at %s\nCheck %+v\nExplain %+v\nreference %v %d %q",
					p, c, c.Federated, perm, now, d, e, ok, bi, mem)
			}
			if d.Allowed {
				allowed++
			}
		}
	}
	// The generator must exercise both outcomes substantially.
	if total := policies * callersPer; allowed < total/20 || allowed > total*19/20 {
		t.Fatalf("allowed %d of %d decisions: generator is degenerate", allowed, total)
	}
	t.Logf("allowed %d of %d", allowed, policies*callersPer)
}

func TestBindingTraceString(t *testing.T) {
	t.Parallel()
	tr := BindingTrace{Index: 2, Role: RoleOwner, Outcome: OutcomeRoleLacksPermission, Detail: "d"}
	if got := tr.String(); got != "bindings[2] roles/owner: role lacks permission: d" {
		t.Errorf("String() = %q", got)
	}
	tr = BindingTrace{Index: 0, Role: RoleOwner, Member: "allUsers", Outcome: OutcomeMatched}
	if got := tr.String(); got != "bindings[0] roles/owner allUsers: matched" {
		t.Errorf("String() = %q", got)
	}
	_ = fmt.Sprint(tr)
}
