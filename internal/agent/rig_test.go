package agent_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/agent"
	"github.com/keylessdev/keyless/internal/agent/refresh"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// rig is a keyless server with the AWS federation (keylesstest.WithAWS) and the files
// agents need to reach it, directly or through a toggleProxy (the upstream arguments).
type rig struct {
	f        *keylesstest.Fixture
	dir      string
	webToken string // path of the web identity token file
}

func newRig(tb testing.TB) *rig {
	tb.Helper()
	f := keylesstest.Start(tb, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) })
	r := &rig{f: f, dir: tb.TempDir()}
	// Minted with a 10 minute lifetime: the file is re-read at every AWS refresh.
	r.webToken = r.write(tb, "web-identity-token", f.AWSToken(tb, "app", nil))
	return r
}

func (r *rig) write(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// credentialConfig writes the chained external_account configuration: AWS credentials
// (from the agent's own AWS pipeline) → aws4_request → the deployer service account,
// whose tokens live lifetimeSeconds (0: generateAccessToken's default, one hour).
func (r *rig) credentialConfig(tb testing.TB, upstream string, lifetimeSeconds int) string {
	tb.Helper()
	m := map[string]any{
		"type": "external_account", "audience": keylesstest.AWSAudience(),
		"subject_token_type": "urn:ietf:params:aws:token-type:aws4_request", "token_url": upstream + "/v1/token",
		"service_account_impersonation_url": upstream + "/v1/projects/-/serviceAccounts/" + keylesstest.SAEmail + ":generateAccessToken",
		"credential_source": map[string]any{"environment_id": "aws1",
			"regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"},
	}
	if lifetimeSeconds > 0 {
		m["service_account_impersonation"] = map[string]any{"token_lifetime_seconds": lifetimeSeconds}
	}
	b, _ := json.Marshal(m)
	return r.write(tb, fmt.Sprintf("gcp-%s-%d.json", fingerprint(upstream), lifetimeSeconds), string(b))
}

// chainConfig is an agent with both pipelines (Google federated through the AWS one),
// serving GCE metadata, IMDS and status.
func (r *rig) chainConfig(tb testing.TB, upstream string, googleLifetimeSeconds int) *agent.Config {
	tb.Helper()
	return r.parse(tb, `
google:
  credentialConfig: `+r.credentialConfig(tb, upstream, googleLifetimeSeconds)+`
  projectId: `+keylesstest.ProjectID+`
  projectNumber: "`+keylesstest.ProjectNumber+`"
aws:
  roleArn: `+keylesstest.AWSRoleARN()+`
  webIdentityTokenFile: `+r.webToken+`
  stsEndpoint: `+upstream+`
  region: us-east-1
  roleSessionName: chain
serve:
  gceMetadata: 127.0.0.1:0
  imds: 127.0.0.1:0
  status: 127.0.0.1:0
`)
}

// awsConfig is an agent with only the AWS pipeline (sessions of durationSeconds),
// serving IMDS and status.
func (r *rig) awsConfig(tb testing.TB, upstream string, durationSeconds int) *agent.Config {
	tb.Helper()
	return r.parse(tb, `
aws:
  roleArn: `+keylesstest.AWSRoleARN()+`
  webIdentityTokenFile: `+r.webToken+`
  stsEndpoint: `+upstream+`
  region: us-east-1
  roleSessionName: imds-only
  durationSeconds: `+fmt.Sprint(durationSeconds)+`
serve:
  imds: 127.0.0.1:0
  status: 127.0.0.1:0
`)
}

func (r *rig) parse(tb testing.TB, doc string) *agent.Config {
	tb.Helper()
	cfg, err := agent.ParseConfig([]byte(doc), "agent.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// runAgent builds and runs an agent until the test ends.
func runAgent(tb testing.TB, cfg *agent.Config, ro refresh.Options, h slog.Handler) *agent.Agent {
	tb.Helper()
	if h == nil {
		h = slog.NewTextHandler(io.Discard, nil)
	}
	a, err := agent.New(agent.Options{Config: cfg, Logger: slog.New(h), Refresh: ro})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("agent: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Error("agent did not stop")
		}
	})
	return a
}

// waitHealthy waits until the agent's /status reports every pipeline valid.
func waitHealthy(tb testing.TB, a *agent.Agent, within time.Duration) {
	tb.Helper()
	c := newClient(tb)
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := c.Get("http://" + a.Addrs["status"] + "/status")
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			return
		}
	}
	tb.Fatalf("agent not healthy within %v", within)
}

// newClient is a client with its own keep-alive connection pool, closed with the test.
func newClient(tb testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

const gceTokenPath = "/computeMetadata/v1/instance/service-accounts/default/token"

func imdsCredsPath() string {
	return "/latest/meta-data/iam/security-credentials/" + keylesstest.AWSRoleName
}

// imdsSessionToken obtains an IMDSv2 session token (6 hours).
func imdsSessionToken(tb testing.TB, c *http.Client, addr string) string {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "21600")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(b) == 0 {
		tb.Fatalf("imds token: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// jwtTimes reads iat and exp from a JWT's payload (unverified: the chain test verifies
// signatures; here only the lifetime matters).
func jwtTimes(tok string) (iat, exp int64, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return 0, 0, fmt.Errorf("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0, 0, err
	}
	var c struct{ Iat, Exp int64 }
	if err := json.Unmarshal(b, &c); err != nil {
		return 0, 0, err
	}
	if c.Exp == 0 {
		return 0, 0, fmt.Errorf("no exp")
	}
	return c.Iat, c.Exp, nil
}

// eventLog records the agents' refresh log lines (which never carry a credential) with
// the time they were emitted, for the rotation test's timeline.
type eventLog struct {
	mu   sync.Mutex
	recs []logEvent
}

type logEvent struct {
	At          time.Time
	Level       slog.Level
	Agent       string
	Msg         string
	Pipeline    string
	Expires     time.Time // "credential refreshed" only (whole seconds, rounded down)
	Consecutive int64
	Err         string
	Took        time.Duration // the fetch attempt's duration ("credential refreshed", rounded to ms)
}

func (l *eventLog) handler(agentName string) slog.Handler {
	return &logRecorder{l: l, agent: agentName}
}

// events returns the recorded events of agentName's pipeline with message msg.
func (l *eventLog) events(agentName, pipeline, msg string) []logEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logEvent
	for _, e := range l.recs {
		if e.Agent == agentName && e.Pipeline == pipeline && e.Msg == msg {
			out = append(out, e)
		}
	}
	return out
}

func (l *eventLog) all() []logEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logEvent(nil), l.recs...)
}

type logRecorder struct {
	l     *eventLog
	agent string
}

func (h *logRecorder) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h *logRecorder) WithGroup(string) slog.Handler                 { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	e := logEvent{At: r.Time, Level: r.Level, Agent: h.agent, Msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "pipeline":
			e.Pipeline = a.Value.String()
		case "expires":
			e.Expires, _ = time.Parse(time.RFC3339, a.Value.String())
		case "took":
			if a.Value.Kind() == slog.KindDuration {
				e.Took = a.Value.Duration()
			}
		case "consecutive":
			e.Consecutive = a.Value.Int64()
		case "err":
			e.Err = fmt.Sprint(a.Value.Any())
		}
		return true
	})
	h.l.mu.Lock()
	h.l.recs = append(h.l.recs, e)
	h.l.mu.Unlock()
	return nil
}
