package awspolicy

import (
	"strings"
	"testing"
)

const (
	ghARN  = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
	eksIss = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	eksARN = "arn:aws:iam::111122223333:oidc-provider/" + eksIss
)

// githubPolicy has the shape the AWS and GitHub docs recommend.
const githubPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "GitHub",
      "Effect": "Allow",
      "Principal": {"Federated": "` + ghARN + `"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}
      }
    },
    {
      "Sid": "NoForks",
      "Effect": "Deny",
      "Principal": {"Federated": "` + ghARN + `"},
      "Action": "sts:*",
      "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/sandbox:*"}}
    }
  ]
}`

const eksPolicy = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": {"Federated": "` + eksARN + `"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {
      "` + eksIss + `:sub": "system:serviceaccount:default:my-sa",
      "` + eksIss + `:aud": "sts.amazonaws.com"
    }}
  }
}`

func ghReq(sub, aud string) Request {
	ctx := map[string][]string{gh + ":sub": {sub}}
	if aud != "" {
		ctx[gh+":aud"] = []string{aud}
	}
	return Request{Action: ActionAssumeRoleWithWebIdentity, Federated: ghARN, Context: ctx}
}

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvaluateGitHub(t *testing.T) {
	t.Parallel()
	p := mustParse(t, githubPolicy)
	tests := []struct {
		name       string
		req        Request
		allow      bool
		reasonPart string
	}{
		{"main branch", ghReq("repo:octo-org/app:ref:refs/heads/main", "sts.amazonaws.com"), true, `allowed by Statement[0] (Sid "GitHub")`},
		{"other org", ghReq("repo:evil-org/app:ref:refs/heads/main", "sts.amazonaws.com"), false, `token.actions.githubusercontent.com:sub" failed`},
		{"prefix trick", ghReq("repo:octo-org-evil/app:ref:refs/heads/main", "sts.amazonaws.com"), false, ":sub"},
		{"wrong aud", ghReq("repo:octo-org/app:ref:refs/heads/main", "api://other"), false, `StringEquals "token.actions.githubusercontent.com:aud" failed`},
		{"missing aud", ghReq("repo:octo-org/app:ref:refs/heads/main", ""), false, ":aud\" failed: key is absent"},
		{"explicit deny wins", ghReq("repo:octo-org/sandbox:ref:refs/heads/main", "sts.amazonaws.com"), false, `explicitly denied by Statement[1] (Sid "NoForks")`},
		{"other provider", Request{Action: ActionAssumeRoleWithWebIdentity, Federated: eksARN, Context: ghReq("repo:octo-org/a", "sts.amazonaws.com").Context}, false, "no Allow statement names principal"},
		{"provider case-sensitive", Request{Action: ActionAssumeRoleWithWebIdentity, Federated: strings.ToUpper(ghARN), Context: ghReq("repo:octo-org/a", "sts.amazonaws.com").Context}, false, "no Allow statement"},
		{"other action", Request{Action: "sts:AssumeRole", Federated: ghARN, Context: ghReq("repo:octo-org/a", "sts.amazonaws.com").Context}, false, "no Allow statement"},
		{"empty action", Request{Federated: ghARN, Context: ghReq("repo:octo-org/a", "sts.amazonaws.com").Context}, false, "names no action"},
		{"action case-insensitive", Request{Action: "STS:assumerolewithwebidentity", Federated: ghARN, Context: ghReq("repo:octo-org/a", "sts.amazonaws.com").Context}, true, "allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := p.Evaluate(tc.req)
			if d.Allowed != tc.allow || !strings.Contains(d.Reason, tc.reasonPart) {
				t.Fatalf("got (%v, %q), want (%v, …%q…)", d.Allowed, d.Reason, tc.allow, tc.reasonPart)
			}
			if len(d.Statements) != 2 {
				t.Fatalf("trace has %d statements", len(d.Statements))
			}
		})
	}
}

func TestEvaluateEKS(t *testing.T) {
	t.Parallel()
	p := mustParse(t, eksPolicy)
	ctx := func(sub string) map[string][]string {
		return map[string][]string{eksIss + ":sub": {sub}, eksIss + ":aud": {"sts.amazonaws.com"}}
	}
	if d := p.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: eksARN, Context: ctx("system:serviceaccount:default:my-sa")}); !d.Allowed {
		t.Fatalf("denied: %s", d.Reason)
	}
	d := p.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: eksARN, Context: ctx("system:serviceaccount:kube-system:my-sa")})
	if d.Allowed || !strings.Contains(d.Reason, eksIss+`:sub" failed`) {
		t.Fatalf("got (%v, %q)", d.Allowed, d.Reason)
	}
}

func TestEvaluatePitfalls(t *testing.T) {
	t.Parallel()
	// StringLike "*" on sub: every repository on GitHub can assume the role.
	star := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"`+ghARN+`"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"`+gh+`:sub":"*"}}}}`)
	if d := star.Evaluate(ghReq("repo:anyone/anything:ref:refs/heads/x", "whatever")); !d.Allowed {
		t.Fatalf("StringLike * should allow any sub (that is the pitfall): %s", d.Reason)
	}
	lint := strings.Join(star.Lint(), "\n")
	for _, w := range []string{`"*" matches every value`, "no positive condition on the provider's aud key"} {
		if !strings.Contains(lint, w) {
			t.Errorf("Lint() = %q, missing %q", lint, w)
		}
	}
	// ForAllValues with the key absent allows.
	forAll := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"`+ghARN+`"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"ForAllValues:StringEquals":{"`+gh+`:sub":"repo:o/r:ref:refs/heads/main"}}}}`)
	if d := forAll.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: ghARN}); !d.Allowed {
		t.Fatalf("ForAllValues on absent key should allow: %s", d.Reason)
	}
	if !strings.Contains(strings.Join(forAll.Lint(), "\n"), "ForAllValues is true when the key is absent") {
		t.Errorf("Lint() = %q", forAll.Lint())
	}
	// A policy that is clean lints clean.
	if l := mustParse(t, githubPolicy).Lint(); len(l) != 0 {
		t.Errorf("Lint(githubPolicy) = %q", l)
	}
}

func TestEvaluatePrincipals(t *testing.T) {
	t.Parallel()
	req := Request{Action: ActionAssumeRoleWithWebIdentity, Federated: ghARN}
	tests := []struct {
		principal string
		allow     bool
	}{
		{`"*"`, true},
		{`{"AWS":"*"}`, true},
		{`{"AWS":"arn:aws:iam::123456789012:root"}`, false},
		{`{"Service":"sts.amazonaws.com"}`, false},
		{`{"Federated":["accounts.google.com","` + ghARN + `"]}`, true},
		{`{"Federated":"accounts.google.com"}`, false},
	}
	for _, tc := range tests {
		p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":`+tc.principal+`,"Action":"sts:AssumeRoleWithWebIdentity"}}`)
		if d := p.Evaluate(req); d.Allowed != tc.allow {
			t.Errorf("Principal %s: allowed = %v, want %v", tc.principal, d.Allowed, tc.allow)
		}
	}
}

func TestEvaluateActions(t *testing.T) {
	t.Parallel()
	req := Request{Action: ActionAssumeRoleWithWebIdentity, Federated: "f"}
	tests := []struct {
		action string
		allow  bool
	}{
		{`"Action":"*"`, true},
		{`"Action":"sts:AssumeRoleWithWebIdentity*"`, true},
		{`"Action":"sts:*"`, true},
		{`"Action":"sts:AssumeRole*"`, true},
		{`"Action":"sts:AssumeRole"`, false},
		{`"Action":["sts:TagSession","sts:AssumeRoleWithWebIdentity"]`, true},
		{`"Action":"sts:AssumeRoleWith?ebIdentity"`, true},
		{`"Action":"iam:*"`, false},
		{`"NotAction":"sts:TagSession"`, true},
		{`"NotAction":"sts:*"`, false},
	}
	for _, tc := range tests {
		p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"f"},`+tc.action+`}}`)
		if d := p.Evaluate(req); d.Allowed != tc.allow {
			t.Errorf("%s: allowed = %v, want %v", tc.action, d.Allowed, tc.allow)
		}
	}
}

func TestDefaultDenyAndDenyOnly(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*",
		"Condition":{"StringEquals":{"p:sub":"bad"}}}]}`)
	d := p.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: "f", Context: map[string][]string{"p:sub": {"good"}}})
	if d.Allowed || !strings.HasPrefix(d.Reason, "denied: no Allow statement") {
		t.Fatalf("got (%v, %q)", d.Allowed, d.Reason)
	}
	// A Deny whose condition fails does not apply; the Allow then wins.
	p = mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringEquals":{"p:sub":"bad"}}},
		{"Effect":"Allow","Principal":{"Federated":"f"},"Action":"*"}]}`)
	if d := p.Evaluate(Request{Action: "sts:AssumeRoleWithWebIdentity", Federated: "f", Context: map[string][]string{"p:sub": {"good"}}}); !d.Allowed {
		t.Fatal(d.Reason)
	}
	if d := p.Evaluate(Request{Action: "sts:AssumeRoleWithWebIdentity", Federated: "f", Context: map[string][]string{"P:SUB": {"bad"}}}); d.Allowed {
		t.Fatal("deny did not win")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{githubPolicy, eksPolicy,
		`{"Version":"2008-10-17","Id":"x","Statement":{"Effect":"Deny","Principal":{"AWS":["*","arn:aws:iam::1:root"],"Service":"s"},"NotAction":"s:a","Condition":{"NumericLessThan":{"p:n":1.5},"Null":{"p:x":true}}}}`} {
		p := mustParse(t, doc)
		b, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		p2, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal) = %v\n%s", err, b)
		}
		b2, _ := p2.MarshalJSON()
		if string(b) != string(b2) {
			t.Fatalf("not stable:\n%s\n%s", b, b2)
		}
	}
	if got := mustParse(t, githubPolicy).FederatedPrincipals(); len(got) != 2 || got[0] != ghARN {
		t.Fatalf("FederatedPrincipals = %q", got)
	}
}

func TestLintLiteralWildcardAndPrincipalStar(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"`+gh+`:sub":"repo:org/*","`+gh+`:aud":"sts.amazonaws.com"}}}}`)
	lint := strings.Join(p.Lint(), "\n")
	for _, w := range []string{`Statement[0].Principal: "*" lets any caller`, `"repo:org/*" is compared literally; use StringLike`} {
		if !strings.Contains(lint, w) {
			t.Errorf("Lint() = %q, missing %q", lint, w)
		}
	}
}

func TestTraceMalformedRequestValue(t *testing.T) {
	t.Parallel()
	p := condPolicy(t, `{"NumericLessThan":{"p:n":5}}`)
	d := p.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: "fed", Context: map[string][]string{"p:n": {"five"}}})
	if d.Allowed || !strings.Contains(d.Reason, `request value "five" is not a valid number`) {
		t.Fatalf("got (%v, %q)", d.Allowed, d.Reason)
	}
}

func TestEmptyActionDenied(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`)
	if d := p.Evaluate(Request{Federated: "f"}); d.Allowed || d.Reason != "denied: the request names no action" {
		t.Fatalf("got (%v, %q)", d.Allowed, d.Reason)
	}
}
