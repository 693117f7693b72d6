package interop

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requirePython finds the Python google-auth the Cloud SDK vendors, and the SDK's
// bundled interpreter (python3 on PATH when the SDK ships none).
func requirePython(t *testing.T) (python, pythonPath string) {
	t.Helper()
	bin, err := exec.LookPath("gcloud")
	requireTool(t, err == nil, "gcloud (which vendors Python google-auth) is not on PATH")
	resolved, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	sdk := filepath.Dir(filepath.Dir(resolved))
	pythonPath = filepath.Join(sdk, "lib", "third_party")
	_, err = os.Stat(filepath.Join(pythonPath, "google", "auth", "identity_pool.py"))
	requireTool(t, err == nil, "the Cloud SDK at "+sdk+" vendors no google-auth")
	python = filepath.Join(sdk, "platform", "bundledpythonunix", "bin", "python3")
	if _, err := os.Stat(python); err != nil {
		python, err = exec.LookPath("python3")
		requireTool(t, err == nil, "neither the Cloud SDK's bundled Python nor python3 is available")
	}
	return python, pythonPath
}

func pythonToken(t *testing.T, python, pythonPath, cfgPath string) (token, errText string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "google_auth_token.py"))
	if err != nil {
		t.Fatal(err)
	}
	env := toolEnv(t, "PYTHONPATH="+pythonPath, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	stdout, stderr, err := runTool(t, 60*time.Second, t.TempDir(), env, python, script, cfgPath)
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

func TestPythonGoogleAuth(t *testing.T) {
	t.Parallel()
	python, pythonPath := requirePython(t)
	f := startFederation(t)

	// Python asks STS for the auth/iam scope when impersonating and parses expireTime
	// with a fixed pattern: both must work.
	t.Run("file/impersonate", func(t *testing.T) {
		t.Parallel()
		w := f.acme(t)
		path := f.credConfig(t, credSpec{template: "oidc-file.json", workload: w, source: sourceFile, impersonate: deployerSA})
		tok, errText := pythonToken(t, python, pythonPath, path)
		if errText != "" {
			t.Fatalf("google-auth: %s", errText)
		}
		f.assertServiceAccount(t, tok, deployerSA, w, time.Hour)
	})

	t.Run("url/impersonate", func(t *testing.T) {
		t.Parallel()
		w := f.pinnedWorkload(t)
		path := f.credConfig(t, credSpec{template: "url.json", workload: w, source: sourceURL, impersonate: deployerSA})
		tok, errText := pythonToken(t, python, pythonPath, path)
		if errText != "" {
			t.Fatalf("google-auth: %s", errText)
		}
		f.assertServiceAccount(t, tok, deployerSA, w, 30*time.Minute)
	})

	t.Run("file-json/federated", func(t *testing.T) {
		t.Parallel()
		w := f.pinnedWorkload(t)
		path := f.credConfig(t, credSpec{template: "oidc-file-json-noimp.json", workload: w, source: sourceFile})
		tok, errText := pythonToken(t, python, pythonPath, path)
		if errText != "" {
			t.Fatalf("google-auth: %s", errText)
		}
		f.assertFederated(t, tok, w)
	})

	t.Run("no binding denies", func(t *testing.T) {
		t.Parallel()
		w := f.acme(t)
		path := f.credConfig(t, credSpec{template: "oidc-file.json", workload: w, source: sourceFile, impersonate: nobodySA})
		tok, errText := pythonToken(t, python, pythonPath, path)
		if errText == "" {
			t.Fatalf("got a token (%d bytes), want an error", len(tok))
		}
		if !strings.Contains(errText, "PERMISSION_DENIED") {
			t.Errorf("error lacks PERMISSION_DENIED: %s", errText)
		}
		f.assertDenied(t, errText, "authorize")
	})
}
