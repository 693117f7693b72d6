package iam

import (
	"slices"
	"testing"
)

func TestRolePermissions(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		RoleWorkloadIdentityUser:             {PermGet, PermGetAccessToken, PermGetOpenIDToken, PermList},
		RoleServiceAccountTokenCreator:       {PermGet, PermGetAccessToken, PermGetOpenIDToken, PermImplicitDelegation, PermList, PermSignBlob, PermSignJwt},
		RoleServiceAccountOpenIDTokenCreator: {PermGetOpenIDToken},
		RoleServiceAccountUser:               {PermActAs, PermGet, PermList},
	}
	for role, want := range cases {
		got, ok := RolePermissions(role)
		if !ok || !slices.Equal(got, want) {
			t.Errorf("RolePermissions(%q) = %v, %v; want %v", role, got, ok, want)
		}
	}
	if PermGetOpenIDToken != "iam.serviceAccounts.getOpenIdToken" || PermSignJwt != "iam.serviceAccounts.signJwt" {
		t.Error("permission spelling differs from Google's")
	}
	for _, role := range []string{"", "roles/iam.WorkloadIdentityUser", "roles/iam.workloadIdentityUser ", "iam.workloadIdentityUser",
		"projects/p/roles/custom", "roles/iam.serviceAccountKeyAdmin"} {
		if p, ok := RolePermissions(role); ok || p != nil {
			t.Errorf("RolePermissions(%q) = %v, %v; want unknown", role, p, ok)
		}
	}
}

func TestRolesMintingIsExplicit(t *testing.T) {
	t.Parallel()
	minting := []string{PermGetAccessToken, PermGetOpenIDToken, PermSignBlob, PermSignJwt, PermImplicitDelegation}
	for _, role := range []string{RoleOwner, RoleEditor, RoleViewer, RoleServiceAccountAdmin, RoleServiceAccountViewer, RoleServiceAccountUser} {
		perms, ok := RolePermissions(role)
		if !ok || len(perms) == 0 {
			t.Fatalf("RolePermissions(%q) unknown", role)
		}
		for _, p := range minting {
			if slices.Contains(perms, p) {
				t.Errorf("%s grants %s", role, p)
			}
		}
	}
}

func TestRolePermissionsFresh(t *testing.T) {
	t.Parallel()
	a, _ := RolePermissions(RoleServiceAccountOpenIDTokenCreator)
	a[0] = PermSignBlob
	b, _ := RolePermissions(RoleServiceAccountOpenIDTokenCreator)
	if b[0] != PermGetOpenIDToken {
		t.Fatal("RolePermissions returned shared state")
	}
}

func TestKnownRoles(t *testing.T) {
	t.Parallel()
	roles := KnownRoles()
	if len(roles) != 9 || !slices.IsSorted(roles) {
		t.Fatalf("KnownRoles() = %v", roles)
	}
	for _, r := range roles {
		if _, ok := RolePermissions(r); !ok {
			t.Errorf("known role %q has no permissions", r)
		}
	}
}

func TestSuggestRole(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"roles/iam.workloadIdentityUsers":            RoleWorkloadIdentityUser,
		"roles/iam.WorkloadIdentityUser":             RoleWorkloadIdentityUser,
		"roles/iam.serviceAccountTokenCreater":       RoleServiceAccountTokenCreator,
		"roles/iam.serviceAccountOpenIDTokenCreator": RoleServiceAccountOpenIDTokenCreator,
		"roles/ownr":              RoleOwner,
		"roles/storage.admin":     "",
		"something else entirely": "",
	}
	for in, want := range cases {
		if got := suggestRole(in); got != want {
			t.Errorf("suggestRole(%q) = %q, want %q", in, got, want)
		}
	}
}
