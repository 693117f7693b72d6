package jwks

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// Realistic discovery documents (trimmed), used as table inputs and fuzz seeds.
var discoverySeeds = []string{
	`{"issuer":"https://token.actions.githubusercontent.com","jwks_uri":"https://token.actions.githubusercontent.com/.well-known/jwks","subject_types_supported":["public","pairwise"],"response_types_supported":["id_token"],"claims_supported":["sub","aud","exp","iat","iss","jti","nbf","ref","sha","repository","repository_id","repository_owner","repository_owner_id","enterprise","enterprise_id","run_id","run_number","run_attempt","actor","actor_id","workflow","workflow_ref","workflow_sha","head_ref","base_ref","event_name","ref_type","ref_protected","environment","environment_node_id","job_workflow_ref","job_workflow_sha","repository_visibility","runner_environment","issuer_scope"],"id_token_signing_alg_values_supported":["RS256"],"scopes_supported":["openid"]}`,
	`{"issuer":"https://accounts.google.com","authorization_endpoint":"https://accounts.google.com/o/oauth2/v2/auth","token_endpoint":"https://oauth2.googleapis.com/token","jwks_uri":"https://www.googleapis.com/oauth2/v3/certs","id_token_signing_alg_values_supported":["RS256"]}`,
	`{"token_endpoint":"https://login.microsoftonline.com/{tenantid}/oauth2/v2.0/token","jwks_uri":"https://login.microsoftonline.com/common/discovery/v2.0/keys","issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","tenant_region_scope":null,"cloud_instance_name":"microsoftonline.com"}`,
	`{"issuer":"https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE","jwks_uri":"https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE/keys","authorization_endpoint":"urn:kubernetes:programmatic_authorization","response_types_supported":["id_token"],"subject_types_supported":["public"],"claims_supported":["sub","iss"],"id_token_signing_alg_values_supported":["RS256"]}`,
	`{"issuer":"https://kubernetes.default.svc.cluster.local","jwks_uri":"https://172.18.0.2:6443/openid/v1/jwks","response_types_supported":["id_token"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`,
	`{"issuer":"https://gitlab.com","jwks_uri":"https://gitlab.com/oauth/discovery/keys","scopes_supported":["api","read_api","openid","profile","email"]}`,
	`{"issuer":"https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/","jwks_uri":"https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/openid/v1/jwks"}`,
	`{"issuer":"https://token.actions.githubusercontent.com","jwks_uri":"http://169.254.169.254/latest/meta-data/"}`,
	`{"issuer":"https://token.actions.githubusercontent.com","jwks_uri":"https://2130706433/keys"}`,
	`{"issuer":"https://token.actions.githubusercontent.com","issuer":"https://evil.example","jwks_uri":"https://evil.example/keys"}`,
	`{"Issuer":"https://token.actions.githubusercontent.com","JWKS_URI":"https://evil.example/keys"}`,
	`  {"issuer":null,"jwks_uri":5} `,
	`[]`, `null`, `"str"`, ``, `{`, `{"a":1}{}`,
}

func TestParseDiscovery(t *testing.T) {
	t.Parallel()
	doc, err := parseDiscovery([]byte(discoverySeeds[2]))
	if err != nil || doc.Issuer != "https://login.microsoftonline.com/{tenantid}/v2.0" ||
		doc.JWKSURI != "https://login.microsoftonline.com/common/discovery/v2.0/keys" {
		t.Fatalf("azure: %+v, %v", doc, err)
	}
	// Member names match exactly; encoding/json's case-folding would take "Issuer".
	doc, err = parseDiscovery([]byte(discoverySeeds[10]))
	if err != nil || doc.Issuer != "" || doc.JWKSURI != "" {
		t.Fatalf("case-folded members: %+v, %v", doc, err)
	}
	doc, err = parseDiscovery([]byte(`{"issuer":null,"jwks_uri":null}`))
	if err != nil || doc != (discoveryDoc{}) {
		t.Fatalf("nulls: %+v, %v", doc, err)
	}
	for _, bad := range []string{`[]`, `null`, `"str"`, ``, `{`, `{"a":1}{}`, `{"issuer":5}`, `{"jwks_uri":["a"]}`, `{"issuer":{}}`, "\xff{}", `{"issuer":"\ud800"` + "\x00" + `}`} {
		if _, err := parseDiscovery([]byte(bad)); !errors.Is(err, ErrInvalidDocument) {
			t.Errorf("parseDiscovery(%q) = %v, want ErrInvalidDocument", bad, err)
		}
	}
}

func TestValidateDiscovery(t *testing.T) {
	t.Parallel()
	p := urlPolicy{addrs: newAddrPolicy(false, false)}
	const gh = "https://token.actions.githubusercontent.com"
	u, err := validateDiscovery(discoveryDoc{Issuer: gh, JWKSURI: gh + "/.well-known/jwks"}, gh, p)
	if err != nil || u.String() != gh+"/.well-known/jwks" {
		t.Fatalf("valid: %v, %v", u, err)
	}
	for _, tc := range []struct {
		doc      discoveryDoc
		sentinel error
	}{
		{discoveryDoc{Issuer: gh + "/", JWKSURI: gh + "/jwks"}, ErrIssuerMismatch},
		{discoveryDoc{Issuer: strings.ToUpper(gh), JWKSURI: gh + "/jwks"}, ErrIssuerMismatch},
		{discoveryDoc{JWKSURI: gh + "/jwks"}, ErrIssuerMismatch},
		{discoveryDoc{Issuer: gh}, ErrInvalidDocument},
		{discoveryDoc{Issuer: gh, JWKSURI: "http://token.actions.githubusercontent.com/jwks"}, ErrInsecureURL},
		{discoveryDoc{Issuer: gh, JWKSURI: "https://169.254.169.254/latest/meta-data"}, ErrBlockedAddress},
		{discoveryDoc{Issuer: gh, JWKSURI: "https://[::ffff:10.0.0.1]/keys"}, ErrBlockedAddress},
		{discoveryDoc{Issuer: gh, JWKSURI: "https://0x7f000001/keys"}, ErrBlockedAddress},
		{discoveryDoc{Issuer: gh, JWKSURI: "https://user@token.actions.githubusercontent.com/jwks"}, ErrInvalidURL},
	} {
		if _, err := validateDiscovery(tc.doc, gh, p); !errors.Is(err, tc.sentinel) {
			t.Errorf("%+v: %v, want %v", tc.doc, err, tc.sentinel)
		}
	}
	// A long attacker-chosen issuer is truncated in the error.
	_, err = validateDiscovery(discoveryDoc{Issuer: strings.Repeat("x", 10000)}, gh, p)
	if !errors.Is(err, ErrIssuerMismatch) || len(err.Error()) > 600 {
		t.Fatalf("long issuer: %d bytes", len(err.Error()))
	}
}

func FuzzParseDiscovery(f *testing.F) {
	for _, s := range discoverySeeds {
		f.Add([]byte(s))
	}
	const issuer = "https://token.actions.githubusercontent.com"
	p := urlPolicy{addrs: newAddrPolicy(false, false)}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseDiscovery(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidDocument) || doc != (discoveryDoc{}) {
				t.Fatalf("error %v with doc %+v", err, doc)
			}
			return
		}
		u, err := validateDiscovery(doc, issuer, p)
		if err != nil {
			if u != nil {
				t.Fatal("URL returned with an error")
			}
			return
		}
		if doc.Issuer != issuer {
			t.Fatalf("accepted issuer %q", doc.Issuer)
		}
		if u.Scheme != "https" || u.User != nil || u.Host == "" {
			t.Fatalf("accepted jwks_uri %q", doc.JWKSURI)
		}
		if err := p.checkParsed(u); err != nil {
			t.Fatalf("accepted jwks_uri %q fails recheck: %v", doc.JWKSURI, err)
		}
	})
}

// FuzzURLPolicy checks that whatever the URL policy accepts is https with a host that is
// a public IP literal or a DNS name that does not end in a number.
func FuzzURLPolicy(f *testing.F) {
	for _, s := range []string{
		"https://token.actions.githubusercontent.com", "https://127.0.0.1:8443/", "https://[::ffff:127.0.0.1]/",
		"https://2130706433/", "https://0177.0.0.1/", "https://0x7f000001/", "http://localhost:8080/",
		"https://[fe80::1%25eth0]/", "https://a@b/", "https://xn--bcher-kva.example/keys?x=1",
		"https://8.8.8.8/", "https://[64:ff9b::a9fe:a9fe]/", "https://exa%2Fmple.com",
	} {
		f.Add(s)
	}
	p := urlPolicy{addrs: newAddrPolicy(false, false)}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := p.check(raw)
		if err != nil {
			return
		}
		if u.Scheme != "https" || u.User != nil {
			t.Fatalf("accepted %q", raw)
		}
		h := u.Hostname()
		if ip, perr := netip.ParseAddr(h); perr == nil {
			if p.addrs.check(ip) != nil {
				t.Fatalf("accepted blocked %q", raw)
			}
		} else if !validDNSName(h) || endsInNumber(h) {
			t.Fatalf("accepted host %q", h)
		}
	})
}
