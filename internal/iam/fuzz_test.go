package iam

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func FuzzParseMember(f *testing.F) {
	for _, s := range []string{
		tPrincipal + "/subject/repo:my-org/my-repo:ref:refs/heads/main",
		tPrincipal + "/subject/a/subject/b",
		tSet + "/attribute.repository/my-org/my-repo",
		tSet + "/attribute.aws_role/arn:aws:sts::123456789012:assumed-role/deploy",
		tSet + "/group/org/admins",
		tSet + "/*",
		"principal://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/subject/alice",
		"principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/alice",
		"serviceAccount:" + tSAEmail,
		"serviceAccount:my-project.svc.id.goog[prod/deployer]",
		"user:alice@example.com", "group:admins@example.com", "domain:example.com", "allUsers", "allAuthenticatedUsers",
		"deleted:serviceAccount:x@y.com?uid=1", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMember(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidMember) {
				t.Fatalf("ParseMember(%q): untyped error %v", s, err)
			}
			return
		}
		if m.Kind == KindInvalid {
			t.Fatalf("ParseMember(%q) accepted with KindInvalid", s)
		}
		if m.String() != s {
			t.Fatalf("String() = %q, input %q", m.String(), s)
		}
		m2, err := ParseMember(m.String())
		if err != nil || m2 != m {
			t.Fatalf("re-parse of %q = %+v, %v; want %+v", m.String(), m2, err, m)
		}
		// A caller built from the member matches it; one whose value is
		// changed by a "normalization" does not.
		var hit, miss *Federated
		switch m.Kind {
		case KindPrincipal:
			hit, miss = &Federated{Pool: m.Pool, Subject: m.Subject}, &Federated{Pool: m.Pool, Subject: m.Subject + "/"}
		case KindPrincipalSetAttribute:
			hit = &Federated{Pool: m.Pool, Subject: "s", Attributes: map[string][]string{m.AttrName: {m.AttrValue}}}
			miss = &Federated{Pool: m.Pool, Subject: "s", Attributes: map[string][]string{m.AttrName: {strings.ToUpper(m.AttrValue) + "x"}}}
		case KindPrincipalSetGroup:
			hit, miss = &Federated{Pool: m.Pool, Subject: "s", Groups: []string{m.Group}}, &Federated{Pool: m.Pool, Subject: "s", Groups: []string{m.Group + "/"}}
		case KindPrincipalSetAll:
			hit, miss = &Federated{Pool: m.Pool, Subject: "s"}, &Federated{Pool: PoolName{m.Pool.ProjectNumber + "0", m.Pool.PoolID}, Subject: "s"}
		case KindGKEWorkload:
			hit = &Federated{Pool: PoolName{tProject, GKEPoolID(m.Project)}, ProjectID: m.Project, Subject: GKESubject(m.Namespace, m.KSA)}
			miss = &Federated{Pool: PoolName{tProject, GKEPoolID(m.Project)}, Subject: GKESubject(m.Namespace, m.KSA)}
		}
		if hit != nil && !m.Matches(Caller{Federated: hit}) {
			t.Fatalf("%q does not match %+v", s, hit)
		}
		if miss != nil && m.Matches(Caller{Federated: miss}) {
			t.Fatalf("%q matches %+v", s, miss)
		}
	})
}

func FuzzParseAudience(f *testing.F) {
	for _, s := range []string{
		"//iam.googleapis.com/" + tProvPath,
		"https://iam.googleapis.com/" + tProvPath,
		"//iam.example.internal:8443/" + tProvPath,
		"//iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/p/providers/x",
		"//iam.googleapis.com/locations/global/workforcePools/staff/providers/x",
		"https://sts.amazonaws.com", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseAudience(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ParseAudience(%q): untyped error %v", s, err)
			}
			return
		}
		if !strings.HasSuffix(s, "/"+p.String()) {
			t.Fatalf("ParseAudience(%q) = %q: not the input's path", s, p)
		}
		for _, aud := range []string{p.Audience(), p.HTTPSAudience()} {
			if q, err := ParseAudience(aud); err != nil || q != p {
				t.Fatalf("ParseAudience(%q) = %+v, %v; want %+v", aud, q, err, p)
			}
		}
		if q, err := ParseProviderName(p.String()); err != nil || q != p {
			t.Fatalf("ParseProviderName(%q) = %+v, %v", p.String(), q, err)
		}
	})
}

func FuzzParseProviderName(f *testing.F) {
	for _, s := range []string{
		tProvPath, tPoolPath,
		"projects/123456789012/locations/global/workloadIdentityPools/my-project.svc.id.goog/providers/k8s",
		"projects/my-project/locations/global/workloadIdentityPools/p/providers/x",
		"locations/global/workforcePools/staff/providers/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProviderName(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ParseProviderName(%q): untyped error %v", s, err)
			}
		} else {
			if p.String() != s {
				t.Fatalf("String() = %q, input %q", p.String(), s)
			}
			if q, err := ParsePoolName(p.Pool.String()); err != nil || q != p.Pool {
				t.Fatalf("ParsePoolName(%q) = %+v, %v", p.Pool.String(), q, err)
			}
		}
		if pool, err := ParsePoolName(s); err == nil && pool.String() != s {
			t.Fatalf("pool String() = %q, input %q", pool.String(), s)
		}
	})
}

func FuzzParseServiceAccountResource(f *testing.F) {
	for _, s := range []string{
		"projects/-/serviceAccounts/" + tSAEmail,
		"projects/-/serviceAccounts/deploy-sa%40my-project.iam.gserviceaccount.com",
		"projects/my-project/serviceAccounts/109876543210987654321",
		"projects/-/serviceAccounts/x%40y%40z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseServiceAccountResource(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ParseServiceAccountResource(%q): untyped error %v", s, err)
			}
			return
		}
		if (ref.Email == "") == (ref.UniqueID == "") {
			t.Fatalf("ParseServiceAccountResource(%q) = %+v: want exactly one of email and unique id", s, ref)
		}
		canon := "projects/" + ref.Project + "/serviceAccounts/" + ref.Email + ref.UniqueID
		if again, err := ParseServiceAccountResource(canon); err != nil || again != ref {
			t.Fatalf("re-parse of %q = %+v, %v", canon, again, err)
		}
		if canon != s && strings.Replace(canon, "@", "%40", 1) != s {
			t.Fatalf("%q parsed to %+v", s, ref)
		}
	})
}

func FuzzDecodeEtag(f *testing.F) {
	for _, s := range []string{"BwX+/w8=", "BwX-_w8=", "BwX-_w8", "W_opaque-etag-42", `W/"x"`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeEtag(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidEtag) || EtagEqual(s, s) {
				t.Fatalf("DecodeEtag(%q): %v", s, err)
			}
			return
		}
		for _, enc := range []string{base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)} {
			if !EtagEqual(s, enc) || !EtagEqual(enc, s) {
				t.Fatalf("EtagEqual(%q, %q) = false", s, enc)
			}
		}
	})
}

// FuzzCompilePolicy feeds policy JSON through CompilePolicy and, when it
// compiles, holds Check and Explain to the same decisions.
func FuzzCompilePolicy(f *testing.F) {
	seeds := []Policy{
		{Version: 3, Bindings: []Binding{
			{Role: RoleWorkloadIdentityUser, Members: []string{tRepoMember, tSet + "/group/admins"}},
			{Role: RoleServiceAccountTokenCreator, Members: []string{"serviceAccount:" + tSAEmail, tPrincipal + "/subject/alice"},
				Condition: &Expr{Title: "t", Expression: "request.time < timestamp('2030-01-01T00:00:00Z')"}},
		}},
		{Bindings: []Binding{{Role: RoleOwner, Members: []string{tSet + "/*", "serviceAccount:my-project.svc.id.goog[prod/app]"}}}},
	}
	for _, p := range seeds {
		b, _ := json.Marshal(p)
		f.Add(b)
	}
	callers := []Caller{
		repoCaller("my-org/my-repo"),
		{Federated: &Federated{Pool: tPool, Subject: "alice", Groups: []string{"admins"}}},
		{Federated: &Federated{Pool: PoolName{tProject, "my-project.svc.id.goog"}, ProjectID: "my-project", Subject: "system:serviceaccount:prod:app"}},
		{ServiceAccount: tSAEmail},
		{},
	}
	perms := []string{PermGetAccessToken, PermSignJwt, PermActAs}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Policy
		if json.Unmarshal(data, &p) != nil {
			return
		}
		cp, errs := CompilePolicy(p)
		if len(errs) > 0 {
			if cp != nil {
				t.Fatal("policy returned with errors")
			}
			for _, err := range errs {
				var pe *PolicyError
				if !errors.As(err, &pe) || pe.Path == "" {
					t.Fatalf("error without a path: %v", err)
				}
			}
			return
		}
		for _, c := range callers {
			for _, perm := range perms {
				now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				d, e := cp.Check(c, perm, now), cp.Explain(c, perm, now)
				if d.Allowed != e.Allowed || d.Binding != e.Binding || d.Member != e.Member {
					t.Fatalf("Check %+v, Explain %+v for %s", d, e, perm)
				}
			}
		}
	})
}
