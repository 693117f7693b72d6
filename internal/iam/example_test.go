package iam_test

import (
	"fmt"
	"time"

	"github.com/keylessdev/keyless/internal/iam"
)

func ExampleCompiledPolicy_Check() {
	policy := iam.Policy{Bindings: []iam.Binding{{
		Role: iam.RoleWorkloadIdentityUser,
		Members: []string{
			"principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github-pool/attribute.repository/my-org/my-repo",
		},
	}}}
	cp, errs := iam.CompilePolicy(policy)
	if errs != nil {
		fmt.Println(errs)
		return
	}
	pool := iam.PoolName{ProjectNumber: "123456789012", PoolID: "github-pool"}
	caller := func(repo string) iam.Caller {
		return iam.Caller{Federated: &iam.Federated{
			Pool:       pool,
			Subject:    "repo:" + repo + ":ref:refs/heads/main",
			Attributes: map[string][]string{"repository": {repo}},
		}}
	}
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for _, repo := range []string{"my-org/my-repo", "my-org/my-repo/", "MY-ORG/my-repo"} {
		d := cp.Check(caller(repo), iam.PermGetAccessToken, now)
		fmt.Printf("%-16s allowed=%v binding=%d\n", repo, d.Allowed, d.Binding)
	}
	// Output:
	// my-org/my-repo   allowed=true binding=0
	// my-org/my-repo/  allowed=false binding=-1
	// MY-ORG/my-repo   allowed=false binding=-1
}

func ExampleCompilePolicy_errors() {
	_, errs := iam.CompilePolicy(iam.Policy{Bindings: []iam.Binding{{
		Role:    "roles/iam.workloadIdentityUsers",
		Members: []string{"principal://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/subject/alice"},
	}}})
	for _, err := range errs {
		fmt.Println(err)
	}
	// Output:
	// bindings[0].role: unknown role "roles/iam.workloadIdentityUsers" (did you mean "roles/iam.workloadIdentityUser"?); keyless knows roles/editor, roles/iam.serviceAccountAdmin, roles/iam.serviceAccountOpenIdTokenCreator, roles/iam.serviceAccountTokenCreator, roles/iam.serviceAccountUser, roles/iam.serviceAccountViewer, roles/iam.workloadIdentityUser, roles/owner, roles/viewer
	// bindings[0].members[0]: invalid member "principal://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/subject/alice": projects/my-project: a principal names the project by number
}

func ExampleParseAudience() {
	p, err := iam.ParseAudience("//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github-pool/providers/github-provider")
	fmt.Println(p.Pool.PoolID, p.ProviderID, err)
	fmt.Println(p.HTTPSAudience())
	// Output:
	// github-pool github-provider <nil>
	// https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github-pool/providers/github-provider
}
