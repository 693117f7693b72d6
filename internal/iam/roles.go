package iam

import (
	"slices"

	"github.com/keylessdev/keyless/internal/spelling"
)

// Permissions on a service account (the resource every keyless IAM policy is
// attached to). Only iam.serviceAccounts.* permissions are modelled.
const (
	PermGet                = "iam.serviceAccounts.get"
	PermList               = "iam.serviceAccounts.list"
	PermActAs              = "iam.serviceAccounts.actAs"
	PermUpdate             = "iam.serviceAccounts.update"
	PermDelete             = "iam.serviceAccounts.delete"
	PermGetIamPolicy       = "iam.serviceAccounts.getIamPolicy"
	PermSetIamPolicy       = "iam.serviceAccounts.setIamPolicy"
	PermGetAccessToken     = "iam.serviceAccounts.getAccessToken"
	PermGetOpenIDToken     = "iam.serviceAccounts.getOpenIdToken"
	PermSignBlob           = "iam.serviceAccounts.signBlob"
	PermSignJwt            = "iam.serviceAccounts.signJwt"
	PermImplicitDelegation = "iam.serviceAccounts.implicitDelegation"
)

// Roles keyless knows.
const (
	RoleWorkloadIdentityUser             = "roles/iam.workloadIdentityUser"
	RoleServiceAccountTokenCreator       = "roles/iam.serviceAccountTokenCreator"
	RoleServiceAccountOpenIDTokenCreator = "roles/iam.serviceAccountOpenIdTokenCreator"
	RoleServiceAccountUser               = "roles/iam.serviceAccountUser"
	RoleServiceAccountAdmin              = "roles/iam.serviceAccountAdmin"
	RoleServiceAccountViewer             = "roles/iam.serviceAccountViewer"
	RoleOwner                            = "roles/owner"
	RoleEditor                           = "roles/editor"
	RoleViewer                           = "roles/viewer"
)

// RolePermissions returns the service-account permissions a role grants
// (a fresh slice), and false for a role keyless does not know. The token
// roles follow Google. The basic roles (owner, editor, viewer) and
// serviceAccountAdmin grant administration only, never token minting or
// signing: as on Google, impersonation needs an explicit token role.
func RolePermissions(role string) ([]string, bool) {
	switch role {
	case RoleWorkloadIdentityUser:
		return []string{PermGet, PermGetAccessToken, PermGetOpenIDToken, PermList}, true
	case RoleServiceAccountTokenCreator:
		return []string{PermGet, PermGetAccessToken, PermGetOpenIDToken, PermImplicitDelegation, PermList, PermSignBlob, PermSignJwt}, true
	case RoleServiceAccountOpenIDTokenCreator:
		return []string{PermGetOpenIDToken}, true
	case RoleServiceAccountUser:
		return []string{PermActAs, PermGet, PermList}, true
	case RoleServiceAccountAdmin:
		return []string{PermDelete, PermGet, PermGetIamPolicy, PermList, PermSetIamPolicy, PermUpdate}, true
	case RoleServiceAccountViewer, RoleViewer:
		return []string{PermGet, PermList}, true
	case RoleOwner:
		return []string{PermActAs, PermDelete, PermGet, PermGetIamPolicy, PermList, PermSetIamPolicy, PermUpdate}, true
	case RoleEditor:
		return []string{PermActAs, PermDelete, PermGet, PermGetIamPolicy, PermList, PermUpdate}, true
	}
	return nil, false
}

// KnownRoles lists the roles RolePermissions knows, sorted.
func KnownRoles() []string {
	r := []string{
		RoleWorkloadIdentityUser, RoleServiceAccountTokenCreator, RoleServiceAccountOpenIDTokenCreator,
		RoleServiceAccountUser, RoleServiceAccountAdmin, RoleServiceAccountViewer,
		RoleOwner, RoleEditor, RoleViewer,
	}
	slices.Sort(r)
	return r
}

// suggestRole returns the known role closest to role, or "" when none is close.
func suggestRole(role string) string { return spelling.Suggest(role, KnownRoles()) }
