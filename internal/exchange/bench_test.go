//go:build unix

package exchange_test

// Benchmarks of the exchange pipeline without HTTP, and of the crypto floor it is
// compared with (docs/benchmarks.md). The floor is measured in the same binary so the
// ratio pipeline/floor is independent of the machine. Besides ns/op (wall time, which
// for the audited serial benchmark includes waiting for the fsync of each commit) every
// benchmark reports cpu-ns/op, the process CPU time per operation, which is what the
// floor is compared with (unix only: getrusage).

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/signing"
	"github.com/keylessdev/keyless/internal/store/sqlite"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// benchTokens is the number of distinct subject tokens each benchmark cycles through:
// enough that no per-token shortcut could hide the work, few enough to mint quickly.
const benchTokens = 128

var stsMeta = exchange.Meta{Dialect: "google.sts", Method: "token", CallerIP: "127.0.0.1", UserAgent: "keyless-bench"}

// benchEnv is an Engine over the standard test federation (RS256 issuer with pinned
// JWKS, a 3-attribute mapping and a condition), signing ES256, and optionally auditing
// to a real SQLite store through the group-commit writer.
type benchEnv struct {
	eng    *exchange.Engine
	keys   *signing.Keyring
	issuer *testissuer.Issuer
	st     *sqlite.Store
	tokens []string
	// commits and events count audit group commits and the events they held.
	commits, events atomic.Int64
}

func newBenchEnv(tb testing.TB, withAudit bool) *benchEnv {
	tb.Helper()
	ctx := context.Background()
	is, err := testissuer.Start(testissuer.Options{Alg: "RS256"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(is.Close)
	cfg := keylesstest.StandardConfig(is)
	cfg.Issuer = "https://keyless.bench.example"
	cfg.Server = &config.Server{AllowInsecureHTTPIssuers: true}
	prov := &cfg.Google.Projects[0].WorkloadIdentityPools[0].Providers[0]
	prov.AttributeMapping["attribute.ref"] = "assertion.ref"
	if probs := cfg.Validate(); len(probs) > 0 {
		tb.Fatalf("bench config invalid: %v", probs)
	}
	snap, probs := exchange.Compile(cfg, nil)
	if len(probs) > 0 {
		tb.Fatalf("compile: %v", probs)
	}
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "keyless.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	keys, err := signing.Open(ctx, st, signing.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	env := &benchEnv{keys: keys, issuer: is, st: st, tokens: mintTokens(tb, is, benchTokens, "acme")}
	opts := exchange.Options{Signer: keys, SigningAlg: signing.ES256}
	if withAudit {
		w := audit.NewWriter(audit.WriterOptions{Store: st, OnCommit: func(n int, _ time.Duration) {
			env.commits.Add(1)
			env.events.Add(int64(n))
		}})
		tb.Cleanup(func() { _ = w.Close() }) // runs before st.Close (LIFO)
		opts.Auditor = w
	}
	env.eng = exchange.New(snap, opts)
	return env
}

// processCPU is the user+system and the system CPU time of the benchmark process so far.
func processCPU(tb testing.TB) (total, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano())
}

// measure runs the benchmark loop in run and reports CPU per operation (of which
// kernel time: fsync, network), and, when the env audits, the mean number of events per
// group commit.
func measure(b *testing.B, env *benchEnv, run func()) {
	b.ReportAllocs()
	c0, s0 := processCPU(b)
	var n0, e0 int64
	if env != nil {
		n0, e0 = env.commits.Load(), env.events.Load()
	}
	run()
	if b.N == 0 {
		return
	}
	c1, s1 := processCPU(b)
	b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(s1-s0)/float64(b.N), "sys-ns/op")
	if env != nil {
		if n := env.commits.Load() - n0; n > 0 {
			b.ReportMetric(float64(env.events.Load()-e0)/float64(n), "events/commit")
		}
	}
}

// mintTokens mints n distinct GitHub Actions-shaped tokens in parallel.
func mintTokens(tb testing.TB, is *testissuer.Issuer, n int, owner string) []string {
	tb.Helper()
	out := make([]string, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				out[i], errs[i] = is.Mint(githubClaims(owner, i))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func githubClaims(owner string, i int) map[string]any {
	repo := owner + "/app"
	return map[string]any{
		"sub": "repo:" + repo + ":ref:refs/heads/main", "aud": "keyless-test",
		"repository": repo, "repository_owner": owner, "repository_id": "690000001",
		"ref": "refs/heads/main", "ref_type": "branch", "sha": "8f3c2d1e0b9a8f3c2d1e0b9a8f3c2d1e0b9a8f3c",
		"workflow": "deploy", "workflow_ref": repo + "/.github/workflows/deploy.yml@refs/heads/main",
		"event_name": "push", "actor": "octocat", "runner_environment": "github-hosted",
		"run_id": fmt.Sprint(9000000000 + i), "run_number": fmt.Sprint(i), "run_attempt": "1",
		"jti": fmt.Sprintf("bench-%08d", i),
	}
}

func stsRequest(token string) exchange.STSRequest {
	return exchange.STSRequest{
		GrantType:          exchange.GrantTypeTokenExchange,
		Audience:           keylesstest.Audience(),
		Scope:              []string{"https://www.googleapis.com/auth/cloud-platform"},
		RequestedTokenType: exchange.TokenTypeAccessToken,
		SubjectToken:       token,
		SubjectTokenType:   exchange.TokenTypeJWT,
	}
}

// TestBenchFixture checks that the benchmarks measure what they claim: the exchange
// succeeds, the mapping yields three attributes, the condition is live, the minted token
// is ES256, and the audit event is durable in SQLite when ExchangeSTS returns.
func TestBenchFixture(t *testing.T) {
	t.Parallel()
	env := newBenchEnv(t, true)
	ctx := context.Background()
	res, derr := env.eng.ExchangeSTS(ctx, stsRequest(env.tokens[0]), stsMeta)
	if derr != nil {
		t.Fatalf("exchange: %v", derr)
	}
	if got := res.Attributes.Custom; len(got) != 2 || got["repository"] == nil || got["ref"] == nil || res.Attributes.Subject == "" {
		t.Fatalf("mapping: subject %q custom %v, want subject + repository + ref", res.Attributes.Subject, got)
	}
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(res.AccessToken, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg, Typ string }
	if err := json.Unmarshal(hdr, &h); err != nil || h.Alg != "ES256" || h.Typ != "at+jwt" {
		t.Fatalf("minted header %s (err %v), want ES256 at+jwt", hdr, err)
	}
	rec, err := env.st.AuditByID(ctx, res.DecisionID)
	if err != nil {
		t.Fatalf("audit event %s not durable: %v", res.DecisionID, err)
	}
	if rec.Outcome != "allow" {
		t.Fatalf("audit outcome %q, want allow", rec.Outcome)
	}
	t.Logf("audit event: %d bytes; minted token: %d bytes", len(rec.Data), len(res.AccessToken))

	evil := mintTokens(t, env.issuer, 1, "evil")[0]
	if _, derr := env.eng.ExchangeSTS(ctx, stsRequest(evil), stsMeta); derr == nil || derr.Stage != "attribute_condition" {
		t.Fatalf("foreign owner: got %v, want an attribute_condition denial", derr)
	}

	ir, derr := env.eng.Impersonate(ctx, impersonationRequest(res.AccessToken), iamMeta)
	if derr != nil {
		t.Fatalf("impersonate: %v", derr)
	}
	if ir.AccessToken == "" {
		t.Fatal("impersonate returned no access token")
	}
	if _, err := env.st.AuditByID(ctx, ir.DecisionID); err != nil {
		t.Fatalf("impersonation audit event not durable: %v", err)
	}
}

func benchSTS(b *testing.B, withAudit bool) {
	env := newBenchEnv(b, withAudit)
	ctx := context.Background()
	measure(b, env, func() {
		for i := 0; b.Loop(); i++ {
			if _, derr := env.eng.ExchangeSTS(ctx, stsRequest(env.tokens[i%len(env.tokens)]), stsMeta); derr != nil {
				b.Fatalf("exchange: %v", derr)
			}
		}
	})
}

// BenchmarkPipelineSTS is the whole OIDC exchange without HTTP: RS256 subject token
// verified against pinned keys, CEL mapping and condition, ES256 token minted, audit
// event committed to SQLite through the group-commit writer.
func BenchmarkPipelineSTS(b *testing.B) { benchSTS(b, true) }

// BenchmarkPipelineSTSNoAudit is BenchmarkPipelineSTS without an Auditor, to separate
// the cost of the durable audit event.
func BenchmarkPipelineSTSNoAudit(b *testing.B) { benchSTS(b, false) }

// BenchmarkPipelineSTSParallel runs the audited exchange from 8×GOMAXPROCS goroutines,
// as many concurrent requests as a loaded server has in flight, so group commit batches
// audit events as it does under load.
func BenchmarkPipelineSTSParallel(b *testing.B) {
	env := newBenchEnv(b, true)
	ctx := context.Background()
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ResetTimer()
	measure(b, env, func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				if _, derr := env.eng.ExchangeSTS(ctx, stsRequest(env.tokens[i%uint64(len(env.tokens))]), stsMeta); derr != nil {
					b.Errorf("exchange: %v", derr)
					return
				}
			}
		})
	})
}

var iamMeta = exchange.Meta{Dialect: "google.iamcredentials", Method: "generateAccessToken", CallerIP: "127.0.0.1", UserAgent: "keyless-bench"}

func impersonationRequest(bearer string) exchange.ImpersonationRequest {
	return exchange.ImpersonationRequest{
		Bearer: bearer,
		Name:   "projects/-/serviceAccounts/" + keylesstest.SAEmail,
		Scope:  []string{"https://www.googleapis.com/auth/cloud-platform"},
	}
}

// BenchmarkImpersonate is generateAccessToken with a federated bearer: ES256 bearer
// verified, IAM binding evaluated, ES256 token minted, audit event committed.
func BenchmarkImpersonate(b *testing.B) {
	env := newBenchEnv(b, true)
	ctx := context.Background()
	res, derr := env.eng.ExchangeSTS(ctx, stsRequest(env.tokens[0]), stsMeta)
	if derr != nil {
		b.Fatalf("exchange: %v", derr)
	}
	req := impersonationRequest(res.AccessToken)
	measure(b, env, func() {
		for b.Loop() {
			if _, derr := env.eng.Impersonate(ctx, req, iamMeta); derr != nil {
				b.Fatalf("impersonate: %v", derr)
			}
		}
	})
}

// floorInput is a signed RS256 subject token's signing input and signature, and a
// payload comparable to a federated access token, signed with stdlib crypto only.
type floorInput struct {
	rsaPub     *rsa.PublicKey
	subject    []byte // header.payload of a GitHub-shaped token
	subjectSig []byte
	ecKey      *ecdsa.PrivateKey
	minted     []byte // header.payload of a federated access token
	mintedSig  []byte // ASN.1 ES256 signature of minted by ecKey (a bearer to verify)
}

func newFloorInput(tb testing.TB) *floorInput {
	tb.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	seg := func(v any) string {
		j, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(j)
	}
	now := time.Now().Unix()
	claims := githubClaims("acme", 1)
	claims["iss"], claims["iat"], claims["exp"] = "https://token.actions.githubusercontent.com", now, now+600
	subject := []byte(seg(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"}) + "." + seg(claims))
	h := sha256.Sum256(subject)
	sig, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, h[:])
	if err != nil {
		tb.Fatal(err)
	}
	minted := []byte(seg(map[string]string{"alg": "ES256", "kid": "k2", "typ": "at+jwt"}) + "." + seg(map[string]any{
		"iss": "https://keyless.bench.example", "aud": keylesstest.Audience(),
		"sub": "principal://iam.googleapis.com/" + strings.TrimPrefix(keylesstest.PrincipalSet(), "principalSet://iam.googleapis.com/") + "/subject/repo:acme/app:ref:refs/heads/main",
		"iat": now, "nbf": now, "exp": now + 3600, "jti": "0123456789abcdef0123456789abcdef",
		"scope": "https://www.googleapis.com/auth/cloud-platform",
		"keyless": map[string]any{"kind": "federated", "provider": keylesstest.Audience(),
			"attributes":  map[string][]string{"repository": {"acme/app"}, "ref": {"refs/heads/main"}},
			"correlation": map[string]string{"jti": "bench-00000001", "run_id": "9000000001"}},
	}))
	mh := sha256.Sum256(minted)
	msig, err := ecdsa.SignASN1(rand.Reader, ek, mh[:])
	if err != nil {
		tb.Fatal(err)
	}
	return &floorInput{rsaPub: &rk.PublicKey, subject: subject, subjectSig: sig, ecKey: ek, minted: minted, mintedSig: msig}
}

// op is the floor: one RS256 verify and one ES256 sign over comparable inputs.
func (f *floorInput) op() error {
	h := sha256.Sum256(f.subject)
	if err := rsa.VerifyPKCS1v15(f.rsaPub, crypto.SHA256, h[:], f.subjectSig); err != nil {
		return err
	}
	h = sha256.Sum256(f.minted)
	_, err := ecdsa.SignASN1(rand.Reader, f.ecKey, h[:])
	return err
}

// opBearer is the impersonation floor: one ES256 verify (the bearer) and one ES256 sign.
func (f *floorInput) opBearer() error {
	h := sha256.Sum256(f.minted)
	if !ecdsa.VerifyASN1(&f.ecKey.PublicKey, h[:], f.mintedSig) {
		return errors.New("ES256 signature invalid")
	}
	_, err := ecdsa.SignASN1(rand.Reader, f.ecKey, h[:])
	return err
}

func TestCryptoFloorFails(t *testing.T) {
	t.Parallel()
	f := newFloorInput(t)
	if err := f.op(); err != nil {
		t.Fatalf("floor op: %v", err)
	}
	if err := f.opBearer(); err != nil {
		t.Fatalf("bearer floor op: %v", err)
	}
	f.subjectSig[10] ^= 1
	if err := f.op(); err == nil {
		t.Fatal("floor op accepted a corrupted signature")
	}
	f.mintedSig[len(f.mintedSig)-1] ^= 1
	if err := f.opBearer(); err == nil {
		t.Fatal("bearer floor op accepted a corrupted signature")
	}
}

// BenchmarkCryptoFloor is the cost no implementation of the exchange can avoid: verify
// the RS256 (2048-bit) subject token and sign the ES256 result, with stdlib crypto.
func BenchmarkCryptoFloor(b *testing.B) {
	f := newFloorInput(b)
	benchOp(b, f.op)
}

// BenchmarkCryptoFloorImpersonate is the floor of generateAccessToken: verify the ES256
// bearer and sign the ES256 result.
func BenchmarkCryptoFloorImpersonate(b *testing.B) {
	f := newFloorInput(b)
	benchOp(b, f.opBearer)
}

// benchOp measures op (a crypto floor) until the benchmark ends, failing on its first error.
func benchOp(b *testing.B, op func() error) {
	measure(b, nil, func() {
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
