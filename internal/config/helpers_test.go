package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// validConfig returns a small config that passes Validate, for tests to break one rule at a time.
func validConfig() *Config {
	return &Config{
		Issuer:    "https://keyless.example.internal",
		OrgPolicy: &OrgPolicy{AllowedIssuers: []string{"https://token.actions.githubusercontent.com"}},
		Server:    &Server{SigningAlg: "ES256", AccessTokenLifetime: "3600s"},
		Google: &Google{Projects: []Project{{
			ProjectID:     "my-project",
			ProjectNumber: "123456789012",
			WorkloadIdentityPools: []WorkloadIdentityPool{{
				WorkloadIdentityPoolID: "github-pool",
				DisplayName:            "GitHub",
				SessionDuration:        "3600s",
				Providers: []Provider{
					{
						WorkloadIdentityPoolProviderID: "github",
						AttributeMapping: map[string]string{
							"google.subject":       "assertion.sub",
							"attribute.repository": "assertion.repository",
						},
						AttributeCondition: "assertion.repository_owner == 'my-org'",
						OIDC: &OIDC{
							IssuerURI:        "https://token.actions.githubusercontent.com",
							AllowedAudiences: []string{"https://github.com/my-org"},
						},
					},
					{WorkloadIdentityPoolProviderID: "aws-prov", AWS: &AWSProvider{AccountID: "210987654321"}},
				},
			}},
			ServiceAccounts: []ServiceAccount{{
				AccountID: "deploy-sa",
				UniqueID:  "112233445566778899001",
				IAMPolicy: &IAMPolicy{Version: 3, Bindings: []Binding{{
					Role:      "roles/iam.workloadIdentityUser",
					Members:   []string{"principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github-pool/attribute.repository/my-org/my-repo"},
					Condition: &Expr{Expression: "true", Title: "always"},
				}}},
			}},
		}}},
		AWS: &AWS{Accounts: []AWSAccount{{
			AccountID: "123456789012",
			OpenIDConnectProviders: []OpenIDConnectProvider{{
				URL:            "https://token.actions.githubusercontent.com",
				ClientIDList:   []string{"sts.amazonaws.com"},
				ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"},
			}},
			Roles: []Role{{
				RoleName:                 "deploy-role",
				Path:                     "/ci/",
				MaxSessionDuration:       3600,
				AssumeRolePolicyDocument: json.RawMessage(`{"Version":"2012-10-17","Statement":[]}`),
			}},
		}}},
		Azure: &Azure{Tenants: []AzureTenant{{
			TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
			Applications: []AzureApplication{{
				ClientID: "00001111-aaaa-2222-bbbb-3333cccc4444",
				FederatedIdentityCredentials: []FederatedIdentityCredential{{
					Name:    "github-main",
					Issuer:  "https://token.actions.githubusercontent.com",
					Subject: "repo:my-org/my-repo:ref:refs/heads/main",
				}},
			}},
		}}},
	}
}

// Paths into validConfig, for expected problems.
const (
	pProject  = "google.projects[0]"
	pPool     = pProject + ".workloadIdentityPools[0]"
	pProvider = pPool + ".providers[0]"
	pAWSProv  = pPool + ".providers[1]"
	pSA       = pProject + ".serviceAccounts[0]"
	pAccount  = "aws.accounts[0]"
	pOIDCProv = pAccount + ".openIDConnectProviders[0]"
	pRole     = pAccount + ".roles[0]"
	pTenant   = "azure.tenants[0]"
	pApp      = pTenant + ".applications[0]"
	pFIC      = pApp + ".federatedIdentityCredentials[0]"
)

// render lists problems as "PATH: MESSAGE" lines (no file or position), for comparisons.
func render(ps Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		p.File, p.Line, p.Column = "", 0, 0
		out[i] = p.String()
	}
	return out
}

// wantProblem fails unless ps holds exactly one problem with this path whose message contains
// every fragment.
func wantProblem(t *testing.T, ps Problems, path string, fragments ...string) Problem {
	t.Helper()
	if len(ps) != 1 {
		t.Fatalf("got %d problems, want 1 at %s:\n%v", len(ps), path, ps)
	}
	p := ps[0]
	if p.Path != path {
		t.Fatalf("problem path %q, want %q (%v)", p.Path, path, p)
	}
	for _, f := range fragments {
		if !strings.Contains(p.Message, f) {
			t.Fatalf("problem %q does not contain %q", p.Message, f)
		}
	}
	return p
}
