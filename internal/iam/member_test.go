package iam

import (
	"errors"
	"strings"
	"testing"
)

const (
	tPrincipal = "principal://iam.googleapis.com/" + tPoolPath
	tSet       = "principalSet://iam.googleapis.com/" + tPoolPath
	tSAEmail   = "deploy-sa@my-project.iam.gserviceaccount.com"
)

func TestParseMemberValid(t *testing.T) {
	t.Parallel()
	gkePool := PoolName{ProjectNumber: tProject, PoolID: "my-project.svc.id.goog"}
	cases := []struct {
		in   string
		want Member
	}{
		{tPrincipal + "/subject/alice", Member{Kind: KindPrincipal, Pool: tPool, Subject: "alice"}},
		{tPrincipal + "/subject/repo:my-org/my-repo:ref:refs/heads/main", Member{Kind: KindPrincipal, Pool: tPool, Subject: "repo:my-org/my-repo:ref:refs/heads/main"}},
		{tPrincipal + "/subject/a/subject/b", Member{Kind: KindPrincipal, Pool: tPool, Subject: "a/subject/b"}},
		{tPrincipal + "/subject/a//../b/", Member{Kind: KindPrincipal, Pool: tPool, Subject: "a//../b/"}},
		{tPrincipal + "/subject/%2F", Member{Kind: KindPrincipal, Pool: tPool, Subject: "%2F"}},
		{tPrincipal + "/subject/" + strings.Repeat("s", MaxSubjectBytes), Member{Kind: KindPrincipal, Pool: tPool, Subject: strings.Repeat("s", MaxSubjectBytes)}},
		{tPrincipal + "/subject/ünïcødé", Member{Kind: KindPrincipal, Pool: tPool, Subject: "ünïcødé"}},
		{"principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-project.svc.id.goog/subject/ns/prod/sa/app",
			Member{Kind: KindPrincipal, Pool: gkePool, Subject: "ns/prod/sa/app"}},
		{tSet + "/group/admins", Member{Kind: KindPrincipalSetGroup, Pool: tPool, Group: "admins"}},
		{tSet + "/group/org/team/admins", Member{Kind: KindPrincipalSetGroup, Pool: tPool, Group: "org/team/admins"}},
		{tSet + "/attribute.repository/my-org/my-repo", Member{Kind: KindPrincipalSetAttribute, Pool: tPool, AttrName: "repository", AttrValue: "my-org/my-repo"}},
		{tSet + "/attribute.repository/my-org//my-repo/", Member{Kind: KindPrincipalSetAttribute, Pool: tPool, AttrName: "repository", AttrValue: "my-org//my-repo/"}},
		{tSet + "/attribute.a_1/x", Member{Kind: KindPrincipalSetAttribute, Pool: tPool, AttrName: "a_1", AttrValue: "x"}},
		{tSet + "/attribute." + strings.Repeat("n", MaxAttrNameLen) + "/v", Member{Kind: KindPrincipalSetAttribute, Pool: tPool, AttrName: strings.Repeat("n", MaxAttrNameLen), AttrValue: "v"}},
		{tSet + "/attribute.aws_role/arn:aws:sts::123456789012:assumed-role/deploy", Member{Kind: KindPrincipalSetAttribute, Pool: tPool, AttrName: "aws_role", AttrValue: "arn:aws:sts::123456789012:assumed-role/deploy"}},
		{tSet + "/attribute.x/*", Member{Kind: KindPrincipalSetAttribute, Pool: tPool, AttrName: "x", AttrValue: "*"}},
		{tSet + "/*", Member{Kind: KindPrincipalSetAll, Pool: tPool}},
		{"serviceAccount:" + tSAEmail, Member{Kind: KindServiceAccount, Email: tSAEmail}},
		{"serviceAccount:my-project.svc.id.goog[prod/deployer]", Member{Kind: KindGKEWorkload, Project: "my-project", Namespace: "prod", KSA: "deployer"}},
		{"serviceAccount:my-project.svc.id.goog[kube-system/a.b-c]", Member{Kind: KindGKEWorkload, Project: "my-project", Namespace: "kube-system", KSA: "a.b-c"}},
		{"user:Alice.Smith+ci@Example.com", Member{Kind: KindUser, Email: "Alice.Smith+ci@Example.com"}},
		{"group:admins@example.com", Member{Kind: KindGroup, Email: "admins@example.com"}},
		{"domain:example.com", Member{Kind: KindDomain, Domain: "example.com"}},
		{"allUsers", Member{Kind: KindAllUsers}},
		{"allAuthenticatedUsers", Member{Kind: KindAllAuthenticatedUsers}},
	}
	for _, tc := range cases {
		got, err := ParseMember(tc.in)
		if err != nil {
			t.Errorf("ParseMember(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseMember(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

func TestParseMemberInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		reason string // substring of the error
		extra  error
	}{
		{"", "empty", nil},
		{"principal://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/subject/alice",
			"projects/my-project: a principal names the project by number", ErrProjectNotNumber},
		{"principalSet://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/*",
			"projects/my-project: a principal set names the project by number", ErrProjectNotNumber},
		{"principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/alice", "workforce", ErrWorkforceUnsupported},
		{"principal://iam.example.com/" + tPoolPath + "/subject/alice", "host must be iam.googleapis.com", nil},
		{"principal://IAM.googleapis.com/" + tPoolPath + "/subject/alice", "host must be", nil},
		{"principal:/iam.googleapis.com/" + tPoolPath + "/subject/alice", "unknown member type", nil},
		{"Principal://iam.googleapis.com/" + tPoolPath + "/subject/alice", "unknown member type", nil},
		{"principalset://iam.googleapis.com/" + tPoolPath + "/*", "unknown member type", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/", "empty subject", nil},
		{"principal://iam.googleapis.com/" + tPoolPath, "expected /subject/", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/", "expected /subject/", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subjects/alice", "expected /subject/", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/" + strings.Repeat("s", MaxSubjectBytes+1), "at most 127", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/*", "principalSet://", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/attribute.repository/x", "principalSet://", nil},
		{"principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gcp-x/subject/a", "reserved", nil},
		{"principal://iam.googleapis.com/projects/123456789012/locations/europe/workloadIdentityPools/github-pool/subject/a", "only location is global", nil},
		{"principal://iam.googleapis.com/projects/123456789012/workloadIdentityPools/github-pool/subject/a", "expected projects/", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/alice smith", "whitespace", nil},
		{" principal://iam.googleapis.com/" + tPoolPath + "/subject/alice", "whitespace", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/alice\n", "whitespace", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/alice\x00", "control", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/alice\u200b", "invisible", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/alice\u00a0", "whitespace", nil},
		{"principal://iam.googleapis.com/" + tPoolPath + "/subject/\xff", "UTF-8", nil},
		{tSet, "expected /group/", nil},
		{tSet + "/", "expected /group/", nil},
		{tSet + "/**", "expected /group/", nil},
		{tSet + "/*/", "expected /group/", nil},
		{tSet + "/group/", "empty group", nil},
		{tSet + "/group/" + strings.Repeat("g", MaxAttrValueBytes+1), "group is 8193 bytes, the limit is 8192", nil},
		{tSet + "/subject/alice", "principal:// member", nil},
		{tSet + "/attribute.repository", "expected /attribute.NAME/VALUE", nil},
		{tSet + "/attribute.repository/", "empty attribute value", nil},
		{tSet + "/attribute./x", "attribute name", nil},
		{tSet + "/attribute.Repository/x", "attribute name", nil},
		{tSet + "/attribute.repo-name/x", "attribute name", nil},
		{tSet + "/attribute." + strings.Repeat("n", MaxAttrNameLen+1) + "/x", "attribute name", nil},
		{tSet + "/attribute.x/" + strings.Repeat("v", MaxAttrValueBytes+1), "the limit is 8192", nil},
		{tSet + "/attributes.x/y", "expected /group/", nil},
		{"serviceAccount:", "service account email", nil},
		{"serviceAccount:Deploy-sa@my-project.iam.gserviceaccount.com", "service account email", nil},
		{"serviceAccount: " + tSAEmail, "whitespace", nil},
		{"serviceaccount:" + tSAEmail, "unknown member type", nil},
		{"serviceAccount:" + tSAEmail + "?uid=123", "service account email", nil},
		{"serviceAccount:my-project.svc.id.goog[prod/deployer", "expected serviceAccount:PROJECT_ID.svc.id.goog", nil},
		{"serviceAccount:my-project.svc.id.goog[prod/deployer]x", "expected serviceAccount:PROJECT_ID.svc.id.goog", nil},
		{"serviceAccount:my-project.svc.id.goog[prod]", "expected [NAMESPACE/KSA]", nil},
		{"serviceAccount:my-project.svc.id.goog[/deployer]", "namespace", nil},
		{"serviceAccount:my-project.svc.id.goog[prod/]", "Kubernetes service account", nil},
		{"serviceAccount:my-project.svc.id.goog[Prod/deployer]", "namespace", nil},
		{"serviceAccount:my-project.svc.id.goog[a.b/deployer]", "namespace", nil},
		{"serviceAccount:my-project.svc.id.goog[prod/de/ployer]", "Kubernetes service account", nil},
		{"serviceAccount:My-Project.svc.id.goog[prod/deployer]", "project id", nil},
		{"serviceAccount:.svc.id.goog[prod/deployer]", "project id", nil},
		{"user:", "email", nil},
		{"user:alice", "email", nil},
		{"user:alice@localhost", "email", nil},
		{"group:a@b@example.com", "email", nil},
		{"domain:", "DNS domain", nil},
		{"domain:com", "DNS domain", nil},
		{"domain:exa_mple.com", "DNS domain", nil},
		{"allusers", "unknown member type", nil},
		{"allUsers ", "whitespace", nil},
		{"allAuthenticatedUsers/", "unknown member type", nil},
		{"deleted:serviceAccount:" + tSAEmail + "?uid=1", "deleted", nil},
		{"projectOwner:my-project", "unknown member type", nil},
		{strings.Repeat("x", maxMemberLen+1), "longer than", nil},
	}
	for _, tc := range cases {
		m, err := ParseMember(tc.in)
		checkParseErr(t, tc.in, err, ErrInvalidMember)
		if err == nil {
			t.Errorf("ParseMember(%q) = %+v", tc.in, m)
			continue
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("ParseMember(%q) error %q lacks %q", tc.in, err, tc.reason)
		}
		if tc.extra != nil && !errors.Is(err, tc.extra) {
			t.Errorf("ParseMember(%q) error does not match %v", tc.in, tc.extra)
		}
		if errors.Is(err, ErrInvalidName) {
			t.Errorf("ParseMember(%q) error matches ErrInvalidName; members report ErrInvalidMember", tc.in)
		}
	}
}

func fed(pool PoolName, subject string) *Federated {
	return &Federated{Pool: pool, Subject: subject, Attributes: map[string][]string{}}
}

func TestMemberMatches(t *testing.T) {
	t.Parallel()
	otherPool := PoolName{ProjectNumber: tProject, PoolID: "other-pool"}
	otherProject := PoolName{ProjectNumber: "999999999999", PoolID: "github-pool"}
	repoCaller := func(vals ...string) Caller {
		f := fed(tPool, "repo:my-org/my-repo:ref:refs/heads/main")
		f.Attributes["repository"] = vals
		return Caller{Federated: f}
	}
	groupCaller := func(groups ...string) Caller {
		f := fed(tPool, "alice")
		f.Groups = groups
		return Caller{Federated: f}
	}
	gke := func(pool PoolName, projectID, subject string) Caller {
		f := fed(pool, subject)
		f.ProjectID = projectID
		return Caller{Federated: f}
	}
	gkePool := PoolName{ProjectNumber: tProject, PoolID: "my-project.svc.id.goog"}
	const gkeMember = "serviceAccount:my-project.svc.id.goog[prod/deployer]"
	const gkeSub = "system:serviceaccount:prod:deployer"

	cases := []struct {
		name   string
		member string
		caller Caller
		want   bool
	}{
		{"principal match", tPrincipal + "/subject/alice", Caller{Federated: fed(tPool, "alice")}, true},
		{"principal other subject", tPrincipal + "/subject/alice", Caller{Federated: fed(tPool, "alice2")}, false},
		{"principal case", tPrincipal + "/subject/alice", Caller{Federated: fed(tPool, "Alice")}, false},
		{"principal prefix", tPrincipal + "/subject/alice", Caller{Federated: fed(tPool, "alic")}, false},
		{"principal other pool", tPrincipal + "/subject/alice", Caller{Federated: fed(otherPool, "alice")}, false},
		{"principal other project", tPrincipal + "/subject/alice", Caller{Federated: fed(otherProject, "alice")}, false},
		{"principal slash subject", tPrincipal + "/subject/a/b", Caller{Federated: fed(tPool, "a/b")}, true},
		{"principal slash not normalized", tPrincipal + "/subject/a/b", Caller{Federated: fed(tPool, "a//b")}, false},
		{"principal no federated", tPrincipal + "/subject/alice", Caller{ServiceAccount: tSAEmail}, false},
		{"principal empty caller", tPrincipal + "/subject/alice", Caller{}, false},

		{"attribute exact", tSet + "/attribute.repository/my-org/my-repo", repoCaller("my-org/my-repo"), true},
		{"attribute any value", tSet + "/attribute.repository/my-org/my-repo", repoCaller("x", "my-org/my-repo"), true},
		{"attribute trailing slash", tSet + "/attribute.repository/my-org/my-repo", repoCaller("my-org/my-repo/"), false},
		{"attribute double slash", tSet + "/attribute.repository/my-org/my-repo", repoCaller("my-org//my-repo"), false},
		{"attribute case", tSet + "/attribute.repository/my-org/my-repo", repoCaller("MY-ORG/my-repo"), false},
		{"attribute dot segments", tSet + "/attribute.repository/my-org/my-repo", repoCaller("my-org/x/../my-repo"), false},
		{"attribute escaped", tSet + "/attribute.repository/my-org/my-repo", repoCaller("my-org%2Fmy-repo"), false},
		{"attribute prefix", tSet + "/attribute.repository/my-org/my-repo", repoCaller("my-org/my-repo-2"), false},
		{"attribute value with trailing slash", tSet + "/attribute.repository/my-org/my-repo/", repoCaller("my-org/my-repo/"), true},
		{"attribute value with double slash", tSet + "/attribute.repository/my-org//my-repo", repoCaller("my-org//my-repo"), true},
		{"attribute empty caller value", tSet + "/attribute.repository/my-org/my-repo", repoCaller(""), false},
		{"attribute missing", tSet + "/attribute.workflow/deploy", repoCaller("deploy"), false},
		{"attribute other pool", tSet + "/attribute.repository/my-org/my-repo",
			Caller{Federated: &Federated{Pool: otherPool, Subject: "s", Attributes: map[string][]string{"repository": {"my-org/my-repo"}}}}, false},
		{"attribute prefixed key not used", tSet + "/attribute.repository/r",
			Caller{Federated: &Federated{Pool: tPool, Subject: "s", Attributes: map[string][]string{"attribute.repository": {"r"}}}}, false},

		{"group match", tSet + "/group/admins", groupCaller("devs", "admins"), true},
		{"group none", tSet + "/group/admins", groupCaller("devs"), false},
		{"group case", tSet + "/group/admins", groupCaller("Admins"), false},
		{"group slash", tSet + "/group/org/admins", groupCaller("org/admins"), true},
		{"group no groups", tSet + "/group/admins", groupCaller(), false},

		{"pool all", tSet + "/*", Caller{Federated: fed(tPool, "anyone")}, true},
		{"pool all other pool", tSet + "/*", Caller{Federated: fed(otherPool, "anyone")}, false},
		{"pool all empty subject", tSet + "/*", Caller{Federated: fed(tPool, "")}, false},
		{"pool all service account", tSet + "/*", Caller{ServiceAccount: tSAEmail}, false},

		{"sa match", "serviceAccount:" + tSAEmail, Caller{ServiceAccount: tSAEmail}, true},
		{"sa other", "serviceAccount:" + tSAEmail, Caller{ServiceAccount: "other-sa@my-project.iam.gserviceaccount.com"}, false},
		{"sa federated subject equal to email", "serviceAccount:" + tSAEmail, Caller{Federated: fed(tPool, tSAEmail)}, false},
		{"sa empty", "serviceAccount:" + tSAEmail, Caller{}, false},

		{"gke match", gkeMember, gke(gkePool, "my-project", gkeSub), true},
		{"gke other project number still same project id", gkeMember, gke(PoolName{"555555555555", "my-project.svc.id.goog"}, "my-project", gkeSub), true},
		{"gke pool in a different project", gkeMember, gke(PoolName{"555555555555", "my-project.svc.id.goog"}, "attacker-project", gkeSub), false},
		{"gke project id unknown", gkeMember, gke(gkePool, "", gkeSub), false},
		{"gke other pool", gkeMember, gke(tPool, "my-project", gkeSub), false},
		{"gke other ksa", gkeMember, gke(gkePool, "my-project", "system:serviceaccount:prod:other"), false},
		{"gke other ns", gkeMember, gke(gkePool, "my-project", "system:serviceaccount:dev:deployer"), false},
		{"gke google subject form", gkeMember, gke(gkePool, "my-project", "ns/prod/sa/deployer"), false},
		{"gke service account caller", gkeMember, Caller{ServiceAccount: tSAEmail}, false},

		{"user never", "user:alice@example.com", Caller{Federated: fed(tPool, "alice@example.com")}, false},
		{"group never", "group:admins@example.com", groupCaller("admins@example.com"), false},
		{"domain never", "domain:example.com", Caller{ServiceAccount: tSAEmail}, false},
		{"allUsers never", "allUsers", Caller{Federated: fed(tPool, "alice")}, false},
		{"allUsers never sa", "allUsers", Caller{ServiceAccount: tSAEmail}, false},
		{"allAuthenticatedUsers never", "allAuthenticatedUsers", Caller{Federated: fed(tPool, "alice")}, false},
	}
	for _, tc := range cases {
		m, err := ParseMember(tc.member)
		if err != nil {
			t.Fatalf("%s: ParseMember: %v", tc.name, err)
		}
		got, why := m.match(tc.caller)
		if got != tc.want {
			t.Errorf("%s: %s.Matches = %v, want %v", tc.name, tc.member, got, tc.want)
		}
		if got != m.Matches(tc.caller) {
			t.Errorf("%s: Matches and match disagree", tc.name)
		}
		if !got && why == "" {
			t.Errorf("%s: no mismatch reason", tc.name)
		}
	}
	if (Member{}).Matches(Caller{Federated: fed(tPool, "alice")}) {
		t.Error("the zero Member matched")
	}
}

func TestMemberKindHelpers(t *testing.T) {
	t.Parallel()
	workload := map[MemberKind]bool{KindPrincipal: true, KindPrincipalSetGroup: true, KindPrincipalSetAttribute: true,
		KindPrincipalSetAll: true, KindServiceAccount: true, KindGKEWorkload: true}
	for k := KindInvalid; k <= KindAllAuthenticatedUsers; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "MemberKind(") {
			t.Errorf("kind %d has no name", int(k))
		}
		m := Member{Kind: k}
		if m.CanMatchWorkload() != workload[k] {
			t.Errorf("%v.CanMatchWorkload() = %v", k, m.CanMatchWorkload())
		}
		if m.IsPublic() != (k == KindAllUsers || k == KindAllAuthenticatedUsers) {
			t.Errorf("%v.IsPublic() = %v", k, m.IsPublic())
		}
	}
	if got := MemberKind(99).String(); got != "MemberKind(99)" {
		t.Errorf("MemberKind(99).String() = %q", got)
	}
	if got := (Member{}).String(); got != "" {
		t.Errorf("zero Member String() = %q", got)
	}
}

func TestMismatchReasons(t *testing.T) {
	t.Parallel()
	f := fed(tPool, "bob")
	f.Attributes["repository"] = []string{"a", "b", "c", "d", "e", "f"}
	c := Caller{Federated: f}
	cases := map[string]string{
		tPrincipal + "/subject/alice":    `subject "bob" is not "alice"`,
		tSet + "/attribute.repository/x": `attribute.repository is ["a" "b" "c" "d" …2 more], not "x"`,
		tSet + "/attribute.workflow/x":   "the caller has no attribute.workflow",
		tSet + "/group/g":                "the caller's 0 groups do not include",
		"serviceAccount:" + tSAEmail:     "the caller is not a service account",
		"allUsers":                       "never honoured",
		"user:a@example.com":             "never match workloads",
		"principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/other-pool/*": "the caller is in pool",
	}
	for member, want := range cases {
		m, err := ParseMember(member)
		if err != nil {
			t.Fatal(err)
		}
		if _, why := m.match(c); !strings.Contains(why, want) {
			t.Errorf("%s: reason %q lacks %q", member, why, want)
		}
	}
}
