package awsmeta

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Interop tests run real, unmodified clients (aws-sdk-go-v2, boto3, awscli, the
// JavaScript SDK) in subprocesses against loopback servers. Each subprocess gets
// an explicit environment, so the tests run in parallel.

// seen records what a real client asked and what it got.
type seen struct {
	mu   sync.Mutex
	reqs []string
}

func (s *seen) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reqs = append(s.reqs, fmt.Sprintf("%s %s -> %d", r.Method, r.URL.Path, rec.status))
	})
}

func (s *seen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.reqs, "\n")
}

// assertClean fails if any request was refused: a client that fell back to
// IMDSv1 or sent a wrong header shows up here.
func (s *seen) assertClean(t *testing.T) {
	t.Helper()
	out := s.String()
	if out == "" || strings.Contains(out, "-> 4") || strings.Contains(out, "-> 5") {
		t.Errorf("requests:\n%s", out)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// liveProvider holds credentials valid for an hour of real time (clients use
// their own clocks).
func liveProvider() *fakeProvider { return newFakeProvider(time.Now().Add(time.Hour)) }

func startIMDS(t *testing.T) (*httptest.Server, *seen) {
	t.Helper()
	logs := &logBuffer{}
	h, err := NewIMDS(IMDSOptions{
		RoleName: testRole, Credentials: liveProvider(), Region: "us-west-2",
		InstanceID: "i-0123456789abcdef0", Logger: logs.logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &seen{}
	srv := httptest.NewServer(s.wrap(h))
	t.Cleanup(func() {
		srv.Close()
		assertNoSecrets(t, "log", logs.String())
	})
	return srv, s
}

func startContainer(t *testing.T, mod func(*ContainerOptions)) (*httptest.Server, *seen) {
	t.Helper()
	logs := &logBuffer{}
	opts := ContainerOptions{Credentials: liveProvider(), RoleARN: "arn:aws:iam::123456789012:role/keyless-role", Logger: logs.logger()}
	mod(&opts)
	h, err := NewContainer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &seen{}
	srv := httptest.NewServer(s.wrap(h))
	t.Cleanup(func() {
		srv.Close()
		assertNoSecrets(t, "log", logs.String(), opts.AuthToken)
	})
	return srv, s
}

// clientEnv is the current environment without AWS settings or proxies, with
// config files pointing nowhere.
func clientEnv(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasSuffix(strings.ToUpper(k), "_PROXY"), strings.HasPrefix(k, "NODE_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
		"NO_PROXY=127.0.0.1,localhost",
	)
}

// imdsEnv points a client at srv as its IMDS, with nothing else to find.
func imdsEnv(t *testing.T, srv *httptest.Server) []string {
	return append(clientEnv(t), "AWS_EC2_METADATA_SERVICE_ENDPOINT="+srv.URL)
}

// containerEnv points a client at srv as its container endpoint; IMDS is off so
// a failure cannot be masked by the next provider in the chain.
func containerEnv(t *testing.T, srv *httptest.Server, extra ...string) []string {
	env := append(clientEnv(t), "AWS_CONTAINER_CREDENTIALS_FULL_URI="+srv.URL+"/v1/credentials", "AWS_EC2_METADATA_DISABLED=true")
	return append(env, extra...)
}

// tokenFile writes an authorization token file (no trailing newline).
func tokenFile(t *testing.T, tok string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "eks-pod-identity-token")
	if err := os.WriteFile(p, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run executes a client; it returns stdout and whether it exited 0.
func run(t *testing.T, env []string, name string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out; stderr:\n%s", name, stderr.String())
	}
	if err != nil {
		t.Logf("%s: %v; stderr:\n%s", name, err, stderr.String())
	}
	return string(out), err == nil
}
