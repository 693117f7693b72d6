//go:build unix

package exchange_test

// Benchmarks of the AWS dialect's decisions without HTTP, and of their crypto floors
// (docs/benchmarks.md, "AWS dialect"): sts:AssumeRoleWithWebIdentity, and the Google
// STS exchange of an aws4_request subject token (a serialized GetCallerIdentity signed
// with keyless-issued credentials, verified locally).

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/signing"
	"github.com/keylessdev/keyless/internal/store/sqlite"
	"github.com/keylessdev/keyless/internal/testissuer"
)

var arwwiMeta = exchange.Meta{Dialect: "aws.sts", Method: "AssumeRoleWithWebIdentity", CallerIP: "127.0.0.1", UserAgent: "keyless-bench"}

const (
	// gciURL is what golang.org/x/oauth2/google/externalaccount signs for us-east-1.
	gciURL = "https://sts.us-east-1.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
	// awsBenchCreds is how many sessions sign the aws4_request pool.
	awsBenchCreds = 8
)

var emptySHA256 = hex.EncodeToString(func() []byte { h := sha256.Sum256(nil); return h[:] }())

// awsBenchEnv is the standard federation plus keylesstest.WithAWS (IAM OIDC provider
// with pinned keys, a role whose trust policy has an Allow with two conditions and a
// Deny, a Google aws provider), with session keys from the keyring.
type awsBenchEnv struct {
	*benchEnv
	webTokens []string // aud sts.amazonaws.com, sub repo:acme/app:...
}

func newAWSBenchEnv(tb testing.TB, withAudit bool) *awsBenchEnv {
	tb.Helper()
	ctx := context.Background()
	// https so the provider ARN has AWS's shape; the keys are pinned, never fetched.
	is, err := testissuer.Start(testissuer.Options{Alg: "RS256", TLS: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(is.Close)
	cfg := keylesstest.StandardConfig(is)
	cfg.Issuer = "https://keyless.bench.example"
	keylesstest.WithAWS(cfg, is)
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
	env := &awsBenchEnv{benchEnv: &benchEnv{keys: keys, issuer: is, st: st}}
	opts := exchange.Options{Signer: keys, SigningAlg: signing.ES256, SessionKeys: keys}
	if withAudit {
		w := audit.NewWriter(audit.WriterOptions{Store: st, OnCommit: func(n int, _ time.Duration) {
			env.commits.Add(1)
			env.events.Add(int64(n))
		}})
		tb.Cleanup(func() { _ = w.Close() })
		opts.Auditor = w
	}
	env.eng = exchange.New(snap, opts)
	for i := range benchTokens {
		c := githubClaims("acme", i)
		c["aud"] = keylesstest.AWSClientID
		tok, err := is.Mint(c)
		if err != nil {
			tb.Fatal(err)
		}
		env.webTokens = append(env.webTokens, tok)
	}
	return env
}

func assumeRoleRequest(token string, i int) exchange.AssumeRoleRequest {
	return exchange.AssumeRoleRequest{RoleArn: keylesstest.AWSRoleARN(), RoleSessionName: fmt.Sprintf("bench-%d", i), WebIdentityToken: token}
}

func aws4Request(subjectToken string) exchange.STSRequest {
	r := stsRequest(subjectToken)
	r.Audience = keylesstest.AWSAudience()
	r.SubjectTokenType = exchange.TokenTypeAWS4Request
	return r
}

// sessions assumes the role n times (unmeasured) and returns the credentials.
func (env *awsBenchEnv) sessions(tb testing.TB, n int) []exchange.AssumeRoleResult {
	tb.Helper()
	var out []exchange.AssumeRoleResult
	for i := range n {
		res, derr := env.eng.AssumeRoleWithWebIdentity(context.Background(), assumeRoleRequest(env.webTokens[i], i), arwwiMeta)
		if derr != nil {
			tb.Fatalf("AssumeRoleWithWebIdentity: %v", derr)
		}
		out = append(out, *res)
	}
	return out
}

// signGCI signs GetCallerIdentity with the session's credentials at the given time,
// bound to audience, with aws-sdk-go-v2's SigV4 signer, and serializes it as
// externalaccount does: query-escaped JSON {url, method, headers[{key, value}]}, the
// headers sorted by key. It also returns the signed request.
func signGCI(tb testing.TB, s *v4.Signer, c exchange.AssumeRoleResult, audience string, at time.Time) (string, *http.Request) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, gciURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-Goog-Cloud-Target-Resource", audience)
	ac := aws.Credentials{AccessKeyID: c.Credentials.AccessKeyID, SecretAccessKey: c.Credentials.SecretAccessKey, SessionToken: c.Credentials.SessionToken}
	if err := s.SignHTTP(context.Background(), ac, req, emptySHA256, "sts", "us-east-1", at); err != nil {
		tb.Fatal(err)
	}
	type field struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	j, err := json.Marshal(struct {
		URL     string  `json:"url"`
		Method  string  `json:"method"`
		Headers []field `json:"headers"`
	}{gciURL, http.MethodPost, []field{
		{"Authorization", req.Header.Get("Authorization")},
		{"Host", req.URL.Host},
		{"X-Amz-Date", req.Header.Get("X-Amz-Date")},
		{"X-Amz-Security-Token", req.Header.Get("X-Amz-Security-Token")},
		{"X-Goog-Cloud-Target-Resource", audience},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return url.QueryEscape(string(j)), req
}

// aws4Pool signs n subject tokens round robin over creds, x-amz-date one second apart
// per round (all well inside SigV4's 15-minute window for the benchmark's run).
func aws4Pool(tb testing.TB, creds []exchange.AssumeRoleResult, n int) ([]string, *http.Request) {
	tb.Helper()
	s := v4.NewSigner()
	now := time.Now()
	var out []string
	var first *http.Request
	for i := range n {
		tok, req := signGCI(tb, s, creds[i%len(creds)], keylesstest.AWSAudience(), now.Add(-time.Duration(i/len(creds))*time.Second))
		if first == nil {
			first = req
		}
		out = append(out, tok)
	}
	return out, first
}

// TestAWSBenchFixture checks that the AWS benchmarks measure allowed, audited
// decisions, and that their inputs are what the engine checks: an unknown role, a
// stale x-amz-date and a wrong secret are refused.
func TestAWSBenchFixture(t *testing.T) {
	t.Parallel()
	env := newAWSBenchEnv(t, true)
	ctx := context.Background()
	res, derr := env.eng.AssumeRoleWithWebIdentity(ctx, assumeRoleRequest(env.webTokens[0], 0), arwwiMeta)
	if derr != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", derr)
	}
	if !strings.HasPrefix(res.Credentials.AccessKeyID, "ASIA") || len(res.Credentials.SecretAccessKey) != 40 {
		t.Fatalf("credentials %q", res.Credentials.AccessKeyID)
	}
	if rec, err := env.st.AuditByID(ctx, res.DecisionID); err != nil || rec.Outcome != "allow" {
		t.Fatalf("ARWWI audit event %s: %v", res.DecisionID, err)
	}
	if n, err := sessionPlainLen(res.Credentials.SessionToken); err != nil || n < 300 || n > 1000 {
		t.Fatalf("session payload %d bytes, %v", n, err)
	}

	pool, _ := aws4Pool(t, []exchange.AssumeRoleResult{*res}, 2)
	sr, derr := env.eng.ExchangeSTS(ctx, aws4Request(pool[1]), stsMeta)
	if derr != nil {
		t.Fatalf("aws4_request exchange: %v", derr)
	}
	if want := "arn:aws:sts::" + keylesstest.AWSAccountID + ":assumed-role/" + keylesstest.AWSRoleName + "/bench-0"; sr.Attributes.Subject != want {
		t.Fatalf("subject %q, want %q", sr.Attributes.Subject, want)
	}
	if rec, err := env.st.AuditByID(ctx, sr.DecisionID); err != nil || rec.Outcome != "allow" {
		t.Fatalf("aws4 audit event %s: %v", sr.DecisionID, err)
	}

	bad := assumeRoleRequest(env.webTokens[1], 1)
	bad.RoleArn = "arn:aws:iam::" + keylesstest.AWSAccountID + ":role/missing"
	if _, derr := env.eng.AssumeRoleWithWebIdentity(ctx, bad, arwwiMeta); derr == nil || derr.AWSCode != exchange.AWSAccessDenied {
		t.Fatalf("unknown role: %v", derr)
	}
	stale, _ := signGCI(t, v4.NewSigner(), *res, keylesstest.AWSAudience(), time.Now().Add(-20*time.Minute))
	if _, derr := env.eng.ExchangeSTS(ctx, aws4Request(stale), stsMeta); derr == nil || derr.Stage != "aws_date" {
		t.Fatalf("stale x-amz-date: %v", derr)
	}
	wrong := *res
	wrong.Credentials.SecretAccessKey = strings.Repeat("A", 40)
	forged, _ := signGCI(t, v4.NewSigner(), wrong, keylesstest.AWSAudience(), time.Now())
	if _, derr := env.eng.ExchangeSTS(ctx, aws4Request(forged), stsMeta); derr == nil || derr.Stage != "aws_signature" {
		t.Fatalf("wrong secret: %v", derr)
	}
}

func benchAssumeRole(b *testing.B, withAudit bool) {
	env := newAWSBenchEnv(b, withAudit)
	ctx := context.Background()
	measure(b, env.benchEnv, func() {
		for i := 0; b.Loop(); i++ {
			if _, derr := env.eng.AssumeRoleWithWebIdentity(ctx, assumeRoleRequest(env.webTokens[i%len(env.webTokens)], i), arwwiMeta); derr != nil {
				b.Fatalf("AssumeRoleWithWebIdentity: %v", derr)
			}
		}
	})
}

// BenchmarkPipelineAssumeRole is sts:AssumeRoleWithWebIdentity without HTTP: RS256 web
// identity token verified against the IAM OIDC provider's pinned keys, trust policy
// evaluated, session sealed (AES-256-GCM) and its secret derived (HKDF), audit event
// committed to SQLite through the group-commit writer.
func BenchmarkPipelineAssumeRole(b *testing.B) { benchAssumeRole(b, true) }

// BenchmarkPipelineAssumeRoleNoAudit is BenchmarkPipelineAssumeRole without an Auditor.
func BenchmarkPipelineAssumeRoleNoAudit(b *testing.B) { benchAssumeRole(b, false) }

// BenchmarkPipelineAssumeRoleParallel runs the audited decision from 8×GOMAXPROCS
// goroutines, so group commit batches events as under load.
func BenchmarkPipelineAssumeRoleParallel(b *testing.B) {
	env := newAWSBenchEnv(b, true)
	ctx := context.Background()
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ResetTimer()
	measure(b, env.benchEnv, func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				if _, derr := env.eng.AssumeRoleWithWebIdentity(ctx, assumeRoleRequest(env.webTokens[i%len(env.webTokens)], i), arwwiMeta); derr != nil {
					b.Errorf("AssumeRoleWithWebIdentity: %v", derr)
					return
				}
			}
		})
	})
}

func benchAWS4(b *testing.B, withAudit bool, parallel bool) {
	env := newAWSBenchEnv(b, withAudit)
	ctx := context.Background()
	// Signed just before the timed loop: x-amz-date must be within 15 minutes.
	pool, _ := aws4Pool(b, env.sessions(b, awsBenchCreds), benchTokens)
	exchangeOne := func(i int) *exchange.Error {
		_, derr := env.eng.ExchangeSTS(ctx, aws4Request(pool[i%len(pool)]), stsMeta)
		return derr
	}
	if !parallel {
		measure(b, env.benchEnv, func() {
			for i := 0; b.Loop(); i++ {
				if derr := exchangeOne(i); derr != nil {
					b.Fatalf("aws4_request exchange: %v", derr)
				}
			}
		})
		return
	}
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ResetTimer()
	measure(b, env.benchEnv, func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if derr := exchangeOne(int(next.Add(1))); derr != nil {
					b.Errorf("aws4_request exchange: %v", derr)
					return
				}
			}
		})
	})
}

// BenchmarkPipelineAWS4Request is the Google STS exchange of an aws4_request subject
// token signed with keyless-issued credentials: the serialized request parsed and
// checked, the session token opened (AES-256-GCM) and its secret derived (HKDF), the
// SigV4 signature recomputed, Google's AWS mapping applied, an ES256 token minted, the
// audit event committed.
func BenchmarkPipelineAWS4Request(b *testing.B) { benchAWS4(b, true, false) }

// BenchmarkPipelineAWS4RequestNoAudit is BenchmarkPipelineAWS4Request without an Auditor.
func BenchmarkPipelineAWS4RequestNoAudit(b *testing.B) { benchAWS4(b, false, false) }

// BenchmarkPipelineAWS4RequestParallel is the audited exchange from 8×GOMAXPROCS goroutines.
func BenchmarkPipelineAWS4RequestParallel(b *testing.B) { benchAWS4(b, true, true) }

// The AWS crypto floors, stdlib only, over a real run's inputs:
//
//	AssumeRole: RS256 verify (2048) of the web identity token + AES-256-GCM seal of the
//	            session payload (the real token's size) + HKDF-SHA256 of the secret
//	AWS4:       AES-256-GCM open of a session token of the real size + HKDF-SHA256 +
//	            SigV4 (SHA-256 of the canonical request, 4 HMACs for the signing key,
//	            1 for the signature, checked against the real signature) + ES256 sign
//	            of the minted token's signing input
type awsFloor struct {
	rsaPub            *rsa.PublicKey
	subject, sig      []byte // RS256 web identity token
	aead              cipher.AEAD
	nonce, ad, plain  []byte
	sealed            []byte
	seed              []byte
	info              string
	canonical         []byte // SigV4 canonical request
	amzDate, scope    string
	date, region, svc string
	secret            string
	signature         []byte
	ecKey             *ecdsa.PrivateKey
	minted            []byte // header.payload of the minted access token
}

// sessionPlainLen is the plaintext size inside a keyless session token:
// base64url(version 1 | key id 4 | nonce 12 | ciphertext | tag 16).
func sessionPlainLen(token string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, err
	}
	if len(raw) < 17+16+32 {
		return 0, errors.New("session token too short")
	}
	return len(raw) - 17 - 16, nil
}

func newAWSFloor(tb testing.TB) *awsFloor {
	tb.Helper()
	env := newAWSBenchEnv(tb, false)
	sess := env.sessions(tb, 1)
	pool, signed := aws4Pool(tb, sess, 1)
	sr, derr := env.eng.ExchangeSTS(context.Background(), aws4Request(pool[0]), stsMeta)
	if derr != nil {
		tb.Fatalf("aws4_request exchange: %v", derr)
	}
	f := &awsFloor{}

	// RS256 web identity token and its key.
	ks, _, err := jose.ParseKeySet([]byte(env.issuer.JWKS()))
	if err != nil {
		tb.Fatal(err)
	}
	parts := strings.Split(env.webTokens[0], ".")
	found := ks.Find(env.issuer.KID())
	if len(found) != 1 || len(parts) != 3 {
		tb.Fatal("issuer key or token shape")
	}
	f.rsaPub = found[0].Public.(*rsa.PublicKey)
	f.subject = []byte(parts[0] + "." + parts[1])
	if f.sig, err = base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		tb.Fatal(err)
	}

	// A GCM box the size of the real session payload, and the HKDF input.
	n, err := sessionPlainLen(sess[0].Credentials.SessionToken)
	if err != nil {
		tb.Fatal(err)
	}
	key := make([]byte, 32)
	f.nonce, f.plain, f.seed = make([]byte, 12), make([]byte, n), make([]byte, 32)
	for _, b := range [][]byte{key, f.nonce, f.plain, f.seed} {
		_, _ = rand.Read(b)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	if f.aead, err = cipher.NewGCM(block); err != nil {
		tb.Fatal(err)
	}
	f.ad = []byte{1, 0, 0, 0, 1}
	f.sealed = f.aead.Seal(nil, f.nonce, f.plain, f.ad)
	f.info = "keyless bench secret\x00" + sess[0].Credentials.AccessKeyID

	// SigV4: the canonical request of the real signed GetCallerIdentity.
	authz := signed.Header.Get("Authorization")
	var signedHeaders []string
	for p := range strings.SplitSeq(strings.TrimPrefix(authz, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "Credential":
			c := strings.Split(v, "/")
			f.date, f.region, f.svc = c[1], c[2], c[3]
		case "SignedHeaders":
			signedHeaders = strings.Split(v, ";")
		case "Signature":
			f.signature, _ = hex.DecodeString(v)
		}
	}
	var ch strings.Builder
	for _, h := range signedHeaders {
		v := signed.Header.Get(h)
		if h == "host" {
			v = signed.URL.Host
		}
		ch.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	f.canonical = []byte("POST\n/\n" + signed.URL.RawQuery + "\n" + ch.String() + "\n" + strings.Join(signedHeaders, ";") + "\n" + emptySHA256)
	f.amzDate = signed.Header.Get("X-Amz-Date")
	f.scope = f.date + "/" + f.region + "/" + f.svc + "/aws4_request"
	f.secret = sess[0].Credentials.SecretAccessKey

	// The minted access token's signing input.
	if f.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		tb.Fatal(err)
	}
	mp := strings.Split(sr.AccessToken, ".")
	f.minted = []byte(mp[0] + "." + mp[1])
	return f
}

func (f *awsFloor) verifyRS256() error {
	h := sha256.Sum256(f.subject)
	return rsa.VerifyPKCS1v15(f.rsaPub, crypto.SHA256, h[:], f.sig)
}

func (f *awsFloor) hkdf() error {
	_, err := hkdf.Key(sha256.New, f.seed, nil, f.info, 30)
	return err
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func (f *awsFloor) sigv4() error {
	h := sha256.Sum256(f.canonical)
	sts := "AWS4-HMAC-SHA256\n" + f.amzDate + "\n" + f.scope + "\n" + hex.EncodeToString(h[:])
	k := hmacSHA256(hmacSHA256(hmacSHA256(hmacSHA256([]byte("AWS4"+f.secret), f.date), f.region), f.svc), "aws4_request")
	if !hmac.Equal(hmacSHA256(k, sts), f.signature) {
		return errors.New("SigV4 signature does not match")
	}
	return nil
}

// opAssumeRole is the AssumeRoleWithWebIdentity floor.
func (f *awsFloor) opAssumeRole() error {
	if err := f.verifyRS256(); err != nil {
		return err
	}
	_ = f.aead.Seal(nil, f.nonce, f.plain, f.ad)
	return f.hkdf()
}

// opAWS4 is the aws4_request exchange floor.
func (f *awsFloor) opAWS4() error {
	if _, err := f.aead.Open(nil, f.nonce, f.sealed, f.ad); err != nil {
		return err
	}
	if err := f.hkdf(); err != nil {
		return err
	}
	if err := f.sigv4(); err != nil {
		return err
	}
	h := sha256.Sum256(f.minted)
	_, err := ecdsa.SignASN1(rand.Reader, f.ecKey, h[:])
	return err
}

func TestCryptoFloorAWSFails(t *testing.T) {
	t.Parallel()
	f := newAWSFloor(t)
	if err := f.opAssumeRole(); err != nil {
		t.Fatalf("AssumeRole floor: %v", err)
	}
	if err := f.opAWS4(); err != nil {
		t.Fatalf("AWS4 floor (the recomputed SigV4 signature must match the SDK's): %v", err)
	}
	f.sig[5] ^= 1
	if err := f.opAssumeRole(); err == nil {
		t.Error("AssumeRole floor accepted a corrupted RS256 signature")
	}
	f.secret = strings.Repeat("A", 40)
	if err := f.opAWS4(); err == nil {
		t.Error("AWS4 floor accepted a wrong secret")
	}
	f.sealed[3] ^= 1
	if err := f.opAWS4(); err == nil {
		t.Error("AWS4 floor opened a tampered box")
	}
}

// BenchmarkCryptoFloorAssumeRole is the floor of AssumeRoleWithWebIdentity.
func BenchmarkCryptoFloorAssumeRole(b *testing.B) {
	f := newAWSFloor(b)
	benchOp(b, f.opAssumeRole)
}

// BenchmarkCryptoFloorAWS4 is the floor of the aws4_request exchange.
func BenchmarkCryptoFloorAWS4(b *testing.B) {
	f := newAWSFloor(b)
	benchOp(b, f.opAWS4)
}
