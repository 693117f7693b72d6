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

// nodeLibraryVersion is google-auth-library as pinned in node/package-lock.json.
const nodeLibraryVersion = "10.9.1"

// requireNode finds node and the npm-installed library (`npm ci` in test/interop/node).
func requireNode(t *testing.T) string {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	requireTool(t, err == nil, "node is not on PATH")
	pkg, err := os.ReadFile(filepath.Join("node", "node_modules", "google-auth-library", "package.json"))
	requireTool(t, err == nil, "google-auth-library is not installed (run `npm ci` in test/interop/node)")
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(pkg, &meta); err != nil || meta.Version != nodeLibraryVersion {
		t.Fatalf("node_modules has google-auth-library %q, package-lock.json pins %s: run `npm ci` in test/interop/node", meta.Version, nodeLibraryVersion)
	}
	return nodeBin
}

// nodeToken runs node/gettoken.js; mode is "keyFile" or "credentials" (the two ways an
// application hands a configuration to GoogleAuth).
func nodeToken(t *testing.T, nodeBin, mode, cfgPath string) (token, errText string) {
	t.Helper()
	stdout, stderr, err := runTool(t, 60*time.Second, "node", toolEnv(t), nodeBin, "gettoken.js", mode, cfgPath)
	var out struct {
		Token string `json:"token"`
		Error string `json:"error"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); jerr != nil {
		t.Fatalf("node: %v; stdout %q; stderr %s", err, stdout, stderr)
	}
	if (err == nil) != (out.Error == "") {
		t.Fatalf("node exit %v with output %s (stderr %s)", err, stdout, stderr)
	}
	return out.Token, out.Error
}

func TestNodeGoogleAuthLibrary(t *testing.T) {
	t.Parallel()
	nodeBin := requireNode(t)
	f := startFederation(t)

	t.Run("file/impersonate", func(t *testing.T) {
		t.Parallel()
		w := f.acme(t)
		path := f.credConfig(t, credSpec{template: "oidc-file.json", workload: w, source: sourceFile, impersonate: deployerSA})
		tok, errText := nodeToken(t, nodeBin, "keyFile", path)
		if errText != "" {
			t.Fatalf("google-auth-library: %s", errText)
		}
		f.assertServiceAccount(t, tok, deployerSA, w, time.Hour)
	})

	t.Run("file-json/federated", func(t *testing.T) {
		t.Parallel()
		w := f.pinnedWorkload(t)
		path := f.credConfig(t, credSpec{template: "oidc-file-json-noimp.json", workload: w, source: sourceFile})
		tok, errText := nodeToken(t, nodeBin, "credentials", path)
		if errText != "" {
			t.Fatalf("google-auth-library: %s", errText)
		}
		f.assertFederated(t, tok, w)
	})

	t.Run("url/impersonate", func(t *testing.T) {
		t.Parallel()
		w := f.pinnedWorkload(t)
		path := f.credConfig(t, credSpec{template: "url.json", workload: w, source: sourceURL, impersonate: deployerSA})
		tok, errText := nodeToken(t, nodeBin, "keyFile", path)
		if errText != "" {
			t.Fatalf("google-auth-library: %s", errText)
		}
		f.assertServiceAccount(t, tok, deployerSA, w, 30*time.Minute)
	})

	t.Run("attribute condition denies", func(t *testing.T) {
		t.Parallel()
		w := f.discWorkload(t, "repo:mallory/app:ref:refs/heads/main", "mallory")
		path := f.credConfig(t, credSpec{template: "oidc-file.json", workload: w, source: sourceFile, impersonate: deployerSA})
		tok, errText := nodeToken(t, nodeBin, "keyFile", path)
		if errText == "" {
			t.Fatalf("got a token (%d bytes), want an error", len(tok))
		}
		if !strings.Contains(errText, "unauthorized_client") {
			t.Errorf("error lacks unauthorized_client: %s", errText)
		}
		f.assertDenied(t, errText, "attribute_condition")
	})
}
