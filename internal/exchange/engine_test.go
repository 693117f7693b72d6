package exchange_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/awspolicy"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/signing"
	"github.com/keylessdev/keyless/internal/store/sqlite"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// recorder is an Auditor that keeps events in memory, or fails.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
	err    error
}

func (r *recorder) Record(_ context.Context, ev audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

type env struct {
	eng    *exchange.Engine
	is     *testissuer.Issuer
	cfg    *config.Config
	audit  *recorder
	keys   *signing.Keyring
	issuer string
}

func newEnv(t *testing.T, mutate func(*config.Config, *testissuer.Issuer)) *env {
	t.Helper()
	is, err := testissuer.Start(testissuer.Options{Alg: "ES256", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	cfg := keylesstest.StandardConfig(is)
	cfg.Issuer = "https://keyless.test"
	if mutate != nil {
		mutate(cfg, is)
	}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	snap, probs := exchange.Compile(cfg, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := signing.Open(context.Background(), st, signing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return &env{eng: exchange.New(snap, exchange.Options{Signer: kr, Auditor: rec}), is: is, cfg: cfg, audit: rec, keys: kr, issuer: cfg.Issuer}
}

func (e *env) token(t *testing.T, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"sub": "repo:acme/app:ref:refs/heads/main", "aud": "keyless-test", "repository": "acme/app", "repository_owner": "acme"}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := e.is.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var meta = exchange.Meta{Dialect: "google.sts", Method: "token"}

func stsReq(tok string) exchange.STSRequest {
	return exchange.STSRequest{GrantType: exchange.GrantTypeTokenExchange, Audience: keylesstest.Audience(), SubjectToken: tok,
		SubjectTokenType: exchange.TokenTypeJWT, Scope: []string{"https://www.googleapis.com/auth/cloud-platform"}}
}

func TestAuditFailureWithholdsToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.audit.err = errors.New("disk full")
	res, derr := e.eng.ExchangeSTS(context.Background(), stsReq(e.token(t, nil)), meta)
	if derr == nil || res != nil {
		t.Fatalf("token issued although its audit event could not be committed: %+v", res)
	}
	if derr.Code != exchange.CodeInternal || derr.Stage != "audit" || derr.DecisionID == "" {
		t.Errorf("err = %+v", derr)
	}
}

func TestFederatedLifetime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// Subject token expires in 5 minutes: the federated token may not outlive it.
	res, derr := e.eng.ExchangeSTS(context.Background(), stsReq(e.token(t, map[string]any{"exp": time.Now().Add(5 * time.Minute).Unix()})), meta)
	if derr != nil {
		t.Fatal(derr)
	}
	if res.ExpiresIn > 300 || res.ExpiresIn < 290 {
		t.Errorf("expires_in %d, want ≈300 (subject's remaining lifetime)", res.ExpiresIn)
	}
	// A 2 h subject token is capped at 1 h.
	res, derr = e.eng.ExchangeSTS(context.Background(), stsReq(e.token(t, map[string]any{"exp": time.Now().Add(2 * time.Hour).Unix()})), meta)
	if derr != nil {
		t.Fatal(derr)
	}
	if res.ExpiresIn != 3600 {
		t.Errorf("expires_in %d, want 3600", res.ExpiresIn)
	}
	// The pool's sessionDuration overrides both.
	e2 := newEnv(t, func(c *config.Config, _ *testissuer.Issuer) {
		c.Google.Projects[0].WorkloadIdentityPools[0].SessionDuration = "900s"
	})
	res, derr = e2.eng.ExchangeSTS(context.Background(), stsReq(e2.token(t, map[string]any{"exp": time.Now().Add(2 * time.Hour).Unix()})), meta)
	if derr != nil {
		t.Fatal(derr)
	}
	if res.ExpiresIn != 900 {
		t.Errorf("expires_in %d, want 900 (sessionDuration)", res.ExpiresIn)
	}
}

func TestDelegationChainAndAct(t *testing.T) {
	t.Parallel()
	const hop = "hop-sa@test-project.iam.gserviceaccount.com"
	e := newEnv(t, func(c *config.Config, _ *testissuer.Issuer) {
		p := &c.Google.Projects[0]
		p.ServiceAccounts = append(p.ServiceAccounts, config.ServiceAccount{AccountID: "hop-sa", IAMPolicy: &config.IAMPolicy{Bindings: []config.Binding{
			{Role: "roles/iam.serviceAccountTokenCreator", Members: []string{keylesstest.PrincipalSet() + "/attribute.repository/acme/app"}},
		}}})
		// target: other-sa trusts hop-sa only.
		for i := range p.ServiceAccounts {
			if p.ServiceAccounts[i].AccountID == "other-sa" {
				p.ServiceAccounts[i].IAMPolicy = &config.IAMPolicy{Bindings: []config.Binding{{Role: "roles/iam.serviceAccountTokenCreator", Members: []string{"serviceAccount:" + hop}}}}
			}
		}
	})
	res, derr := e.eng.ExchangeSTS(context.Background(), stsReq(e.token(t, nil)), meta)
	if derr != nil {
		t.Fatal(derr)
	}
	im := exchange.Meta{Dialect: "google.iamcredentials", Method: "generateAccessToken"}
	req := exchange.ImpersonationRequest{Bearer: res.AccessToken, Name: "projects/-/serviceAccounts/" + keylesstest.OtherSAEmail,
		Delegates: []string{"projects/-/serviceAccounts/" + hop}, Scope: []string{"https://www.googleapis.com/auth/cloud-platform"}}
	out, derr := e.eng.Impersonate(context.Background(), req, im)
	if derr != nil {
		t.Fatalf("delegated impersonation denied: %+v", derr)
	}
	tok, err := jose.ParseCompact(out.AccessToken, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	act, _ := tok.Claims["act"].(map[string]any)
	inner, _ := act["act"].(map[string]any)
	if act["sub"] != hop || !strings.HasPrefix(inner["sub"].(string), "principal://") {
		t.Errorf("act chain %v, want hop-sa acting for the federated principal", tok.Claims["act"])
	}
	// Without the delegate, the caller has no binding on other-sa.
	req.Delegates = nil
	if _, derr := e.eng.Impersonate(context.Background(), req, im); derr == nil || derr.Code != exchange.CodePermissionDenied {
		t.Errorf("direct impersonation of other-sa: %v", derr)
	}
	// workloadIdentityUser lacks implicitDelegation: deployer cannot be a delegate.
	req.Delegates = []string{"projects/-/serviceAccounts/" + keylesstest.SAEmail}
	if _, derr := e.eng.Impersonate(context.Background(), req, im); derr == nil || derr.Permission != "iam.serviceAccounts.implicitDelegation" {
		t.Errorf("delegate without implicitDelegation: %+v", derr)
	}
}

func TestDisablingProviderRevokesBearers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	res, derr := e.eng.ExchangeSTS(context.Background(), stsReq(e.token(t, nil)), meta)
	if derr != nil {
		t.Fatal(derr)
	}
	e.cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0].Disabled = true
	snap, probs := exchange.Compile(e.cfg, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	e.eng.Swap(snap)
	req := exchange.ImpersonationRequest{Bearer: res.AccessToken, Name: "projects/-/serviceAccounts/" + keylesstest.SAEmail, Scope: []string{"x"}}
	_, derr = e.eng.Impersonate(context.Background(), req, exchange.Meta{Dialect: "google.iamcredentials", Method: "generateAccessToken"})
	if derr == nil || derr.Code != exchange.CodeUnauthenticated {
		t.Fatalf("bearer from a disabled provider accepted: %+v", derr)
	}
}

func TestSubjectAndGroupMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config, _ *testissuer.Issuer) {
		pv := &c.Google.Projects[0].WorkloadIdentityPools[0].Providers[0]
		pv.AttributeMapping["google.groups"] = "assertion.groups"
		sa := &c.Google.Projects[0].ServiceAccounts[1] // other-sa
		pool := strings.Replace(keylesstest.PrincipalSet(), "principalSet://", "principal://", 1)
		sa.IAMPolicy = &config.IAMPolicy{Bindings: []config.Binding{
			{Role: "roles/iam.workloadIdentityUser", Members: []string{pool + "/subject/repo:acme/app:ref:refs/heads/release"}},
			{Role: "roles/iam.workloadIdentityUser", Members: []string{keylesstest.PrincipalSet() + "/group/deployers"}},
		}}
	})
	im := exchange.Meta{Dialect: "google.iamcredentials", Method: "generateAccessToken"}
	try := func(claims map[string]any) *exchange.Error {
		res, derr := e.eng.ExchangeSTS(context.Background(), stsReq(e.token(t, claims)), meta)
		if derr != nil {
			t.Fatal(derr)
		}
		_, derr = e.eng.Impersonate(context.Background(), exchange.ImpersonationRequest{Bearer: res.AccessToken,
			Name: "projects/-/serviceAccounts/" + keylesstest.OtherSAEmail, Scope: []string{"x"}}, im)
		return derr
	}
	if derr := try(map[string]any{"groups": []string{"readers"}}); derr == nil {
		t.Error("main-branch subject without the group was allowed")
	}
	if derr := try(map[string]any{"groups": []string{"readers", "deployers"}}); derr != nil {
		t.Errorf("group member denied: %v", derr)
	}
	if derr := try(map[string]any{"groups": []string{}, "sub": "repo:acme/app:ref:refs/heads/release"}); derr != nil {
		t.Errorf("exact subject denied: %v", derr)
	}
	if derr := try(map[string]any{"groups": []string{}, "sub": "repo:acme/app:ref:refs/heads/release/"}); derr == nil {
		t.Error("subject with a trailing slash matched an exact principal")
	}
}

// TestExplainIsTheSamePipeline: explain's dry run reaches the same outcome as the real
// decision, mints nothing and writes no audit event.
func TestExplainIsTheSamePipeline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cases := []struct {
		claims map[string]any
		sa     string
		allow  bool
		stage  string
	}{
		{nil, keylesstest.SAEmail, true, ""},
		{map[string]any{"repository_owner": "evil"}, "", false, "attribute_condition"},
		{map[string]any{"aud": "nope"}, "", false, "audience"},
		{map[string]any{"repository": "acme/other"}, keylesstest.SAEmail, false, "no_binding"},
	}
	for i, tc := range cases {
		before := e.audit.count()
		tr, allowed, derr := e.eng.Explain(context.Background(), exchange.ExplainRequest{Audience: keylesstest.Audience(), SubjectToken: e.token(t, tc.claims), ServiceAccount: tc.sa})
		if allowed != tc.allow {
			t.Errorf("case %d: explain allowed=%v, want %v; trace %+v", i, allowed, tc.allow, tr)
		}
		if !tc.allow && (derr == nil || derr.Stage != tc.stage) {
			t.Errorf("case %d: stage %+v, want %s", i, derr, tc.stage)
		}
		if e.audit.count() != before {
			t.Errorf("case %d: explain wrote an audit event", i)
		}
		b, _ := json.Marshal(tr)
		if strings.Contains(string(b), "eyJ") {
			t.Errorf("case %d: trace contains a token", i)
		}
		// The real decision agrees.
		res, derr := e.eng.ExchangeSTS(context.Background(), stsReq(e.token(t, tc.claims)), meta)
		stsOK := derr == nil
		if tc.sa != "" && stsOK {
			_, derr = e.eng.Impersonate(context.Background(), exchange.ImpersonationRequest{Bearer: res.AccessToken, Name: "projects/-/serviceAccounts/" + tc.sa, Scope: []string{"x"}},
				exchange.Meta{Dialect: "google.iamcredentials", Method: "generateAccessToken"})
		}
		if (derr == nil) != tc.allow {
			t.Errorf("case %d: real decision disagrees with explain: %+v", i, derr)
		}
	}
}

func TestCompileReportsSemanticProblems(t *testing.T) {
	t.Parallel()
	is, err := testissuer.Start(testissuer.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	cfg := keylesstest.StandardConfig(is)
	pv := &cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0]
	pv.AttributeCondition = "attribute.branch == 'main'"
	pv.AttributeMapping["attribute.team"] = "assertions.team"
	sa := &cfg.Google.Projects[0].ServiceAccounts[0]
	sa.IAMPolicy.Bindings[0].Members = append(sa.IAMPolicy.Bindings[0].Members, "principalSet://iam.googleapis.com/projects/test-project/locations/global/workloadIdentityPools/test-pool/*")
	sa.IAMPolicy.Bindings = append(sa.IAMPolicy.Bindings, config.Binding{Role: "roles/custom.thing", Members: []string{"serviceAccount:a@b.iam.gserviceaccount.com"}})
	_, probs := exchange.Compile(cfg, nil)
	text := probs.Error()
	// A condition over an attribute the mapping does not produce is found once the
	// mapping compiles.
	pv.AttributeMapping["attribute.team"] = "assertion.team"
	_, probs2 := exchange.Compile(cfg, nil)
	text += "\n" + probs2.Error()
	for _, want := range []string{
		`providers[0].attributeMapping["attribute.team"]`, "assertion",
		"providers[0].attributeCondition", "branch",
		"serviceAccounts[0].iamPolicy", "by number",
		"roles/custom.thing",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("problems lack %q:\n%s", want, text)
		}
	}
}

func TestCompileAWSTrustPolicies(t *testing.T) {
	t.Parallel()
	policy := func(federated, cond string) json.RawMessage {
		return json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + federated +
			`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + cond + `}]}`)
	}
	const prov = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
	good := `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}`
	cfg := &config.Config{AWS: &config.AWS{Accounts: []config.AWSAccount{{
		AccountID:              "210987654321",
		OpenIDConnectProviders: []config.OpenIDConnectProvider{{URL: "https://token.actions.githubusercontent.com", ClientIDList: []string{"sts.amazonaws.com"}}},
		Roles: []config.Role{
			{RoleName: "deploy", AssumeRolePolicyDocument: policy(prov, good)},
			{RoleName: "typo", AssumeRolePolicyDocument: policy(prov, `{"StringEqual":{"x":"y"}}`)},
			{RoleName: "unknown-provider", AssumeRolePolicyDocument: policy("arn:aws:iam::210987654321:oidc-provider/oidc.eks.example", good)},
			{RoleName: "other-account", AssumeRolePolicyDocument: policy("arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com", good)},
		},
	}}}}
	snap, probs := exchange.Compile(cfg, nil)
	text := probs.Error()
	for _, want := range []string{
		"aws.accounts[0].roles[1].assumeRolePolicyDocument: Statement[0].Condition",
		"aws.accounts[0].roles[2].assumeRolePolicyDocument", "no such provider",
		"aws.accounts[0].roles[3].assumeRolePolicyDocument", "not an OIDC provider of account 210987654321",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("problems lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "roles[0]") {
		t.Errorf("the valid role was reported:\n%s", text)
	}
	role := snap.AWSRole("arn:aws:iam::210987654321:role/deploy")
	if role == nil || role.Trust == nil || snap.AWSOIDCProvider(prov) == nil {
		t.Fatalf("compiled role %+v", role)
	}
	d := role.Trust.Evaluate(awspolicy.Request{Action: "sts:AssumeRoleWithWebIdentity", Federated: prov, Context: map[string][]string{
		"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"}, "token.actions.githubusercontent.com:sub": {"repo:acme/app:ref:refs/heads/main"}}})
	if !d.Allowed {
		t.Errorf("compiled trust policy denies a matching request: %+v", d)
	}
}
