package exchange_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

func newAWSEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) })
	e.eng = exchange.New(e.eng.Snapshot(), exchange.Options{Signer: e.keys, Auditor: e.audit, SessionKeys: e.keys})
	return e
}

func arwwi(tok string) exchange.AssumeRoleRequest {
	return exchange.AssumeRoleRequest{RoleArn: keylesstest.AWSRoleARN(), RoleSessionName: "s1", WebIdentityToken: tok}
}

var awsMeta = exchange.Meta{Dialect: "aws.sts", Method: "AssumeRoleWithWebIdentity"}

func TestAssumeRoleRefusesWhatItCannotHonour(t *testing.T) {
	t.Parallel()
	e := newAWSEnv(t)
	tok := e.token(t, map[string]any{"aud": keylesstest.AWSClientID})
	for name, mut := range map[string]func(*exchange.AssumeRoleRequest){
		"session policy": func(r *exchange.AssumeRoleRequest) { r.Policy = `{"Version":"2012-10-17","Statement":[]}` },
		"policy arns":    func(r *exchange.AssumeRoleRequest) { r.PolicyArns = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"} },
		"provider id":    func(r *exchange.AssumeRoleRequest) { r.ProviderID = "www.amazon.com" },
		"not a role arn": func(r *exchange.AssumeRoleRequest) { r.RoleArn = "arn:aws:iam::210987654321:user/bob" },
		"not a jwt":      func(r *exchange.AssumeRoleRequest) { r.WebIdentityToken = "opaque-oauth2-access-token" },
	} {
		req := arwwi(tok)
		mut(&req)
		res, derr := e.eng.AssumeRoleWithWebIdentity(context.Background(), req, awsMeta)
		if res != nil || derr == nil {
			t.Fatalf("%s: allowed", name)
		}
		if derr.AWSCode != exchange.AWSInvalidParameterValue && derr.AWSCode != exchange.AWSInvalidIdentityToken {
			t.Errorf("%s: code %s", name, derr.AWSCode)
		}
	}
	if n := e.audit.count(); n != 5 {
		t.Errorf("%d audit events, want 5", n)
	}
}

func TestAssumeRoleAuditFailureWithholdsCredentials(t *testing.T) {
	t.Parallel()
	e := newAWSEnv(t)
	e.audit.err = errors.New("disk full")
	res, derr := e.eng.AssumeRoleWithWebIdentity(context.Background(), arwwi(e.token(t, map[string]any{"aud": keylesstest.AWSClientID})), awsMeta)
	if res != nil || derr == nil || derr.Code != exchange.CodeInternal || derr.AWSCode != exchange.AWSInternalFailure {
		t.Fatalf("res %v, err %+v", res, derr)
	}
}

func TestExplainAssumeRole(t *testing.T) {
	t.Parallel()
	e := newAWSEnv(t)
	tr, ok, derr := e.eng.ExplainAssumeRole(context.Background(), keylesstest.AWSRoleARN(), e.token(t, map[string]any{"aud": keylesstest.AWSClientID}), "")
	if !ok || derr != nil {
		t.Fatalf("explain of an allowed request: %v", derr)
	}
	if last := tr.Steps[len(tr.Steps)-1]; last.Stage != "mint" || !strings.Contains(last.Detail, "dry run") {
		t.Errorf("last step %+v", last)
	}
	forbidden := e.token(t, map[string]any{"aud": keylesstest.AWSClientID, "sub": "repo:acme/forbidden:ref:refs/heads/main"})
	tr, ok, derr = e.eng.ExplainAssumeRole(context.Background(), keylesstest.AWSRoleARN(), forbidden, "")
	if ok || derr == nil || derr.Stage != "trust_policy" {
		t.Fatalf("explain of a denied request: ok=%v %+v", ok, derr)
	}
	last := tr.Steps[len(tr.Steps)-1]
	if last.OK || !strings.Contains(last.Fix, "explicit Deny") || !strings.Contains(last.Fix, "NotForbidden") {
		t.Errorf("trust policy step %+v", last)
	}
	if e.audit.count() != 0 {
		t.Error("explain wrote audit events")
	}
}

func TestTrustPolicyWarnings(t *testing.T) {
	t.Parallel()
	e := newAWSEnv(t)
	if w := e.eng.Snapshot().Warnings(); len(w) != 0 {
		t.Fatalf("the test trust policy is tight, got warnings %v", w)
	}
	loose := newEnv(t, func(c *config.Config, is *testissuer.Issuer) {
		keylesstest.WithAWS(c, is)
		host := strings.TrimPrefix(is.URL, "https://")
		c.AWS.Accounts[0].Roles[0].AssumeRolePolicyDocument = []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Principal":{"Federated":"arn:aws:iam::` + keylesstest.AWSAccountID + `:oidc-provider/` + host + `"},
			"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:sub":"repo:acme/*"}}}]}`)
	})
	w := strings.Join(loose.eng.Snapshot().Warnings(), "\n")
	if !strings.Contains(w, "aws.accounts[0].roles[0].assumeRolePolicyDocument.Statement[0]") ||
		!strings.Contains(w, "compared literally") || !strings.Contains(w, "aud") {
		t.Errorf("warnings:\n%s", w)
	}
}
