package main

import (
	"strconv"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// scopeCloudPlatform is what the Google client libraries request.
const scopeCloudPlatform = "https://www.googleapis.com/auth/cloud-platform"

// federation is the standard test federation (internal/keylesstest) with a third mapped
// attribute and the AWS side (keylesstest.WithAWS: an IAM OIDC provider for is, a role
// whose trust policy admits repo:acme/* tokens, a Google aws provider), trusting is. With pinned the issuer's keys are written into the config
// (jwksJson), as for the child server; otherwise the server fetches them from the issuer
// on loopback (a server started separately with -print-config's output).
func federation(is *testissuer.Issuer, pinned bool) *config.Config {
	cfg := keylesstest.StandardConfig(is)
	cfg.Server = &config.Server{AllowInsecureHTTPIssuers: true}
	prov := &cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0]
	prov.AttributeMapping["attribute.ref"] = "assertion.ref"
	keylesstest.WithAWS(cfg, is)
	if !pinned {
		prov.OIDC.JWKSJSON = ""
		cfg.AWS.Accounts[0].OpenIDConnectProviders[0].JWKSJSON = ""
		cfg.Server.AllowPrivateIssuers = true
	}
	return cfg
}

// githubClaims is a GitHub Actions-shaped token for acme/app, distinct per i.
func githubClaims(i int) map[string]any {
	const repo = "acme/app"
	return map[string]any{
		"sub": "repo:" + repo + ":ref:refs/heads/main", "aud": "keyless-test",
		"repository": repo, "repository_owner": "acme", "repository_id": "690000001",
		"ref": "refs/heads/main", "ref_type": "branch", "sha": "8f3c2d1e0b9a8f3c2d1e0b9a8f3c2d1e0b9a8f3c",
		"workflow": "deploy", "workflow_ref": repo + "/.github/workflows/deploy.yml@refs/heads/main",
		"event_name": "push", "actor": "octocat", "runner_environment": "github-hosted",
		"run_id": strconv.Itoa(9_000_000_000 + i), "run_number": strconv.Itoa(i), "run_attempt": "1",
		"jti": "loadtest-" + strconv.Itoa(i),
	}
}
