package awsmeta

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodeScript calls one provider of @aws-sdk/credential-providers.
const nodeScript = `
const p = require("@aws-sdk/credential-providers");
const which = process.argv[1];
const provider = {
  imds: () => p.fromInstanceMetadata({ timeout: 5000, maxRetries: 0 }),
  container: () => p.fromContainerMetadata({ timeout: 5000, maxRetries: 0 }),
  http: () => p.fromHttp({}),
}[which]();
provider().then(
  (c) => console.log(JSON.stringify({ ...c, expiration: c.expiration && c.expiration.toISOString() })),
  (e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(1); },
);
`

type nodeResult struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      string `json:"expiration"`
	AccountID       string `json:"accountId"`
	Error           string `json:"error"`
}

func TestInteropNode(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found")
	}
	modules, err := filepath.Abs(filepath.Join("..", "..", "..", "test", "interop", "node", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "@aws-sdk", "credential-providers")); err != nil {
		t.Skipf("@aws-sdk/credential-providers not installed: %v", err)
	}
	for _, tc := range []struct {
		name, provider string
		start          func(t *testing.T) ([]string, *seen)
	}{
		{"fromInstanceMetadata", "imds", func(t *testing.T) ([]string, *seen) {
			srv, s := startIMDS(t)
			return imdsEnv(t, srv), s
		}},
		{"fromContainerMetadata token", "container", func(t *testing.T) ([]string, *seen) {
			srv, s := startContainer(t, func(o *ContainerOptions) { o.AuthToken = testAuth })
			return containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN="+testAuth), s
		}},
		{"fromHttp token file", "http", func(t *testing.T) ([]string, *seen) {
			path := tokenFile(t, "secret-auth-token-from-file")
			srv, s := startContainer(t, func(o *ContainerOptions) { o.AuthTokenFile = path })
			return containerEnv(t, srv, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="+path), s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, seen := tc.start(t)
			out, ok := run(t, append(env, "NODE_PATH="+modules), "node", "-e", nodeScript, tc.provider)
			var res nodeResult
			if err := json.Unmarshal([]byte(out), &res); err != nil || !ok {
				t.Fatalf("node: ok=%v output %q\n%s", ok, out, seen)
			}
			exp, err := time.Parse(time.RFC3339, res.Expiration)
			if res.AccessKeyID != testAccessKey || res.SecretAccessKey != testSecret || res.SessionToken != testSession ||
				err != nil || time.Until(exp) < 50*time.Minute {
				t.Errorf("node resolved %+v", res)
			}
			seen.assertClean(t)
		})
	}
}
