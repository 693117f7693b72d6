package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateBaseIsValid(t *testing.T) {
	t.Parallel()
	if ps := validConfig().Validate(); len(ps) != 0 {
		t.Fatalf("validConfig has problems:\n%v", ps)
	}
	if ps := (&Config{}).Validate(); len(ps) != 0 {
		t.Fatalf("empty config has problems:\n%v", ps)
	}
	var nilCfg *Config
	if ps := nilCfg.Validate(); len(ps) != 1 {
		t.Fatalf("nil config: %v", ps)
	}
}

func provider(c *Config) *Provider {
	return &c.Google.Projects[0].WorkloadIdentityPools[0].Providers[0]
}
func pool(c *Config) *WorkloadIdentityPool {
	return &c.Google.Projects[0].WorkloadIdentityPools[0]
}
func sa(c *Config) *ServiceAccount { return &c.Google.Projects[0].ServiceAccounts[0] }
func role(c *Config) *Role         { return &c.AWS.Accounts[0].Roles[0] }
func oidcProv(c *Config) *OpenIDConnectProvider {
	return &c.AWS.Accounts[0].OpenIDConnectProviders[0]
}
func fic(c *Config) *FederatedIdentityCredential {
	return &c.Azure.Tenants[0].Applications[0].FederatedIdentityCredentials[0]
}

// TestValidateRules breaks one rule per case and expects exactly the listed problems.
func TestValidateRules(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		// issuer
		{"issuer empty is allowed", func(c *Config) { c.Issuer = "" }, nil},
		{"issuer http loopback", func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }, nil},
		{"issuer http localhost", func(c *Config) { c.Issuer = "http://localhost:8080/x" }, nil},
		{"issuer http 127.5.6.7", func(c *Config) { c.Issuer = "http://127.5.6.7" }, nil},
		{"issuer http ::1", func(c *Config) { c.Issuer = "http://[::1]:9000" }, nil},
		{"issuer http remote", func(c *Config) { c.Issuer = "http://keyless.example" },
			[]string{`issuer: "http://keyless.example" uses http:// to a host that is not loopback; http:// is allowed only for localhost, 127.0.0.0/8 and [::1]`}},
		{"issuer http 128.0.0.1", func(c *Config) { c.Issuer = "http://128.0.0.1" },
			[]string{`issuer: "http://128.0.0.1" uses http:// to a host that is not loopback; http:// is allowed only for localhost, 127.0.0.0/8 and [::1]`}},
		{"issuer relative", func(c *Config) { c.Issuer = "keyless.example" },
			[]string{`issuer: "keyless.example" is not an https:// URL; expected https://HOST[/PATH]`}},
		{"issuer ftp", func(c *Config) { c.Issuer = "ftp://keyless.example" },
			[]string{`issuer: "ftp://keyless.example" is not an https:// URL; expected https://HOST[/PATH]`}},
		{"issuer uppercase scheme", func(c *Config) { c.Issuer = "HTTPS://keyless.example" },
			[]string{`issuer: "HTTPS://keyless.example" is not an https:// URL; expected https://HOST[/PATH]`}},
		{"issuer query", func(c *Config) { c.Issuer = "https://keyless.example/?a=b" },
			[]string{`issuer: "https://keyless.example/?a=b" has a query (?…); an issuer URL has none`}},
		{"issuer empty query", func(c *Config) { c.Issuer = "https://keyless.example/?" },
			[]string{`issuer: "https://keyless.example/?" has a query (?…); an issuer URL has none`}},
		{"issuer fragment", func(c *Config) { c.Issuer = "https://keyless.example/#x" },
			[]string{`issuer: "https://keyless.example/#x" has a fragment (#…); an issuer URL has none`}},
		{"issuer empty fragment", func(c *Config) { c.Issuer = "https://keyless.example/#" },
			[]string{`issuer: "https://keyless.example/#" has a fragment (#…); an issuer URL has none`}},
		{"issuer userinfo", func(c *Config) { c.Issuer = "https://u:p@keyless.example" },
			[]string{`issuer: "https://u:p@keyless.example" contains user information (user@); remove it`}},
		{"issuer no host", func(c *Config) { c.Issuer = "https:///path" },
			[]string{`issuer: "https:///path" has no host; expected https://HOST[/PATH]`}},
		{"issuer unparsable", func(c *Config) { c.Issuer = "https://a:b" },
			[]string{`issuer: "https://a:b" is not a URL; expected https://HOST[/PATH]`}},
		{"issuer trailing space", func(c *Config) { c.Issuer = "https://keyless.example/ " },
			[]string{`issuer: "https://keyless.example/ " contains whitespace or control characters; issuers are compared exactly, so remove them`}},
		{"issuer newline", func(c *Config) { c.Issuer = "https://keyless.example\n" },
			[]string{`issuer: "https://keyless.example\n" contains whitespace or control characters; issuers are compared exactly, so remove them`}},

		// org policy
		{"org policy empty list", func(c *Config) { c.OrgPolicy.AllowedIssuers = nil },
			[]string{"orgPolicy.allowedIssuers: is empty, which would forbid every OIDC provider; list the issuers providers may trust, or remove orgPolicy"}},
		{"org policy empty entry", func(c *Config) { c.OrgPolicy.AllowedIssuers = append(c.OrgPolicy.AllowedIssuers, "") },
			[]string{"orgPolicy.allowedIssuers[1]: is empty; write the issuer URL exactly as providers' issuerUri spells it"}},
		{"org policy absent allows any issuer", func(c *Config) {
			c.OrgPolicy = nil
			provider(c).OIDC.IssuerURI = "https://gitlab.com"
		}, nil},
		{"issuer outside org policy", func(c *Config) { provider(c).OIDC.IssuerURI = "https://gitlab.com" },
			[]string{pProvider + `.oidc.issuerUri: "https://gitlab.com" is not in orgPolicy.allowedIssuers (the iam.workloadIdentityPoolProviders constraint); add it there, or trust an allowed issuer`}},
		{"org policy compares exactly", func(c *Config) { provider(c).OIDC.IssuerURI = "https://token.actions.githubusercontent.com/" },
			[]string{pProvider + `.oidc.issuerUri: "https://token.actions.githubusercontent.com/" is not in orgPolicy.allowedIssuers (the iam.workloadIdentityPoolProviders constraint); add it there, or trust an allowed issuer`}},

		// projects
		{"project id missing", func(c *Config) { c.Google.Projects[0].ProjectID = "" },
			[]string{pProject + ".projectId: is required (the project's id, such as my-project)"}},
		{"project id uppercase", func(c *Config) { c.Google.Projects[0].ProjectID = "My-project" },
			[]string{pProject + `.projectId: "My-project" is not a valid project id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"project id too short", func(c *Config) { c.Google.Projects[0].ProjectID = "abcde" },
			[]string{pProject + `.projectId: "abcde" is not a valid project id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"project id 6 chars", func(c *Config) { c.Google.Projects[0].ProjectID = "abcdef" }, nil},
		{"project id 30 chars", func(c *Config) { c.Google.Projects[0].ProjectID = "a" + long(29) }, nil},
		{"project id 31 chars", func(c *Config) { c.Google.Projects[0].ProjectID = "a" + long(30) },
			[]string{pProject + `.projectId: "` + long(31) + `" is not a valid project id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"project id trailing hyphen", func(c *Config) { c.Google.Projects[0].ProjectID = "my-project-" },
			[]string{pProject + `.projectId: "my-project-" is not a valid project id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"project number missing", func(c *Config) { c.Google.Projects[0].ProjectNumber = "" },
			[]string{pProject + ".projectNumber: is required (the project's 12-digit number, written as a quoted string)"}},
		{"project number 11 digits", func(c *Config) { c.Google.Projects[0].ProjectNumber = "12345678901" },
			[]string{pProject + `.projectNumber: "12345678901" is not a project number: Google project numbers are exactly 12 digits (gcloud projects describe PROJECT_ID --format='value(projectNumber)')`}},
		{"project number is id", func(c *Config) { c.Google.Projects[0].ProjectNumber = "my-project" },
			[]string{pProject + `.projectNumber: "my-project" is not a project number: Google project numbers are exactly 12 digits (gcloud projects describe PROJECT_ID --format='value(projectNumber)')`}},
		{"duplicate project id and number", func(c *Config) {
			c.Google.Projects = append(c.Google.Projects, Project{ProjectID: "my-project", ProjectNumber: "123456789012"})
		}, []string{
			`google.projects[1].projectId: "my-project" is already used by google.projects[0]; project ids are unique`,
			`google.projects[1].projectNumber: "123456789012" is already used by google.projects[0]; project numbers are unique`,
		}},

		// pools
		{"pool id missing", func(c *Config) { pool(c).WorkloadIdentityPoolID = "" },
			[]string{pPool + ".workloadIdentityPoolId: is required (the pool id: 4 to 32 lowercase letters, digits or hyphens)"}},
		{"pool id short", func(c *Config) { pool(c).WorkloadIdentityPoolID = "abc" },
			[]string{pPool + `.workloadIdentityPoolId: "abc" is not a valid pool id: use 4 to 32 lowercase letters, digits or hyphens`}},
		{"pool id 32", func(c *Config) { pool(c).WorkloadIdentityPoolID = long(32) }, nil},
		{"pool id 33", func(c *Config) { pool(c).WorkloadIdentityPoolID = long(33) },
			[]string{pPool + `.workloadIdentityPoolId: "` + long(33) + `" is not a valid pool id: use 4 to 32 lowercase letters, digits or hyphens`}},
		{"pool id underscore", func(c *Config) { pool(c).WorkloadIdentityPoolID = "my_pool" },
			[]string{pPool + `.workloadIdentityPoolId: "my_pool" is not a valid pool id: use 4 to 32 lowercase letters, digits or hyphens`}},
		{"pool id gcp- prefix", func(c *Config) { pool(c).WorkloadIdentityPoolID = "gcp-pool" },
			[]string{pPool + `.workloadIdentityPoolId: "gcp-pool" starts with "gcp-", which Google reserves; choose another pool id`}},
		{"duplicate pool", func(c *Config) {
			p := c.Google.Projects[0].WorkloadIdentityPools
			c.Google.Projects[0].WorkloadIdentityPools = append(p, WorkloadIdentityPool{WorkloadIdentityPoolID: "github-pool"})
		}, []string{pProject + `.workloadIdentityPools[1].workloadIdentityPoolId: "github-pool" is already used by ` + pPool + `.workloadIdentityPoolId; pool ids are unique within the project`}},
		{"same pool id in two projects", func(c *Config) {
			c.Google.Projects = append(c.Google.Projects, Project{ProjectID: "other-project", ProjectNumber: "210987654321",
				WorkloadIdentityPools: []WorkloadIdentityPool{{WorkloadIdentityPoolID: "github-pool"}}})
		}, nil},
		{"pool display name 32", func(c *Config) { pool(c).DisplayName = strings.Repeat("é", 32) }, nil},
		{"pool display name 33", func(c *Config) { pool(c).DisplayName = strings.Repeat("é", 33) },
			[]string{pPool + ".displayName: 33 characters, the limit is 32"}},
		{"pool description 257", func(c *Config) { pool(c).Description = long(257) },
			[]string{pPool + ".description: 257 characters, the limit is 256"}},
		{"session duration min", func(c *Config) { pool(c).SessionDuration = "120s" }, nil},
		{"session duration max", func(c *Config) { pool(c).SessionDuration = "43200s" }, nil},
		{"session duration fraction", func(c *Config) { pool(c).SessionDuration = "600.5s" }, nil},
		{"session duration too short", func(c *Config) { pool(c).SessionDuration = "119s" },
			[]string{pPool + `.sessionDuration: "119s" is outside the allowed range 120s to 43200s`}},
		{"session duration too long", func(c *Config) { pool(c).SessionDuration = "43200.1s" },
			[]string{pPool + `.sessionDuration: "43200.1s" is outside the allowed range 120s to 43200s`}},
		{"session duration go syntax", func(c *Config) { pool(c).SessionDuration = "1h" },
			[]string{pPool + `.sessionDuration: "1h" is not a duration in seconds such as "3600s"`}},

		// providers
		{"provider id missing", func(c *Config) { provider(c).WorkloadIdentityPoolProviderID = "" },
			[]string{pProvider + ".workloadIdentityPoolProviderId: is required (the provider id: 4 to 32 lowercase letters, digits or hyphens)"}},
		{"provider id uppercase", func(c *Config) { provider(c).WorkloadIdentityPoolProviderID = "GitHub" },
			[]string{pProvider + `.workloadIdentityPoolProviderId: "GitHub" is not a valid provider id: use 4 to 32 lowercase letters, digits or hyphens`}},
		{"provider id gcp-", func(c *Config) { provider(c).WorkloadIdentityPoolProviderID = "gcp-github" },
			[]string{pProvider + `.workloadIdentityPoolProviderId: "gcp-github" starts with "gcp-", which Google reserves; choose another provider id`}},
		{"duplicate provider", func(c *Config) { pool(c).Providers[1].WorkloadIdentityPoolProviderID = "github" },
			[]string{pAWSProv + `.workloadIdentityPoolProviderId: "github" is already used by ` + pProvider + `.workloadIdentityPoolProviderId; provider ids are unique within the pool`}},
		{"provider display name", func(c *Config) { provider(c).DisplayName = long(33) },
			[]string{pProvider + ".displayName: 33 characters, the limit is 32"}},
		{"provider description", func(c *Config) { provider(c).Description = long(257) },
			[]string{pProvider + ".description: 257 characters, the limit is 256"}},
		{"provider neither", func(c *Config) { provider(c).OIDC = nil },
			[]string{pProvider + ": sets neither oidc nor aws; a provider trusts exactly one kind of credential"}},
		{"provider both", func(c *Config) { provider(c).AWS = &AWSProvider{AccountID: "123456789012"} },
			[]string{pProvider + ": sets both oidc and aws; a provider trusts exactly one kind of credential, so split it into two providers"}},
		{"aws provider account missing", func(c *Config) { pool(c).Providers[1].AWS.AccountID = "" },
			[]string{pAWSProv + ".aws.accountId: is required (the 12-digit AWS account id, quoted)"}},
		{"aws provider account short", func(c *Config) { pool(c).Providers[1].AWS.AccountID = "12345" },
			[]string{pAWSProv + `.aws.accountId: "12345" is not an AWS account id: expected exactly 12 digits (quote it so leading zeros are kept)`}},
		{"issuerUri missing", func(c *Config) { provider(c).OIDC.IssuerURI = "" },
			[]string{pProvider + ".oidc.issuerUri: is required (the issuer's URL, exactly as the tokens' iss claim spells it)"}},
		{"issuerUri http loopback without flag", func(c *Config) {
			c.OrgPolicy = nil
			provider(c).OIDC.IssuerURI = "http://127.0.0.1:5556"
		}, []string{pProvider + `.oidc.issuerUri: "http://127.0.0.1:5556" uses http://; issuers must use https:// (set server.allowInsecureHTTPIssuers: true to allow http:// to loopback hosts during development)`}},
		{"issuerUri http loopback with flag", func(c *Config) {
			c.OrgPolicy = nil
			c.Server.AllowInsecureHTTPIssuers = true
			provider(c).OIDC.IssuerURI = "http://127.0.0.1:5556"
		}, nil},
		{"issuerUri http remote with flag", func(c *Config) {
			c.OrgPolicy = nil
			c.Server.AllowInsecureHTTPIssuers = true
			provider(c).OIDC.IssuerURI = "http://10.0.0.1"
		}, []string{pProvider + `.oidc.issuerUri: "http://10.0.0.1" uses http:// to a host that is not loopback; http:// is allowed only for localhost, 127.0.0.0/8 and [::1]`}},
		{"issuerUri query", func(c *Config) { provider(c).OIDC.IssuerURI = "https://token.actions.githubusercontent.com?x=1" },
			[]string{pProvider + `.oidc.issuerUri: "https://token.actions.githubusercontent.com?x=1" has a query (?…); an issuer URL has none`}},
		{"audiences 10", func(c *Config) { provider(c).OIDC.AllowedAudiences = strings.Split("a,b,c,d,e,f,g,h,i,j", ",") }, nil},
		{"audiences 11", func(c *Config) { provider(c).OIDC.AllowedAudiences = strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",") },
			[]string{pProvider + ".oidc.allowedAudiences: 11 audiences, the limit is 10"}},
		{"audience empty", func(c *Config) { provider(c).OIDC.AllowedAudiences = []string{""} },
			[]string{pProvider + ".oidc.allowedAudiences[0]: is empty; remove it or write the audience the tokens carry"}},
		{"audience 256", func(c *Config) { provider(c).OIDC.AllowedAudiences = []string{long(256)} }, nil},
		{"audience 257", func(c *Config) { provider(c).OIDC.AllowedAudiences = []string{"x", long(257)} },
			[]string{pProvider + ".oidc.allowedAudiences[1]: 257 characters, the limit is 256"}},
		{"condition 4096", func(c *Config) { provider(c).AttributeCondition = long(4096) }, nil},
		{"condition 4097", func(c *Config) { provider(c).AttributeCondition = long(4097) },
			[]string{pProvider + ".attributeCondition: 4097 characters, the limit is 4096"}},
		{"condition counts characters", func(c *Config) { provider(c).AttributeCondition = strings.Repeat("é", 4096) }, nil},
		{"mapping 2048", func(c *Config) { provider(c).AttributeMapping["attribute.x"] = long(2048) }, nil},
		{"mapping 2049", func(c *Config) { provider(c).AttributeMapping["attribute.x"] = long(2049) },
			[]string{pProvider + `.attributeMapping["attribute.x"]: 2049 characters, the limit is 2048`}},
		{"mapping empty expression", func(c *Config) { provider(c).AttributeMapping["attribute.x"] = " " },
			[]string{pProvider + `.attributeMapping["attribute.x"]: the mapping expression is empty; write a CEL expression over assertion, such as assertion.sub`}},
		{"mapping google.groups", func(c *Config) { provider(c).AttributeMapping["google.groups"] = "assertion.groups" }, nil},
		{"mapping unknown google key", func(c *Config) { provider(c).AttributeMapping["google.display_name"] = "assertion.name" },
			[]string{pProvider + `.attributeMapping["google.display_name"]: "google.display_name" cannot be mapped; use google.subject, google.groups or attribute.NAME`}},
		{"mapping bare key", func(c *Config) { provider(c).AttributeMapping["subject"] = "assertion.sub" },
			[]string{pProvider + `.attributeMapping["subject"]: "subject" cannot be mapped; use google.subject, google.groups or attribute.NAME`}},
		{"mapping attribute without name", func(c *Config) { provider(c).AttributeMapping["attribute."] = "assertion.sub" },
			[]string{pProvider + `.attributeMapping["attribute."]: names no attribute; write attribute.NAME with NAME of [a-z0-9_]`}},
		{"mapping attribute uppercase", func(c *Config) { provider(c).AttributeMapping["attribute.Repo"] = "assertion.sub" },
			[]string{pProvider + `.attributeMapping["attribute.Repo"]: attribute name "Repo" may use only lowercase letters, digits and underscores`}},
		{"mapping attribute dash", func(c *Config) { provider(c).AttributeMapping["attribute.my-repo"] = "assertion.sub" },
			[]string{pProvider + `.attributeMapping["attribute.my-repo"]: attribute name "my-repo" may use only lowercase letters, digits and underscores`}},
		{"mapping attribute name 100", func(c *Config) { provider(c).AttributeMapping["attribute."+long(100)] = "assertion.sub" }, nil},
		{"mapping attribute name 101", func(c *Config) { provider(c).AttributeMapping["attribute."+long(101)] = "assertion.sub" },
			[]string{pProvider + `.attributeMapping["attribute.` + long(101) + `"]: attribute name is 101 characters, the limit is 100`}},
		{"50 custom attributes", func(c *Config) {
			for i := range 49 {
				provider(c).AttributeMapping[fmt.Sprintf("attribute.a%d", i)] = "assertion.sub"
			}
		}, nil},
		{"51 custom attributes", func(c *Config) {
			for i := range 50 {
				provider(c).AttributeMapping[fmt.Sprintf("attribute.a%d", i)] = "assertion.sub"
			}
		}, []string{pProvider + ".attributeMapping: 51 custom attributes, the limit is 50"}},
		{"oidc without google.subject", func(c *Config) { delete(provider(c).AttributeMapping, "google.subject") },
			[]string{pProvider + ".attributeMapping: OIDC providers must map google.subject (for example google.subject: assertion.sub)"}},
		{"oidc without mapping", func(c *Config) { provider(c).AttributeMapping = nil },
			[]string{pProvider + ".attributeMapping: OIDC providers must map google.subject (for example google.subject: assertion.sub)"}},
		{"aws provider needs no mapping", func(c *Config) { pool(c).Providers[1].AttributeMapping = nil }, nil},

		// service accounts
		{"sa id missing", func(c *Config) { sa(c).AccountID = "" },
			[]string{pSA + ".accountId: is required (the part of the email before @PROJECT.iam.gserviceaccount.com)"}},
		{"sa id short", func(c *Config) { sa(c).AccountID = "abcde" },
			[]string{pSA + `.accountId: "abcde" is not a valid service account id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"sa id 30", func(c *Config) { sa(c).AccountID = "a" + long(29) }, nil},
		{"sa id 31", func(c *Config) { sa(c).AccountID = "a" + long(30) },
			[]string{pSA + `.accountId: "` + long(31) + `" is not a valid service account id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"sa id digit first", func(c *Config) { sa(c).AccountID = "1deploy" },
			[]string{pSA + `.accountId: "1deploy" is not a valid service account id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"sa id trailing hyphen", func(c *Config) { sa(c).AccountID = "deploy-" },
			[]string{pSA + `.accountId: "deploy-" is not a valid service account id: use 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`}},
		{"sa duplicate", func(c *Config) {
			c.Google.Projects[0].ServiceAccounts = append(c.Google.Projects[0].ServiceAccounts, ServiceAccount{AccountID: "deploy-sa"})
		}, []string{pProject + `.serviceAccounts[1].accountId: "deploy-sa" is already used by ` + pSA + `; service account ids are unique within the project`}},
		{"sa unique id 20 digits", func(c *Config) { sa(c).UniqueID = "11223344556677889900" },
			[]string{pSA + `.uniqueId: "11223344556677889900" is not a service account unique id: expected exactly 21 digits (or leave it out)`}},
		{"sa unique id duplicate across projects", func(c *Config) {
			c.Google.Projects = append(c.Google.Projects, Project{ProjectID: "other-project", ProjectNumber: "210987654321",
				ServiceAccounts: []ServiceAccount{{AccountID: "deploy-sa", UniqueID: "112233445566778899001"}}})
		}, []string{`google.projects[1].serviceAccounts[0].uniqueId: "112233445566778899001" is already used by ` + pSA + `; unique ids are unique across all projects`}},
		{"sa display name 101", func(c *Config) { sa(c).DisplayName = long(101) },
			[]string{pSA + ".displayName: 101 characters, the limit is 100"}},
		{"sa description 257", func(c *Config) { sa(c).Description = long(257) },
			[]string{pSA + ".description: 257 characters, the limit is 256"}},
		{"policy version 2", func(c *Config) { sa(c).IAMPolicy.Version = 2 },
			[]string{pSA + ".iamPolicy.version: 2 is not an IAM policy version; use 1, or 3 when a binding has a condition"}},
		{"policy version 1 with condition", func(c *Config) { sa(c).IAMPolicy.Version = 1 },
			[]string{pSA + ".iamPolicy.bindings[0].condition: conditional bindings need policy version 3, but iamPolicy.version is 1; set version: 3"}},
		{"binding role missing", func(c *Config) { sa(c).IAMPolicy.Bindings[0].Role = "" },
			[]string{pSA + ".iamPolicy.bindings[0].role: is required (such as roles/iam.workloadIdentityUser)"}},
		{"binding members missing", func(c *Config) { sa(c).IAMPolicy.Bindings[0].Members = nil },
			[]string{pSA + ".iamPolicy.bindings[0].members: is empty; a binding grants its role to at least one member"}},
		{"binding member empty", func(c *Config) {
			sa(c).IAMPolicy.Bindings[0].Members = append(sa(c).IAMPolicy.Bindings[0].Members, " ")
		},
			[]string{pSA + ".iamPolicy.bindings[0].members[1]: is empty; write a member such as principalSet://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/attribute.NAME/VALUE"}},
		{"condition expression missing", func(c *Config) { sa(c).IAMPolicy.Bindings[0].Condition.Expression = "" },
			[]string{pSA + ".iamPolicy.bindings[0].condition.expression: is required in a condition (a CEL expression), or remove the condition"}},

		// server
		{"signing alg RS256", func(c *Config) { c.Server.SigningAlg = "RS256" }, nil},
		{"signing alg EdDSA", func(c *Config) { c.Server.SigningAlg = "EdDSA" }, nil},
		{"signing alg empty", func(c *Config) { c.Server.SigningAlg = "" }, nil},
		{"signing alg HS256", func(c *Config) { c.Server.SigningAlg = "HS256" },
			[]string{`server.signingAlg: "HS256" is not supported; use ES256 (the default), RS256 or EdDSA`}},
		{"signing alg case", func(c *Config) { c.Server.SigningAlg = "es256" },
			[]string{`server.signingAlg: "es256" is not supported; use ES256 (the default), RS256 or EdDSA`}},
		{"lifetime 60s", func(c *Config) { c.Server.AccessTokenLifetime = "60s" }, nil},
		{"lifetime 59s", func(c *Config) { c.Server.AccessTokenLifetime = "59s" },
			[]string{`server.accessTokenLifetime: "59s" is outside the allowed range 60s to 43200s`}},
		{"lifetime 43201s", func(c *Config) { c.Server.AccessTokenLifetime = "43201s" },
			[]string{`server.accessTokenLifetime: "43201s" is outside the allowed range 60s to 43200s`}},
		{"lifetime 1h", func(c *Config) { c.Server.AccessTokenLifetime = "1h" },
			[]string{`server.accessTokenLifetime: "1h" is not a duration in seconds such as "3600s"`}},

		// aws
		{"aws account missing", func(c *Config) { c.AWS.Accounts[0].AccountID = "" },
			[]string{pAccount + ".accountId: is required (the 12-digit AWS account id, quoted)"}},
		{"aws account letters", func(c *Config) { c.AWS.Accounts[0].AccountID = "12345678901a" },
			[]string{pAccount + `.accountId: "12345678901a" is not an AWS account id: expected exactly 12 digits (quote it so leading zeros are kept)`}},
		{"aws account duplicate", func(c *Config) { c.AWS.Accounts = append(c.AWS.Accounts, AWSAccount{AccountID: "123456789012"}) },
			[]string{`aws.accounts[1].accountId: "123456789012" is already used by aws.accounts[0]; account ids are unique`}},
		{"oidc provider url missing", func(c *Config) { oidcProv(c).URL = "" },
			[]string{pOIDCProv + ".url: is required (the issuer URL, https://HOST[/PATH])"}},
		{"oidc provider url http", func(c *Config) { oidcProv(c).URL = "http://token.example" },
			[]string{pOIDCProv + `.url: "http://token.example" uses http://; issuers must use https:// (set server.allowInsecureHTTPIssuers: true to allow http:// to loopback hosts during development)`}},
		{"oidc provider url duplicate", func(c *Config) {
			a := &c.AWS.Accounts[0]
			a.OpenIDConnectProviders = append(a.OpenIDConnectProviders, OpenIDConnectProvider{URL: "https://token.actions.githubusercontent.com"})
		}, []string{pAccount + `.openIDConnectProviders[1].url: "https://token.actions.githubusercontent.com" is already used by ` + pOIDCProv + `; an account has one provider per URL`}},
		{"client ids 100", func(c *Config) { oidcProv(c).ClientIDList = strings.Split(strings.Repeat("x,", 99)+"x", ",") }, nil},
		{"client ids 101", func(c *Config) { oidcProv(c).ClientIDList = strings.Split(strings.Repeat("x,", 100)+"x", ",") },
			[]string{pOIDCProv + ".clientIDList: 101 client ids, the limit is 100"}},
		{"client id empty", func(c *Config) { oidcProv(c).ClientIDList = []string{""} },
			[]string{pOIDCProv + ".clientIDList[0]: is empty; write the audience the tokens carry, such as sts.amazonaws.com"}},
		{"client id 256", func(c *Config) { oidcProv(c).ClientIDList = []string{long(256)} },
			[]string{pOIDCProv + ".clientIDList[0]: 256 characters, the limit is 255"}},
		{"thumbprint short", func(c *Config) { oidcProv(c).ThumbprintList = []string{"6938fd4d98bab03faadb97b34396831e3780aea"} },
			[]string{pOIDCProv + `.thumbprintList[0]: "6938fd4d98bab03faadb97b34396831e3780aea" is not a certificate thumbprint: expected 40 hexadecimal characters (a SHA-1 fingerprint)`}},
		{"thumbprint not hex", func(c *Config) { oidcProv(c).ThumbprintList = []string{"6938fd4d98bab03faadb97b34396831e3780aeag"} },
			[]string{pOIDCProv + `.thumbprintList[0]: "6938fd4d98bab03faadb97b34396831e3780aeag" is not a certificate thumbprint: expected 40 hexadecimal characters (a SHA-1 fingerprint)`}},
		{"thumbprints 6", func(c *Config) {
			oidcProv(c).ThumbprintList = strings.Split(strings.Repeat("6938FD4D98BAB03FAADB97B34396831E3780AEA1,", 5)+"6938fd4d98bab03faadb97b34396831e3780aea1", ",")
		}, []string{pOIDCProv + ".thumbprintList: 6 thumbprints, the limit is 5"}},
		{"role name missing", func(c *Config) { role(c).RoleName = "" },
			[]string{pRole + ".roleName: is required"}},
		{"role name 64", func(c *Config) { role(c).RoleName = "A+=,.@_-" + long(56) }, nil},
		{"role name 65", func(c *Config) { role(c).RoleName = long(65) },
			[]string{pRole + `.roleName: "` + long(65) + `" is not a valid role name: use 1 to 64 letters, digits or the characters +=,.@_-`}},
		{"role name slash", func(c *Config) { role(c).RoleName = "ci/deploy" },
			[]string{pRole + `.roleName: "ci/deploy" is not a valid role name: use 1 to 64 letters, digits or the characters +=,.@_-`}},
		{"role name duplicate ignoring case", func(c *Config) {
			c.AWS.Accounts[0].Roles = append(c.AWS.Accounts[0].Roles, Role{RoleName: "Deploy-Role", AssumeRolePolicyDocument: json.RawMessage(`{}`)})
		}, []string{pAccount + `.roles[1].roleName: "Deploy-Role" is already used by ` + pRole + `; role names are unique within an account, regardless of case`}},
		{"role path root", func(c *Config) { role(c).Path = "/" }, nil},
		{"role path no trailing slash", func(c *Config) { role(c).Path = "/ci" },
			[]string{pRole + `.path: "/ci" is not a role path: expected "/" or "/SEGMENTS/" (starting and ending with a slash, up to 512 characters)`}},
		{"role path space", func(c *Config) { role(c).Path = "/c i/" },
			[]string{pRole + `.path: "/c i/" is not a role path: expected "/" or "/SEGMENTS/" (starting and ending with a slash, up to 512 characters)`}},
		{"role path too long", func(c *Config) { role(c).Path = "/" + long(511) + "/" },
			[]string{pRole + `.path: "/` + long(127) + `…" is not a role path: expected "/" or "/SEGMENTS/" (starting and ending with a slash, up to 512 characters)`}},
		{"max session 0", func(c *Config) { role(c).MaxSessionDuration = 0 }, nil},
		{"max session 43200", func(c *Config) { role(c).MaxSessionDuration = 43200 }, nil},
		{"max session 3599", func(c *Config) { role(c).MaxSessionDuration = 3599 },
			[]string{pRole + ".maxSessionDuration: 3599 is outside 3600 to 43200 seconds (leave it out for the default, 3600)"}},
		{"max session 43201", func(c *Config) { role(c).MaxSessionDuration = 43201 },
			[]string{pRole + ".maxSessionDuration: 43201 is outside 3600 to 43200 seconds (leave it out for the default, 3600)"}},
		{"trust policy missing", func(c *Config) { role(c).AssumeRolePolicyDocument = nil },
			[]string{pRole + ".assumeRolePolicyDocument: is required: the trust policy that says who may assume the role"}},
		{"trust policy invalid", func(c *Config) { role(c).AssumeRolePolicyDocument = json.RawMessage(`{"Version":`) },
			[]string{pRole + ".assumeRolePolicyDocument: is not valid JSON"}},
		{"trust policy array", func(c *Config) { role(c).AssumeRolePolicyDocument = json.RawMessage(`[]`) },
			[]string{pRole + ".assumeRolePolicyDocument: must be a JSON object (a mapping with Version and Statement)"}},
		{"trust policy duplicate member", func(c *Config) {
			role(c).AssumeRolePolicyDocument = json.RawMessage(`{"Statement":[{"Effect":"Deny","Effect":"Allow"}]}`)
		}, []string{pRole + `.assumeRolePolicyDocument: has the member "Effect" twice in one object; keep one`}},
		{"trust policy too deep", func(c *Config) {
			role(c).AssumeRolePolicyDocument = json.RawMessage(`{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`)
		}, []string{pRole + ".assumeRolePolicyDocument: is nested more than 32 levels deep"}},

		// azure
		{"tenant missing", func(c *Config) { c.Azure.Tenants[0].TenantID = "" },
			[]string{pTenant + ".tenantId: is required (the tenant's GUID)"}},
		{"tenant domain", func(c *Config) { c.Azure.Tenants[0].TenantID = "contoso.onmicrosoft.com" },
			[]string{pTenant + `.tenantId: "contoso.onmicrosoft.com" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`}},
		{"tenant duplicate ignoring case", func(c *Config) {
			c.Azure.Tenants = append(c.Azure.Tenants, AzureTenant{TenantID: "72F988BF-86F1-41AF-91AB-2D7CD011DB47"})
		}, []string{`azure.tenants[1].tenantId: "72F988BF-86F1-41AF-91AB-2D7CD011DB47" is already used by azure.tenants[0]; tenant ids are unique`}},
		{"client id bad", func(c *Config) { c.Azure.Tenants[0].Applications[0].ClientID = "00001111-aaaa-2222-bbbb-3333cccc444" },
			[]string{pApp + `.clientId: "00001111-aaaa-2222-bbbb-3333cccc444" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`}},
		{"client id missing", func(c *Config) { c.Azure.Tenants[0].Applications[0].ClientID = "" },
			[]string{pApp + ".clientId: is required (the application (client)'s GUID)"}},
		{"client id duplicate", func(c *Config) {
			t := &c.Azure.Tenants[0]
			t.Applications = append(t.Applications, AzureApplication{ClientID: "00001111-aaaa-2222-bbbb-3333cccc4444"})
		}, []string{pTenant + `.applications[1].clientId: "00001111-aaaa-2222-bbbb-3333cccc4444" is already used by ` + pApp + `; client ids are unique within a tenant`}},
		{"fic name missing", func(c *Config) { fic(c).Name = "" }, []string{pFIC + ".name: is required"}},
		{"fic name short", func(c *Config) { fic(c).Name = "ab" },
			[]string{pFIC + `.name: "ab" is not a valid credential name: use 3 to 120 letters, digits, hyphens or underscores, starting with a letter or digit`}},
		{"fic name 120", func(c *Config) { fic(c).Name = long(120) }, nil},
		{"fic name 121", func(c *Config) { fic(c).Name = long(121) },
			[]string{pFIC + `.name: "` + long(121) + `" is not a valid credential name: use 3 to 120 letters, digits, hyphens or underscores, starting with a letter or digit`}},
		{"fic name slash", func(c *Config) { fic(c).Name = "git/hub" },
			[]string{pFIC + `.name: "git/hub" is not a valid credential name: use 3 to 120 letters, digits, hyphens or underscores, starting with a letter or digit`}},
		{"fic issuer http", func(c *Config) { fic(c).Issuer = "http://token.example" },
			[]string{pFIC + `.issuer: "http://token.example" uses http://; issuers must use https:// (set server.allowInsecureHTTPIssuers: true to allow http:// to loopback hosts during development)`}},
		{"fic issuer missing", func(c *Config) { fic(c).Issuer = "" },
			[]string{pFIC + ".issuer: is required (the issuer URL, exactly as the tokens' iss claim spells it)"}},
		{"fic subject missing", func(c *Config) { fic(c).Subject = "" },
			[]string{pFIC + ".subject: is required (the exact sub claim the tokens carry)"}},
		{"fic subject 600", func(c *Config) { fic(c).Subject = long(600) }, nil},
		{"fic subject 601", func(c *Config) { fic(c).Subject = long(601) },
			[]string{pFIC + ".subject: 601 characters, the limit is 600"}},
		{"fic one audience", func(c *Config) { fic(c).Audiences = []string{"api://AzureADTokenExchangeUSGov"} }, nil},
		{"fic two audiences", func(c *Config) { fic(c).Audiences = []string{"a", "b"} },
			[]string{pFIC + ".audiences: lists 2 audiences; Entra accepts exactly one (leave it out for the default, api://AzureADTokenExchange)"}},
		{"fic empty audience", func(c *Config) { fic(c).Audiences = []string{""} },
			[]string{pFIC + ".audiences[0]: is empty; write the audience, or leave audiences out for the default, api://AzureADTokenExchange"}},
		{"fic audience 601", func(c *Config) { fic(c).Audiences = []string{long(601)} },
			[]string{pFIC + ".audiences[0]: 601 characters, the limit is 600"}},
		{"fic duplicate name and subject", func(c *Config) {
			app := &c.Azure.Tenants[0].Applications[0]
			app.FederatedIdentityCredentials = append(app.FederatedIdentityCredentials, app.FederatedIdentityCredentials[0])
		}, []string{
			pApp + `.federatedIdentityCredentials[1]: has the same issuer and subject as ` + pFIC + `; Entra allows one credential per issuer and subject`,
			pApp + `.federatedIdentityCredentials[1].name: "github-main" is already used by ` + pFIC + `; credential names are unique within an application`,
		}},
		{"fic 21", func(c *Config) {
			app := &c.Azure.Tenants[0].Applications[0]
			for i := range 20 {
				app.FederatedIdentityCredentials = append(app.FederatedIdentityCredentials, FederatedIdentityCredential{
					Name: fmt.Sprintf("fic-%d", i), Issuer: "https://token.actions.githubusercontent.com", Subject: fmt.Sprint(i)})
			}
		}, []string{pApp + ".federatedIdentityCredentials: 21 federated identity credentials, the limit is 20"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tc.mutate(c)
			got := render(c.Validate())
			if diff := cmp.Diff(tc.want, got, cmpEmpty); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestValidateProblemCap(t *testing.T) {
	t.Parallel()
	c := &Config{Google: &Google{Projects: make([]Project, 600)}}
	ps := c.Validate()
	if len(ps) != maxProblems+1 {
		t.Fatalf("%d problems", len(ps))
	}
	if last := ps[len(ps)-1]; last.Path != "" || last.Message != "more than 1000 problems; fix these and run again to see the rest" {
		t.Fatalf("last problem %v", last)
	}
}

// TestValidateConditionLimitMessage pins SPEC §5.1's wording.
func TestValidateConditionLimitMessage(t *testing.T) {
	t.Parallel()
	c := validConfig()
	provider(c).AttributeCondition = strings.Repeat("x", 4097)
	ps := c.Validate()
	p := wantProblem(t, ps, pProvider+".attributeCondition")
	if !strings.HasSuffix(p.String(), "attributeCondition: 4097 characters, the limit is 4096") {
		t.Fatalf("message %q", p.String())
	}
	if !errors.Is(ps, ErrInvalid) {
		t.Fatal("Problems does not match ErrInvalid")
	}
}

// TestValidateManyProblems checks that one run reports every problem, sorted by path.
func TestValidateManyProblems(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.Issuer = "ftp://x"
	c.Google.Projects[0].ProjectNumber = "12"
	provider(c).AttributeCondition = strings.Repeat("x", 4097)
	delete(provider(c).AttributeMapping, "google.subject")
	sa(c).AccountID = "X"
	c.Server.SigningAlg = "none"
	role(c).MaxSessionDuration = 1
	fic(c).Audiences = []string{"a", "b"}
	c.Google.Projects = append(c.Google.Projects, make([]Project, 10)...)
	ps := c.Validate()
	paths := make([]string, len(ps))
	for i, p := range ps {
		paths[i] = p.Path
	}
	want := []string{
		pRole + ".maxSessionDuration",
		pFIC + ".audiences",
		pProject + ".projectNumber",
		pSA + ".accountId",
		pProvider + ".attributeCondition",
		pProvider + ".attributeMapping",
	}
	for i := 1; i <= 10; i++ {
		want = append(want, fmt.Sprintf("google.projects[%d].projectId", i), fmt.Sprintf("google.projects[%d].projectNumber", i))
	}
	want = append(want, "issuer", "server.signingAlg")
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Fatalf("paths (-want +got):\n%s", diff)
	}
}
