package explain

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/awspolicy"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

const (
	testHost = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"
	testFed  = "arn:aws:iam::210987654321:oidc-provider/" + testHost
)

// trustPolicyDoc allows one service account and denies kube-system; the Allow also
// carries an IfExists condition on a key the requests below never have.
const trustPolicyDoc = `{"Version":"2012-10-17","Statement":[
 {"Sid":"Checkout","Effect":"Allow","Principal":{"Federated":"` + testFed + `"},"Action":"sts:AssumeRoleWithWebIdentity",
  "Condition":{"StringEquals":{"` + testHost + `:sub":"system:serviceaccount:shop:checkout","` + testHost + `:aud":"sts.amazonaws.com"},
   "StringEqualsIfExists":{"sts:SourceIdentity":"checkout"}}},
 {"Sid":"NeverKubeSystem","Effect":"Deny","Principal":{"Federated":"` + testFed + `"},"Action":"sts:AssumeRoleWithWebIdentity",
  "Condition":{"StringLike":{"` + testHost + `:sub":"system:serviceaccount:kube-system:*"}}}]}`

// evaluate runs the real policy engine and returns step data shaped like the
// exchange engine's trust_policy data, after a JSON round trip (as stored in audit).
func evaluate(t *testing.T, sub string, extraActions ...string) (map[string][]string, any) {
	t.Helper()
	p, err := awspolicy.Parse([]byte(trustPolicyDoc))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{
		testHost + ":sub":       {sub},
		testHost + ":aud":       {"sts.amazonaws.com"},
		"aws:FederatedProvider": {testFed},
		"sts:RoleSessionName":   {"checkout-7d9f8"},
	}
	var ds []awspolicy.Decision
	denied := ""
	for _, act := range append([]string{awspolicy.ActionAssumeRoleWithWebIdentity}, extraActions...) {
		d := p.Evaluate(awspolicy.Request{Action: act, Federated: testFed, Context: keys})
		ds = append(ds, d)
		if !d.Allowed {
			denied = act
			break
		}
	}
	data := map[string]any{"conditionKeys": keys, "decisions": ds}
	if denied != "" {
		data["deniedAction"] = denied
	}
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var round any
	if err := json.Unmarshal(b, &round); err != nil {
		t.Fatal(err)
	}
	return keys, round
}

func render(tr *exchange.Trace) string {
	var b strings.Builder
	Render(&b, tr)
	return b.String()
}

func TestRenderTrustPolicyImplicitDeny(t *testing.T) {
	t.Parallel()
	_, data := evaluate(t, "system:serviceaccount:payments:checkout")
	got := render(&exchange.Trace{Steps: []exchange.Step{{Stage: "trust_policy", OK: false, Detail: "denied", Data: data, Fix: "compare"}}})
	want := `  [FAIL] trust_policy         denied
         condition keys of the request:
           aws:FederatedProvider                        ["arn:aws:iam::210987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"]
           oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud  ["sts.amazonaws.com"]
           oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub  ["system:serviceaccount:payments:checkout"]
           sts:RoleSessionName                          ["checkout-7d9f8"]
         sts:AssumeRoleWithWebIdentity: denied implicitly: no Allow statement matches
           Statement[0] (Sid "Checkout") Allow does not match: condition failed
             [FAIL] StringEquals oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub  request ["system:serviceaccount:payments:checkout"]  policy ["system:serviceaccount:shop:checkout"]
             [ok  ] StringEquals oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud  request ["sts.amazonaws.com"]  policy ["sts.amazonaws.com"]
             [ok  ] StringEqualsIfExists sts:SourceIdentity  request (absent)  policy ["checkout"]  (key is absent and the operator ends in IfExists)
           Statement[1] (Sid "NeverKubeSystem") Deny does not match: condition failed
             [FAIL] StringLike oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub  request ["system:serviceaccount:payments:checkout"]  policy ["system:serviceaccount:kube-system:*"]
         fix: compare
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderTrustPolicyExplicitDenyAndAllow(t *testing.T) {
	t.Parallel()
	_, data := evaluate(t, "system:serviceaccount:kube-system:aws-node")
	got := render(&exchange.Trace{Steps: []exchange.Step{{Stage: "trust_policy", Data: data}}})
	for _, want := range []string{
		`sts:AssumeRoleWithWebIdentity: explicitly denied by Statement[1] (Sid "NeverKubeSystem")`,
		`Statement[1] (Sid "NeverKubeSystem") Deny matches`,
		`[ok  ] StringLike oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub  request ["system:serviceaccount:kube-system:aws-node"]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}

	_, data = evaluate(t, "system:serviceaccount:shop:checkout")
	got = render(&exchange.Trace{Steps: []exchange.Step{{Stage: "trust_policy", OK: true, Data: data}}})
	for _, want := range []string{
		`sts:AssumeRoleWithWebIdentity: allowed by Statement[0] (Sid "Checkout")`,
		`Statement[0] (Sid "Checkout") Allow matches`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "[FAIL] StringEquals") {
		t.Errorf("allowed request shows a failed StringEquals:\n%s", got)
	}
}

// The engine evaluates sts:AssumeRoleWithWebIdentity first and then the session
// actions; the denied one is named by deniedAction.
func TestRenderTrustPolicyNamesDeniedAction(t *testing.T) {
	t.Parallel()
	_, data := evaluate(t, "system:serviceaccount:shop:checkout", "sts:TagSession")
	got := render(&exchange.Trace{Steps: []exchange.Step{{Stage: "trust_policy", Data: data}}})
	if !strings.Contains(got, "sts:AssumeRoleWithWebIdentity: allowed by") ||
		!strings.Contains(got, "sts:TagSession: denied implicitly") {
		t.Errorf("actions not named:\n%s", got)
	}
	if got != render(&exchange.Trace{Steps: []exchange.Step{{Stage: "trust_policy", Data: data}}}) {
		t.Error("rendering is not deterministic")
	}
}

func TestRenderPrincipalAndActionMismatch(t *testing.T) {
	t.Parallel()
	st := awspolicy.StatementTrace{Index: 2, Effect: awspolicy.Allow}
	var b strings.Builder
	renderStatement(&b, st)
	if got := b.String(); !strings.Contains(got, "Statement[2] Allow does not match: principal differs, action not listed") {
		t.Errorf("got %q", got)
	}
}

func TestRenderOtherData(t *testing.T) {
	t.Parallel()
	got := render(&exchange.Trace{Steps: []exchange.Step{
		{Stage: "attribute_mapping", OK: true, Detail: "mapped", Data: []map[string]any{{"Key": "google.subject", "Expression": "assertion.sub", "Value": "x"}}},
		{Stage: "other", OK: true, Data: map[string]any{"b": 1, "a": "decisions"}},
	}})
	want := `  [ok  ] attribute_mapping    mapped
         - key="google.subject"  expression="assertion.sub"  value="x"
  [ok  ] other                
         {"a":"decisions","b":1}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderEventAWSFields(t *testing.T) {
	t.Parallel()
	ev := map[string]any{
		"decision_id": "01ABC", "time": "2026-11-22T10:00:00Z", "dialect": "aws.sts", "method": "GetCallerIdentity", "outcome": "allow",
		"principal":   "arn:aws:sts::210987654321:assumed-role/checkout-writer/s1",
		"correlation": map[string]string{"jti": "j1", "chain": "01AAA"},
		"aws": audit.AWSRecord{EventName: "GetCallerIdentity",
			UserIdentity: audit.AWSUserIdentity{Type: "AssumedRole", ARN: "arn:aws:sts::210987654321:assumed-role/checkout-writer/s1",
				AccessKeyID: "ASIAEXAMPLE"},
			ResponseElements: &audit.AWSResponseElements{Account: "210987654321", ARN: "arn:aws:sts::210987654321:assumed-role/checkout-writer/s1", UserID: "AROAX:s1"}},
	}
	raw, _ := json.Marshal(ev)
	var b strings.Builder
	if err := RenderEvent(&b, raw); err != nil {
		t.Fatal(err)
	}
	want := `decision 01ABC  2026-11-22T10:00:00Z  aws.sts GetCallerIdentity  outcome=allow
  aws identity:    AssumedRole arn:aws:sts::210987654321:assumed-role/checkout-writer/s1 (access key ASIAEXAMPLE)
  aws response:    account=210987654321  arn=arn:aws:sts::210987654321:assumed-role/checkout-writer/s1  userId=AROAX:s1
  principal:       arn:aws:sts::210987654321:assumed-role/checkout-writer/s1
  correlation:     chain=01AAA  jti=j1
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := RenderEvent(&b, []byte("not json")); err == nil {
		t.Error("RenderEvent accepted non-JSON")
	}
}

// TestRenderEngineDecision renders what the server stores for a real denied
// AssumeRoleWithWebIdentity: this ties the renderer to the engine's data shape.
func TestRenderEngineDecision(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) })
	for _, tc := range []struct {
		repo string
		want []string
	}{
		{"forbidden", []string{
			"aws.sts AssumeRoleWithWebIdentity  outcome=deny reason=trust_policy",
			"aws error:       AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity",
			"aws identity:    WebIdentityUser repo:acme/forbidden:ref:refs/heads/main",
			"aws request:     roleArn=" + keylesstest.AWSRoleARN() + "  roleSessionName=s1",
			"condition keys of the request:",
			`sts:AssumeRoleWithWebIdentity: explicitly denied by Statement[1] (Sid "NotForbidden")`,
			`Statement[0] (Sid "AcmeRepos") Allow matches`,
			`Statement[1] (Sid "NotForbidden") Deny matches`,
			`request ["repo:acme/forbidden:ref:refs/heads/main"]  policy ["repo:acme/forbidden:*"]`,
			"fix: an explicit Deny",
		}},
		{"app", []string{
			"outcome=allow",
			"aws response:    accessKeyId=ASIA",
			"assumedRoleUser=arn:aws:sts::" + keylesstest.AWSAccountID + ":assumed-role/" + keylesstest.AWSRoleName + "/s1",
			`sts:AssumeRoleWithWebIdentity: allowed by Statement[0] (Sid "AcmeRepos")`,
			`Statement[1] (Sid "NotForbidden") Deny does not match: condition failed`,
		}},
	} {
		form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {keylesstest.AWSRoleARN()},
			"RoleSessionName": {"s1"}, "WebIdentityToken": {f.AWSToken(t, tc.repo, nil)}}
		resp, body := f.Post(t, "/", "application/x-www-form-urlencoded", form.Encode(), "")
		id := resp.Header.Get("X-Keyless-Decision-Id")
		rec, err := f.Store.AuditByID(t.Context(), id)
		if err != nil {
			t.Fatalf("%s: decision %q (%d %s): %v", tc.repo, id, resp.StatusCode, body, err)
		}
		var b strings.Builder
		if err := RenderEvent(&b, rec.Data); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		for _, want := range tc.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s: output lacks %q:\n%s", tc.repo, want, got)
			}
		}
		if strings.Contains(got, "eyJ") {
			t.Errorf("%s: output holds a token", tc.repo)
		}
	}
}

func FuzzRenderEvent(f *testing.F) {
	keys := map[string][]string{testHost + ":sub": {"system:serviceaccount:shop:checkout"}}
	p, _ := awspolicy.Parse([]byte(trustPolicyDoc))
	d := p.Evaluate(awspolicy.Request{Action: awspolicy.ActionAssumeRoleWithWebIdentity, Federated: testFed, Context: keys})
	ev := map[string]any{"decision_id": "01ABC", "dialect": "aws.sts", "method": "AssumeRoleWithWebIdentity", "outcome": "deny",
		"aws":   audit.AWSRecord{ErrorCode: "AccessDenied", RequestParameters: &audit.AWSRequestParameters{RoleArn: "arn:aws:iam::1:role/r"}},
		"trace": exchange.Trace{Steps: []exchange.Step{{Stage: "trust_policy", Data: map[string]any{"conditionKeys": keys, "decisions": []awspolicy.Decision{d}, "deniedAction": "sts:TagSession"}}}}}
	seed, _ := json.Marshal(ev)
	f.Add(seed)
	f.Add([]byte(`{"trace":{"steps":[{"stage":"x","data":{"decisions":[{"Statements":[{"Conditions":[{}]}]}]}}]}}`))
	f.Add([]byte(`{"trace":{"steps":[{"stage":"x","data":[{"Key":"k"},{}]}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var a, b strings.Builder
		errA, errB := RenderEvent(&a, raw), RenderEvent(&b, raw)
		if (errA == nil) != (errB == nil) || a.String() != b.String() {
			t.Fatal("rendering is not deterministic")
		}
	})
}
