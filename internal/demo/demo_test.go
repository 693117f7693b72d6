package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/config"
)

// runDemo starts the demo on loopback with configure applied and runs it once.
func runDemo(t *testing.T, configure func(*config.Config)) (*Demo, string) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := Start(ctx, Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Out: &out, configure: configure})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Run(ctx); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	d.client.CloseIdleConnections()
	return d, out.String()
}

func TestDemoRunsEveryScenarioAsExpected(t *testing.T) {
	t.Parallel()
	d, out := runDemo(t, nil)
	if d.Failures != 0 || strings.Contains(out, "UNEXPECTED") {
		t.Fatalf("%d unexpected outcomes:\n%s", d.Failures, out)
	}
	if len(d.Results) != 7 {
		t.Fatalf("%d scenarios ran, want 7:\n%s", len(d.Results), out)
	}
	session := "arn:aws:sts::" + AWSAccountID + ":assumed-role/" + AWSRoleName + "/checkout-7d9f8"
	for _, want := range []string{
		// cross-cloud chain
		"aws-sdk-go-v2 AssumeRoleWithWebIdentity -> " + session,
		"GetCallerIdentity signed (SigV4) with them -> " + session,
		"token for " + CheckoutSA,
		"audit: every link carries correlation chain=",
		"google.sts token", "google.iamcredentials generateAccessToken",
		// trust policy denial, as the SDK shows it and explained
		"api error AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity (keyless decision ",
		"aws.sts AssumeRoleWithWebIdentity  outcome=deny reason=trust_policy",
		"aws identity:    WebIdentityUser system:serviceaccount:payments:checkout",
		`Statement[0] (Sid "CheckoutServiceAccount") Allow does not match: condition failed`,
		`request ["system:serviceaccount:payments:checkout"]  policy ["system:serviceaccount:shop:checkout"]`,
		"condition keys of the request:",
		// the Google scenarios
		"unauthorized_client", "PERMISSION_DENIED", "invalid_grant", "Try it by hand",
		"aws sts assume-role-with-web-identity --endpoint-url " + d.Server.URL,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestDemoCountsUnexpectedOutcomes changes the federation so the AWS scenarios
// behave differently and checks that the demo notices: the role trusts namespace
// payments too (scenario 7 no longer denied), and checkout-sa loses its binding
// (the chain of scenario 6 breaks at impersonation).
func TestDemoCountsUnexpectedOutcomes(t *testing.T) {
	t.Parallel()
	d, out := runDemo(t, func(c *config.Config) {
		r := &c.AWS.Accounts[0].Roles[0]
		r.AssumeRolePolicyDocument = []byte(strings.Replace(string(r.AssumeRolePolicyDocument),
			`"`+checkoutSubject+`"`, `["`+checkoutSubject+`","system:serviceaccount:payments:checkout"]`, 1))
		sas := c.Google.Projects[0].ServiceAccounts
		sas[len(sas)-1].IAMPolicy = nil
	})
	if len(d.Results) != 7 {
		t.Fatalf("%d scenarios ran:\n%s", len(d.Results), out)
	}
	for i, r := range d.Results {
		if want := i >= 5; (r.Unexpected > 0) != want {
			t.Errorf("scenario %d %q: %d unexpected outcomes", i+1, r.Title, r.Unexpected)
		}
	}
	if d.Failures != d.Results[5].Unexpected+d.Results[6].Unexpected {
		t.Errorf("Failures = %d, results %+v", d.Failures, d.Results)
	}
	for _, want := range []string{"UNEXPECTED: Google federation from AWS", "UNEXPECTED: AssumeRoleWithWebIdentity succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
