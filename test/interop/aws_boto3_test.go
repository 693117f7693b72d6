package interop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// presignedFetch is a presigned URL and what fetching it returned.
type presignedFetch struct {
	URL    string `json:"url"`
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// boto3Result is testdata/aws/boto3_sts.py's output.
type boto3Result struct {
	Method        string         `json:"method"`
	Identity      callerIdentity `json:"identity"`
	PresignedGet  presignedFetch `json:"presigned_get"`
	PresignedPost presignedFetch `json:"presigned_post"`
	Error         string         `json:"error"`
	Code          string         `json:"code"`
	ImportError   string         `json:"import_error"`
}

// boto3Run runs the script with a web identity environment (token file, role, session).
func boto3Run(t *testing.T, python string, f *awsFederation, token, session string) boto3Result {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "aws", "boto3_sts.py"))
	if err != nil {
		t.Fatal(err)
	}
	env := awsEnv(t, "AWS_DEFAULT_REGION=us-west-2", "AWS_ENDPOINT_URL_STS="+f.URL,
		"AWS_WEB_IDENTITY_TOKEN_FILE="+writeToken(t, token), "AWS_ROLE_ARN="+awsRoleARN(awsRole),
		"AWS_ROLE_SESSION_NAME="+session, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), env, python, script, f.URL)
	var out boto3Result
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("python: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	requireTool(t, out.ImportError == "", "boto3 does not import: "+out.ImportError)
	if (err == nil) != (out.Error == "") {
		t.Fatalf("python exit %v with output %s (stderr %s)", err, stdout, stderr)
	}
	return out
}

func TestAWSBoto3(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	requireTool(t, err == nil, "python3 (for boto3) is not on PATH")
	f := startAWSFederation(t)

	t.Run("web identity", func(t *testing.T) {
		t.Parallel()
		out := boto3Run(t, python, f, f.webToken(t, "acme", "app"), "boto-sess")
		if out.Error != "" {
			t.Fatalf("boto3: %s", out.Error)
		}
		if out.Method != "assume-role-with-web-identity" {
			t.Errorf("credentials method %q, want assume-role-with-web-identity", out.Method)
		}
		assertCallerIdentity(t, out.Identity, awsRole, "boto-sess")

		// Both presigned URLs point at keyless, carry the session token in the query, and
		// verify with the method they were signed for.
		wantARN := "<Arn>" + awsAssumedRoleARN(awsRole, "boto-sess") + "</Arn>"
		for _, p := range []presignedFetch{out.PresignedGet, out.PresignedPost} {
			u, err := url.Parse(p.URL)
			if err != nil {
				t.Fatal(err)
			}
			qs := u.Query()
			if u.Scheme+"://"+u.Host != f.URL || qs.Get("Action") != "GetCallerIdentity" || qs.Get("X-Amz-Security-Token") == "" ||
				qs.Get("X-Amz-Signature") == "" || !strings.HasSuffix(qs.Get("X-Amz-Credential"), "/us-west-2/sts/aws4_request") {
				t.Errorf("presigned URL %s", p.URL)
			}
			if p.Status != http.StatusOK || !strings.Contains(p.Body, wantARN) || !strings.Contains(p.Body, "<Account>"+awsAccountID+"</Account>") {
				t.Errorf("presigned GetCallerIdentity %s: %d %s", p.URL, p.Status, p.Body)
			}
		}

		// The method is signed: the POST-signed URL does not verify as a GET (AWS answers
		// the same). Neither does the GET URL with one parameter changed.
		status, body := httpGet(t, out.PresignedPost.URL)
		if status != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("POST-signed URL fetched with GET: %d %s", status, body)
		} else {
			f.assertAWSDenied(t, body, "SignatureDoesNotMatch", "signature")
		}
		u, err := url.Parse(out.PresignedGet.URL)
		if err != nil {
			t.Fatal(err)
		}
		qs := u.Query()
		qs.Set("X-Amz-Expires", "600")
		u.RawQuery = qs.Encode()
		status, body = httpGet(t, u.String())
		if status != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("tampered presigned URL: %d %s", status, body)
		}
	})

	t.Run("trust policy denies", func(t *testing.T) {
		t.Parallel()
		out := boto3Run(t, python, f, f.webToken(t, "evil", "app"), "boto-denied")
		if out.Error == "" {
			t.Fatalf("boto3 got an identity: %+v", out.Identity)
		}
		if out.Code != "AccessDenied" {
			t.Errorf("error code %q, want AccessDenied", out.Code)
		}
		f.assertAWSDenied(t, out.Error, "AccessDenied", "trust_policy")
	})
}

// httpGet fetches url on loopback and returns the status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
