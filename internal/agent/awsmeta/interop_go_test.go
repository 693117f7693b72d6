package awsmeta

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildGoSDKClient builds test/clients/awssdkgo, an unmodified aws-sdk-go-v2 program
// (config.LoadDefaultConfig), from this module.
func buildGoSDKClient(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "awssdkgo")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/keylessdev/keyless/test/clients/awssdkgo")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the aws-sdk-go-v2 client: %v\n%s", err, out)
	}
	return bin
}

type goSDKResult struct {
	AccessKeyID, SecretAccessKey, SessionToken, Source, AccountID, Region, Error string
	CanExpire                                                                    bool
	Expires                                                                      time.Time
}

func runGoSDK(t *testing.T, bin string, env []string, args ...string) (goSDKResult, bool) {
	t.Helper()
	out, ok := run(t, env, bin, args...)
	var res goSDKResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	return res, ok
}

func checkGoSDKCreds(t *testing.T, res goSDKResult, source string) {
	t.Helper()
	if res.AccessKeyID != testAccessKey || res.SecretAccessKey != testSecret || res.SessionToken != testSession ||
		res.Source != source || !res.CanExpire || time.Until(res.Expires) < 50*time.Minute {
		t.Errorf("aws-sdk-go-v2 resolved %+v, want the served credentials from %s", res, source)
	}
}

func TestInteropGoSDK(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not found")
	}
	bin := buildGoSDKClient(t)

	t.Run("IMDS", func(t *testing.T) {
		t.Parallel()
		srv, seen := startIMDS(t)
		res, ok := runGoSDK(t, bin, imdsEnv(t, srv), "-imds-region")
		if !ok {
			t.Fatalf("client failed: %s\n%s", res.Error, seen)
		}
		checkGoSDKCreds(t, res, "EC2RoleProvider")
		if res.Region != "us-west-2" {
			t.Errorf("region from the identity document: %q", res.Region)
		}
		seen.assertClean(t)
		if !strings.Contains(seen.String(), "GET /latest/dynamic/instance-identity/document -> 200") {
			t.Errorf("identity document not read:\n%s", seen)
		}
	})
	t.Run("container token", func(t *testing.T) {
		t.Parallel()
		srv, seen := startContainer(t, func(o *ContainerOptions) { o.AuthToken = testAuth })
		res, ok := runGoSDK(t, bin, containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN="+testAuth))
		if !ok {
			t.Fatalf("client failed: %s", res.Error)
		}
		checkGoSDKCreds(t, res, "CredentialsEndpointProvider")
		if res.AccountID != testAccount {
			t.Errorf("account id %q", res.AccountID)
		}
		seen.assertClean(t)
	})
	t.Run("container token file", func(t *testing.T) {
		t.Parallel()
		path := tokenFile(t, "secret-auth-token-from-file")
		srv, seen := startContainer(t, func(o *ContainerOptions) { o.AuthTokenFile = path })
		// The file wins over the variable in every SDK.
		res, ok := runGoSDK(t, bin, containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="+path, "AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong"))
		if !ok {
			t.Fatalf("client failed: %s", res.Error)
		}
		checkGoSDKCreds(t, res, "CredentialsEndpointProvider")
		seen.assertClean(t)
	})
	t.Run("container wrong token", func(t *testing.T) {
		t.Parallel()
		srv, _ := startContainer(t, func(o *ContainerOptions) { o.AuthToken = testAuth })
		res, ok := runGoSDK(t, bin, containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN=Basic wrong"))
		// The SDK decodes our JSON error: code and message reach the caller.
		if ok || !strings.Contains(res.Error, "AccessDenied: invalid authorization token") {
			t.Errorf("wrong token: ok=%v error=%q", ok, res.Error)
		}
	})
}
