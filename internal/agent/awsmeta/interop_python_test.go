package awsmeta

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// botoScript resolves credentials through botocore's default chain.
const botoScript = `
import json, boto3
s = boto3.Session()
c = s.get_credentials()
if c is None:
    print(json.dumps({"error": "no credentials"}))
    raise SystemExit(1)
f = c.get_frozen_credentials()
print(json.dumps({"access_key": f.access_key, "secret_key": f.secret_key, "token": f.token, "method": c.method}))
`

type botoResult struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
	Token     string `json:"token"`
	Method    string `json:"method"`
	Error     string `json:"error"`
}

func runBoto(t *testing.T, env []string) botoResult {
	t.Helper()
	out, ok := run(t, env, "python3", "-c", botoScript)
	var res botoResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || !ok {
		t.Fatalf("boto3: ok=%v output %q", ok, out)
	}
	return res
}

func requirePython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
}

func TestInteropBoto3(t *testing.T) {
	t.Parallel()
	requirePython(t)
	for _, tc := range []struct {
		name, method string
		start        func(t *testing.T) ([]string, *seen)
	}{
		{"IMDS", "iam-role", func(t *testing.T) ([]string, *seen) {
			srv, s := startIMDS(t)
			return imdsEnv(t, srv), s
		}},
		{"container token", "container-role", func(t *testing.T) ([]string, *seen) {
			srv, s := startContainer(t, func(o *ContainerOptions) { o.AuthToken = testAuth })
			return containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN="+testAuth), s
		}},
		{"container token file", "container-role", func(t *testing.T) ([]string, *seen) {
			path := tokenFile(t, "secret-auth-token-from-file")
			srv, s := startContainer(t, func(o *ContainerOptions) { o.AuthTokenFile = path })
			return containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="+path), s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, seen := tc.start(t)
			res := runBoto(t, env)
			if res.AccessKey != testAccessKey || res.SecretKey != testSecret || res.Token != testSession || res.Method != tc.method {
				t.Errorf("boto3 resolved %+v", res)
			}
			seen.assertClean(t)
		})
	}
}

// TestInteropAWSCLI uses "aws configure list", which resolves credentials
// through the full chain and prints the key's last four characters and the
// provider type without calling AWS (awscli v1 has no export-credentials).
func TestInteropAWSCLI(t *testing.T) {
	t.Parallel()
	requirePython(t)
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws (awscli) not found")
	}
	t.Run("IMDS", func(t *testing.T) {
		t.Parallel()
		srv, seen := startIMDS(t)
		out, ok := run(t, imdsEnv(t, srv), "aws", "configure", "list")
		if !ok || !strings.Contains(out, "****"+testAccessKey[len(testAccessKey)-4:]) || !strings.Contains(out, "iam-role") {
			t.Errorf("aws configure list:\n%s", out)
		}
		seen.assertClean(t)
	})
	t.Run("container token file", func(t *testing.T) {
		t.Parallel()
		path := tokenFile(t, "secret-auth-token-from-file")
		srv, seen := startContainer(t, func(o *ContainerOptions) { o.AuthTokenFile = path })
		out, ok := run(t, containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="+path), "aws", "configure", "list")
		if !ok || !strings.Contains(out, "****"+testAccessKey[len(testAccessKey)-4:]) || !strings.Contains(out, "container-role") {
			t.Errorf("aws configure list:\n%s", out)
		}
		seen.assertClean(t)
	})
}
