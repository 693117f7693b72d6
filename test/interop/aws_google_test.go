package interop

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSOAuth2ExternalAccount drives golang.org/x/oauth2/google's aws credential source
// from a credential configuration file. That source reads the region and the keys from
// the process environment only, so this test sets them with t.Setenv and is not parallel
// (its parallel neighbours are paused while it runs, so they never see the variables).
func TestAWSOAuth2ExternalAccount(t *testing.T) {
	f := startAWSFederation(t)
	deployer := f.assume(t, awsRole, "go-chain")
	reader := f.assume(t, awsReaderRole, "go-reader")
	other := f.assumeARN(t, otherRoleARN(), "arn:aws:sts::"+otherAccountID+":assumed-role/"+awsRole+"/go-other", "go-other")
	for _, tc := range []struct {
		name        string
		creds       awsCreds
		region      string
		impersonate string
		want        workload
		denied      string // failed stage in the decision; "" if a token is expected
	}{
		{"impersonate", deployer, "us-west-2", deployerSA, awsWorkload(awsRole, "go-chain"), ""},
		{"federated", reader, awsRegion, "", awsWorkload(awsReaderRole, "go-reader"), ""},
		{"other role not bound", reader, awsRegion, deployerSA, workload{}, "authorize"},
		// The same role name and path in an account the provider does not trust.
		{"other account", other, awsRegion, deployerSA, workload{}, "credential"},
		// The session's secret does not sign what the session token names.
		{"wrong secret", awsCreds{deployer.AccessKeyID, reader.SecretAccessKey, deployer.SessionToken}, awsRegion, deployerSA, workload{}, "credential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, kv := range tc.creds.env(tc.region) {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			t.Setenv("AWS_DEFAULT_REGION", "")
			start := time.Now()
			tok, err := oauth2Token(t, f.googleAWSConfig(t, tc.impersonate))
			if tc.denied != "" {
				if err == nil {
					t.Fatalf("got a token (%d bytes), want an error", len(tok.AccessToken))
				}
				f.assertDenied(t, err.Error(), tc.denied)
				return
			}
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tc.impersonate == "" {
				f.assertFederated(t, tok.AccessToken, tc.want)
				return
			}
			f.assertServiceAccount(t, tok.AccessToken, tc.impersonate, tc.want, time.Hour)
			if d := tok.Expiry.Sub(start); d < 59*time.Minute || d > 61*time.Minute {
				t.Errorf("expiry in %s, want about an hour", d)
			}
		})
	}
}

// TestAWSPythonGoogleAuth drives the Cloud SDK's Python google-auth aws credential source
// (the one gcloud itself uses) with keys keyless issued.
func TestAWSPythonGoogleAuth(t *testing.T) {
	t.Parallel()
	python, pythonPath := requirePython(t)
	f := startAWSFederation(t)
	script, err := filepath.Abs(filepath.Join("testdata", "aws", "google_auth_aws.py"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, creds awsCreds, region, impersonate string) (token, errText string) {
		t.Helper()
		env := awsEnv(t, append(creds.env(region), "PYTHONPATH="+pythonPath, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")...)
		stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), env, python, script, f.googleAWSConfig(t, impersonate))
		var out struct {
			Token       string `json:"token"`
			Error       string `json:"error"`
			ImportError string `json:"import_error"`
		}
		if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
			t.Fatalf("python: %v; stdout %q; stderr %s", err, stdout, stderr)
		}
		requireTool(t, out.ImportError == "", "the vendored google-auth does not import: "+out.ImportError)
		if (err == nil) != (out.Error == "") {
			t.Fatalf("python exit %v with output %s (stderr %s)", err, stdout, stderr)
		}
		return out.Token, out.Error
	}

	// Python asks STS for the auth/iam scope before impersonating, and serializes the
	// signed request with lowercase header keys and sorted JSON keys.
	t.Run("impersonate", func(t *testing.T) {
		t.Parallel()
		creds := f.assume(t, awsRole, "py-chain")
		tok, errText := run(t, creds, "eu-west-1", deployerSA)
		if errText != "" {
			t.Fatalf("google-auth: %s", errText)
		}
		f.assertServiceAccount(t, tok, deployerSA, awsWorkload(awsRole, "py-chain"), time.Hour)
	})

	t.Run("federated", func(t *testing.T) {
		t.Parallel()
		creds := f.assume(t, awsRole, "py-fed")
		tok, errText := run(t, creds, awsRegion, "")
		if errText != "" {
			t.Fatalf("google-auth: %s", errText)
		}
		f.assertFederated(t, tok, awsWorkload(awsRole, "py-fed"))
	})

	t.Run("other role not bound", func(t *testing.T) {
		t.Parallel()
		creds := f.assume(t, awsReaderRole, "py-reader")
		tok, errText := run(t, creds, awsRegion, deployerSA)
		if errText == "" {
			t.Fatalf("got a token (%d bytes), want an error", len(tok))
		}
		if !strings.Contains(errText, "PERMISSION_DENIED") {
			t.Errorf("error lacks PERMISSION_DENIED: %s", errText)
		}
		f.assertDenied(t, errText, "authorize")
	})
}
