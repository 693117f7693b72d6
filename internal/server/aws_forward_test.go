package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2/google/externalaccount"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/credential/awsreq"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/server"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// Long-term credentials of a workload keyless did not issue (an EC2 instance role, say):
// only the stand-in for AWS STS knows the secret.
const (
	ec2AccessKey = "AKIAKEYLESSTESTEC2XX"
	ec2Secret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	ec2ARN       = "arn:aws:sts::" + keylesstest.AWSAccountID + ":assumed-role/" + keylesstest.AWSRoleName + "/i-0abc123"
)

// fakeSTS stands in for sts.us-east-1.amazonaws.com on loopback TLS: it verifies the
// SigV4 signature of forwarded GetCallerIdentity requests with the known secret.
type fakeSTS struct {
	srv      *httptest.Server
	calls    atomic.Int64
	answer   atomic.Pointer[func(http.ResponseWriter)] // overrides the verified answer
	account  string
	certPool *x509.CertPool
}

func startFakeSTS(t *testing.T) *fakeSTS {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "fake sts"},
		DNSNames: []string{"sts.us-east-1.amazonaws.com", "sts-fips.us-east-1.amazonaws.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	fs := &fakeSTS{account: keylesstest.AWSAccountID, certPool: x509.NewCertPool()}
	fs.certPool.AddCert(leaf)
	fs.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.calls.Add(1)
		if f := fs.answer.Load(); f != nil {
			(*f)(w)
			return
		}
		body, _ := io.ReadAll(r.Body)
		sr := awsreq.SignedRequest{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Headers: r.Header, Body: body}
		a, err := awsreq.ParseAuth(sr)
		if err == nil && a.AccessKeyID == ec2AccessKey {
			err = awsreq.Verify(sr, a, ec2Secret, time.Now(), 15*time.Minute)
		} else if err == nil {
			err = io.EOF
		}
		w.Header().Set("Content-Type", "text/xml")
		if err != nil {
			w.WriteHeader(403)
			_, _ = io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return
		}
		_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:sts::`+fs.account+`:assumed-role/`+keylesstest.AWSRoleName+`/i-0abc123</Arn><UserId>AROAEC2ROLEEXAMPLE00:i-0abc123</UserId>`+
			`<Account>`+fs.account+`</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	}))
	fs.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}}
	fs.srv.StartTLS()
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeSTS) forwarder() *awsreq.Forwarder {
	return &awsreq.Forwarder{RootCAs: fs.certPool, Timeout: 3 * time.Second,
		DialOverrides: map[string]string{"sts.us-east-1.amazonaws.com:443": strings.TrimPrefix(fs.srv.URL, "https://"),
			"sts-fips.us-east-1.amazonaws.com:443": strings.TrimPrefix(fs.srv.URL, "https://")}}
}

func ec2TokenSource(t *testing.T, tokenURL, audience, secret string) (string, error) {
	t.Helper()
	ts, err := externalaccount.NewTokenSource(context.Background(), externalaccount.Config{
		Audience: audience, SubjectTokenType: "urn:ietf:params:aws:token-type:aws4_request", TokenURL: tokenURL,
		Scopes:                         []string{"https://www.googleapis.com/auth/cloud-platform"},
		AwsSecurityCredentialsSupplier: awsSupplier{externalaccount.AwsSecurityCredentials{AccessKeyID: ec2AccessKey, SecretAccessKey: secret}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// AWS credentials keyless did not issue are verified by AWS STS (here a loopback
// stand-in reached through the forwarder's dial override, over verified TLS).
func TestAWS4RequestForwardedToSTS(t *testing.T) {
	t.Parallel()
	fs := startFakeSTS(t)
	fwd := fs.forwarder()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) },
		func(o *server.Options) { o.AWSForwarder = fwd })
	t.Cleanup(fwd.CloseIdleConnections)

	tok, err := ec2TokenSource(t, f.URL+"/v1/token", keylesstest.AWSAudience(), ec2Secret)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if fs.calls.Load() != 1 {
		t.Fatalf("STS saw %d calls, want 1", fs.calls.Load())
	}
	c := verifyAccessToken(t, f, tok)
	if c["sub"] != "principal://iam.googleapis.com/projects/"+keylesstest.ProjectNumber+"/locations/global/workloadIdentityPools/"+keylesstest.PoolID+"/subject/"+ec2ARN {
		t.Errorf("federated principal %v", c["sub"])
	}

	// AWS refuses the signature: invalid_grant, one call.
	_, err = ec2TokenSource(t, f.URL+"/v1/token", keylesstest.AWSAudience(), strings.Repeat("x", 40))
	wantOAuthError(t, f, err, "invalid_grant", "aws_signature")

	// AWS unavailable: a retryable error, not invalid_grant.
	unavailable := func(w http.ResponseWriter) { w.WriteHeader(503) }
	fs.answer.Store(&unavailable)
	_, err = ec2TokenSource(t, f.URL+"/v1/token", keylesstest.AWSAudience(), ec2Secret)
	wantOAuthError(t, f, err, "temporarily_unavailable", "aws_upstream")
	fs.answer.Store(nil)

	// An identity of another account: refused after AWS answered.
	fs.account = "111111111111"
	_, err = ec2TokenSource(t, f.URL+"/v1/token", keylesstest.AWSAudience(), ec2Secret)
	wantOAuthError(t, f, err, "invalid_grant", "aws_account")
	fs.account = keylesstest.AWSAccountID

	// A signed request bound to another provider is refused with no call to AWS: capture
	// the subject token the client builds for audience B, present it for the aws provider.
	var captured string
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		captured = r.PostForm.Get("subject_token")
		http.Error(w, `{"error":"invalid_request"}`, 400)
	}))
	defer capture.Close()
	other := strings.Replace(keylesstest.AWSAudience(), keylesstest.AWSProviderID, "other-provider", 1)
	_, _ = ec2TokenSource(t, capture.URL, other, ec2Secret)
	if captured == "" {
		t.Fatal("no subject token captured")
	}
	before := fs.calls.Load()
	form := keylesstest.STSForm(captured)
	form.Set("audience", keylesstest.AWSAudience())
	form.Set("subject_token_type", "urn:ietf:params:aws:token-type:aws4_request")
	resp, body := f.Post(t, "/v1/token", "application/x-www-form-urlencoded", form.Encode(), "")
	if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_grant") {
		t.Fatalf("mis-bound request: %d %s", resp.StatusCode, body)
	}
	if got := reasonOf(t, f, resp.Header.Get("X-Keyless-Decision-Id")); got != "aws_binding" {
		t.Errorf("reason %q, want aws_binding", got)
	}
	if fs.calls.Load() != before {
		t.Error("a request failing the binding check was forwarded to AWS")
	}
	// And a request naming a non-STS host never leaves keyless either.
	tampered := strings.Replace(url.QueryEscape(mustUnescape(t, captured)), "sts.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com.evil.test", -1)
	form.Set("subject_token", tampered)
	resp, _ = f.Post(t, "/v1/token", "application/x-www-form-urlencoded", form.Encode(), "")
	if resp.StatusCode != 400 || fs.calls.Load() != before {
		t.Fatalf("look-alike host: status %d, calls %d→%d", resp.StatusCode, before, fs.calls.Load())
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func reasonOf(t *testing.T, f *keylesstest.Fixture, id string) string {
	t.Helper()
	rec, err := f.Store.AuditByID(context.Background(), id)
	if err != nil {
		t.Fatalf("decision %q: %v", id, err)
	}
	ev, err := audit.DecodeEvent(rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Reason
}

func wantOAuthError(t *testing.T, f *keylesstest.Fixture, err error, code, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("exchange succeeded, want %s", code)
	}
	if !strings.Contains(err.Error(), code) {
		t.Fatalf("error %v, want %s", err, code)
	}
	msg := err.Error()
	i := strings.Index(msg, "(decision ")
	if i < 0 {
		t.Fatalf("no decision id in %q", msg)
	}
	id := msg[i+len("(decision "):]
	id = id[:strings.IndexByte(id, ')')]
	if got := reasonOf(t, f, id); got != reason {
		t.Errorf("reason %q, want %q", got, reason)
	}
}

// verifyAccessToken checks a keyless access token against the server's keys and returns
// its claims.
func verifyAccessToken(t *testing.T, f *keylesstest.Fixture, tok string) map[string]any {
	t.Helper()
	p, err := jose.ParseCompact(tok, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verify(f.Keys.PublicKeys(), []string{"ES256"}); err != nil {
		t.Fatalf("token does not verify with keyless's keys: %v", err)
	}
	return p.Claims
}

// captureSubjectToken returns the aws4_request subject token x/oauth2 builds for the EC2
// credentials and audience (sent to a capturing stand-in, never to keyless).
func captureSubjectToken(t *testing.T, audience string) string {
	t.Helper()
	var captured string
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		captured = r.PostForm.Get("subject_token")
		http.Error(w, `{"error":"invalid_request"}`, 400)
	}))
	defer capture.Close()
	_, _ = ec2TokenSource(t, capture.URL, audience, ec2Secret)
	if captured == "" {
		t.Fatal("no subject token captured")
	}
	return captured
}

// server.awsStsHosts extends the STS host allowlist; server.awsForwardingDisabled refuses
// credentials keyless did not issue without any outbound call.
func TestAWSForwardingConfig(t *testing.T) {
	t.Parallel()
	fs := startFakeSTS(t)
	// The stand-in's forwarder admits the FIPS name itself; what the config changes is
	// the check of the serialized request that precedes any forwarding.
	fwd := fs.forwarder()
	fwd.AllowedHosts = func(h string) bool { return awsreq.DefaultAllowedHost(h) || h == "sts-fips.us-east-1.amazonaws.com" }
	t.Cleanup(fwd.CloseIdleConnections)
	fips := strings.ReplaceAll(url.QueryEscape(mustUnescape(t, captureSubjectToken(t, keylesstest.AWSAudience()))),
		"sts.us-east-1.amazonaws.com", "sts-fips.us-east-1.amazonaws.com")
	post := func(f *keylesstest.Fixture, tok string) string {
		form := keylesstest.STSForm(tok)
		form.Set("audience", keylesstest.AWSAudience())
		form.Set("subject_token_type", "urn:ietf:params:aws:token-type:aws4_request")
		resp, body := f.Post(t, "/v1/token", "application/x-www-form-urlencoded", form.Encode(), "")
		if resp.StatusCode == 200 {
			t.Fatalf("exchange allowed: %s", body)
		}
		return reasonOf(t, f, resp.Header.Get("X-Keyless-Decision-Id"))
	}

	// Without the extra host, the FIPS host is not an STS host keyless forwards to.
	plain := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) },
		func(o *server.Options) { o.AWSForwarder = fwd })
	before := fs.calls.Load()
	if got := post(plain, fips); got != "aws_host" || fs.calls.Load() != before {
		t.Fatalf("unlisted host: reason %q, %d calls", got, fs.calls.Load()-before)
	}
	// Listed: forwarded (the stand-in then refuses the signature, which covered the
	// original host: proof the request reached it).
	listed := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) {
		keylesstest.WithAWS(c, is)
		c.Server = &config.Server{AWSSTSHosts: []string{"sts-fips.us-east-1.amazonaws.com"}}
	}, func(o *server.Options) { o.AWSForwarder = fwd })
	if got := post(listed, fips); got != "aws_signature" || fs.calls.Load() != before+1 {
		t.Fatalf("listed host: reason %q, %d calls", got, fs.calls.Load()-before)
	}
	// Forwarding disabled: refused before any outbound call.
	off := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) {
		keylesstest.WithAWS(c, is)
		c.Server = &config.Server{AWSForwardingDisabled: true}
	})
	if got := post(off, captureSubjectToken(t, keylesstest.AWSAudience())); got != "aws_forward_disabled" {
		t.Fatalf("forwarding disabled: reason %q", got)
	}
}
