// Package iam is keyless's model of Google IAM for workload identity
// federation: resource names, principals and members, roles, policies on
// service accounts, and the authorization decision.
//
// # Names
//
// Resource names are parsed once, at the edge, into typed values
// (PoolName, ProviderName, ServiceAccountRef). Parsers are strict: exact
// segments, the project by number wherever Google uses the number (pool and
// provider names, STS audiences, principal URIs; a project id there fails
// with ErrProjectNotNumber and a hint), and workforce names fail with
// ErrWorkforceUnsupported. ParseAudience also accepts the https:// form and
// any //HOST/ prefix, because google-github-actions/auth builds the audience
// from its IAM endpoint's host.
//
// # Members and callers
//
// A Caller is either a Federated principal (the exchange pipeline's mapped
// identity: pool, subject, groups, custom attributes) or a service account.
// Member.Matches compares by exact byte equality and never normalizes:
// principalSet://…/attribute.repository/my-org/my-repo matches the value
// "my-org/my-repo" and nothing else ("my-org/my-repo/", "my-org//my-repo"
// and "MY-ORG/my-repo" are different values). The GKE form
// serviceAccount:PROJECT.svc.id.goog[NS/KSA] matches a federated caller of
// the pool "PROJECT.svc.id.goog" owned by the project whose id is PROJECT
// (Federated.ProjectID) with subject "system:serviceaccount:NS:KSA", the sub
// of a Kubernetes service account token. user:, group:, domain: and the
// public members (allUsers, allAuthenticatedUsers) are parsed so Google
// policies import cleanly but never match: keyless has no users, and
// granting token minting to everyone is never what an operator means
// (lint reports these members).
//
// # Policies and decisions
//
// CompilePolicy validates a Policy and returns every problem with its field
// path, or an immutable CompiledPolicy whose members are indexed per
// permission by kind and key. Check is the hot path: a handful of map
// lookups, independent of the number of bindings. Explain decides the same
// way by scanning every binding and records why each member did or did not
// match; tests hold the two to the same answer. Roles map to
// iam.serviceAccounts.* permissions (RolePermissions); unknown roles are
// compile errors. Conditions are CEL over request.time only; other IAM
// condition attributes are compile errors naming the attribute, and a
// condition that fails at run time never grants.
//
// # Etags
//
// Policy etags are base64 of random bytes. gcloud re-encodes them with the
// URL-safe alphabet, so EtagEqual compares decoded bytes.
package iam
