package config

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// roundTrip checks Parse(Marshal(c)) == c (nil and empty lists are the same to a config).
func roundTrip(t testing.TB, c *Config) []byte {
	t.Helper()
	out, err := Marshal(c)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	back, ps := Parse(out, "export.yaml")
	if len(ps) != 0 {
		t.Fatalf("re-parse of export:\n%v\n%s", ps, out)
	}
	if diff := cmp.Diff(c, back, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", diff, out)
	}
	again, err := Marshal(back)
	if err != nil || string(again) != string(out) {
		t.Fatalf("export is not stable:\n%s\n---\n%s", out, again)
	}
	return out
}

func TestMarshalRoundTripTestdata(t *testing.T) {
	t.Parallel()
	for _, f := range testdataFiles(t) {
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c)
	}
	roundTrip(t, validConfig())
	roundTrip(t, &Config{})
}

func TestMarshalTrickyStrings(t *testing.T) {
	t.Parallel()
	tricky := []string{"", "123456789012", "0123", "true", "yes", "null", "~", "2012-10-17", "1e3", "0x1F", ".inf",
		"<<", "- a", "a: b", "#x", "x #y", " lead", "trail ", "multi\nline\n", "multi\nline", "\ttab", "quote\"s'", "é🚀",
		"\x00\x07", "{a: b}", "[x]", "*alias", "&anchor", "!tag", "%dir", "@", "`", "---", "...", "a\r\nb", "\u2028", "\ufeffbom"}
	c := &Config{Google: &Google{}}
	for _, s := range tricky {
		c.Google.Projects = append(c.Google.Projects, Project{ProjectID: s, ProjectNumber: s,
			WorkloadIdentityPools: []WorkloadIdentityPool{{WorkloadIdentityPoolID: s, DisplayName: s,
				Providers: []Provider{{WorkloadIdentityPoolProviderID: s, AttributeMapping: map[string]string{s: s, s + "x": ""}}}}}})
	}
	c.AWS = &AWS{Accounts: []AWSAccount{{Roles: []Role{{RoleName: "r", MaxSessionDuration: -5,
		AssumeRolePolicyDocument: json.RawMessage(`{"z":1,"a":{"<<":"null","x":[true,false,null,-1.5e-07,12345678901234567890123,"2012-10-17"]},"":{}}`)}}}}}
	c.Google.Projects[0].ServiceAccounts = []ServiceAccount{{AccountID: "a", IAMPolicy: &IAMPolicy{Bindings: []Binding{{Role: "r"}}}}}
	roundTrip(t, c)
}

func TestMarshalGolden(t *testing.T) {
	t.Parallel()
	c := &Config{
		Issuer: "https://keyless.example",
		Server: &Server{AllowInsecureHTTPIssuers: true},
		Google: &Google{Projects: []Project{{ProjectID: "my-project", ProjectNumber: "123456789012",
			WorkloadIdentityPools: []WorkloadIdentityPool{{WorkloadIdentityPoolID: "pool", Providers: []Provider{{
				WorkloadIdentityPoolProviderID: "prov",
				AttributeMapping:               map[string]string{"google.subject": "assertion.sub", "attribute.a": "assertion['a']"},
				OIDC:                           &OIDC{IssuerURI: "https://issuer.example"},
			}}}},
			ServiceAccounts: []ServiceAccount{{AccountID: "deploy-sa", IAMPolicy: &IAMPolicy{Bindings: []Binding{{Role: "roles/x"}}}}},
		}}},
		AWS: &AWS{Accounts: []AWSAccount{{AccountID: "000000000001", Roles: []Role{{RoleName: "r",
			AssumeRolePolicyDocument: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`)}}}}},
	}
	const want = `issuer: https://keyless.example
google:
  projects:
    - projectId: my-project
      projectNumber: "123456789012"
      workloadIdentityPools:
        - workloadIdentityPoolId: pool
          providers:
            - workloadIdentityPoolProviderId: prov
              attributeMapping:
                attribute.a: assertion['a']
                google.subject: assertion.sub
              oidc:
                issuerUri: https://issuer.example
      serviceAccounts:
        - accountId: deploy-sa
          iamPolicy:
            bindings:
              - role: roles/x
                members: []
aws:
  accounts:
    - accountId: "000000000001"
      roles:
        - roleName: r
          assumeRolePolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
server:
  allowInsecureHTTPIssuers: true
`
	got := roundTrip(t, c)
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestMarshalErrors(t *testing.T) {
	t.Parallel()
	if _, err := Marshal(nil); err == nil {
		t.Error("nil config")
	}
	if _, err := Marshal(&Config{Issuer: "a\xffb"}); err == nil || !strings.Contains(err.Error(), "issuer: value is not valid UTF-8") {
		t.Errorf("invalid UTF-8 value: %v", err)
	}
	bad := &Config{Google: &Google{Projects: []Project{{WorkloadIdentityPools: []WorkloadIdentityPool{{Providers: []Provider{{
		AttributeMapping: map[string]string{"\xff": "x"}}}}}}}}}
	if _, err := Marshal(bad); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("invalid UTF-8 key: %v", err)
	}
	role := &Config{AWS: &AWS{Accounts: []AWSAccount{{Roles: []Role{{AssumeRolePolicyDocument: json.RawMessage(`{"a":`)}}}}}}
	if _, err := Marshal(role); err == nil || !strings.Contains(err.Error(), "aws.accounts[0].roles[0].assumeRolePolicyDocument: not valid JSON") {
		t.Errorf("invalid policy: %v", err)
	}
}
