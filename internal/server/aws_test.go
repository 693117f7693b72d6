package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/server"
	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/testissuer"
)

func startAWS(t *testing.T) *keylesstest.Fixture {
	t.Helper()
	return keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) })
}

func stsClient(f *keylesstest.Fixture, creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.URL), Credentials: creds,
		HTTPClient: f.Client, RetryMaxAttempts: 1})
}

// assumeWithSDK runs aws-sdk-go-v2's web identity provider (what IRSA and GitHub
// Actions setups use) against keyless.
func assumeWithSDK(t *testing.T, f *keylesstest.Fixture, token, session string) (aws.Credentials, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	p := stscreds.NewWebIdentityRoleProvider(stsClient(f, nil), keylesstest.AWSRoleARN(), stscreds.IdentityTokenFile(path),
		func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = session })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return p.Retrieve(ctx)
}

func TestAWSAssumeRoleAndCallerIdentityWithGoSDK(t *testing.T) {
	t.Parallel()
	f := startAWS(t)
	creds, err := assumeWithSDK(t, f, f.AWSToken(t, "app", nil), "ci-run-42")
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || len(creds.SecretAccessKey) != 40 || creds.SessionToken == "" {
		t.Fatalf("credentials %q / %d-char secret", creds.AccessKeyID, len(creds.SecretAccessKey))
	}
	if d := time.Until(creds.Expires); d < 59*time.Minute || d > time.Hour+time.Minute {
		t.Errorf("expires in %s, want one hour", d)
	}
	if creds.AccountID != keylesstest.AWSAccountID {
		t.Errorf("SDK read account %q from the assumed-role ARN", creds.AccountID)
	}

	ctx := context.Background()
	c := stsClient(f, credentials.StaticCredentialsProvider{Value: creds})
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	wantARN := "arn:aws:sts::" + keylesstest.AWSAccountID + ":assumed-role/" + keylesstest.AWSRoleName + "/ci-run-42"
	if aws.ToString(out.Arn) != wantARN || aws.ToString(out.Account) != keylesstest.AWSAccountID ||
		!strings.HasPrefix(aws.ToString(out.UserId), "AROA") || !strings.HasSuffix(aws.ToString(out.UserId), ":ci-run-42") {
		t.Fatalf("caller identity %s %s %s", aws.ToString(out.Arn), aws.ToString(out.Account), aws.ToString(out.UserId))
	}

	// Presigned GET (the EKS/Vault token form).
	pre, err := sts.NewPresignClient(c).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(pre.Method, pre.URL, nil)
	for k, v := range pre.SignedHeader {
		req.Header[k] = v
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<Arn>"+wantARN+"</Arn>") {
		rec, _ := f.Store.AuditByID(ctx, resp.Header.Get("X-Keyless-Decision-Id"))
		t.Fatalf("presigned GetCallerIdentity %s: %d %s\n%s", pre.URL, resp.StatusCode, body, rec.Data)
	}

	// A wrong secret, a session token of someone else, no signature at all.
	bad := creds
	bad.SecretAccessKey = strings.Repeat("A", 40)
	_, err = stsClient(f, credentials.StaticCredentialsProvider{Value: bad}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch")
	other, err := assumeWithSDK(t, f, f.AWSToken(t, "app", nil), "other")
	if err != nil {
		t.Fatal(err)
	}
	swapped := creds
	swapped.SessionToken = other.SessionToken
	_, err = stsClient(f, credentials.StaticCredentialsProvider{Value: swapped}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId")
	noTok := creds
	noTok.SessionToken = ""
	_, err = stsClient(f, credentials.StaticCredentialsProvider{Value: noTok}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId")
	resp2, b2 := f.Post(t, "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15", "")
	if resp2.StatusCode != 403 || !strings.Contains(string(b2), "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned GetCallerIdentity: %d %s", resp2.StatusCode, b2)
	}

	// The allowed AssumeRoleWithWebIdentity is audited CloudTrail-style.
	recs, err := f.Store.QueryAudit(ctx, store.AuditQuery{Dialect: "aws.sts", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var arwwi *audit.Event
	for _, r := range recs {
		ev, err := audit.DecodeEvent(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Method == "AssumeRoleWithWebIdentity" && ev.Outcome == "allow" && ev.AWS.ResponseElements.AssumedRoleUser.ARN == wantARN {
			arwwi = &ev
		}
	}
	if arwwi == nil {
		t.Fatal("no allowed AssumeRoleWithWebIdentity event")
	}
	a := arwwi.AWS
	if a.UserIdentity.Type != "WebIdentityUser" || a.UserIdentity.UserName != "repo:acme/app:ref:refs/heads/main" ||
		!strings.HasPrefix(a.UserIdentity.IdentityProvider, "arn:aws:iam::"+keylesstest.AWSAccountID+":oidc-provider/127.0.0.1:") ||
		a.ResponseElements.Credentials.AccessKeyID != creds.AccessKeyID || arwwi.Correlation["jti"] != "jti-1" ||
		arwwi.Correlation["chain"] != arwwi.DecisionID {
		t.Errorf("audit record: %+v %+v", a.UserIdentity, arwwi.Correlation)
	}
	raw, _ := json.Marshal(arwwi)
	if strings.Contains(string(raw), creds.SecretAccessKey) || strings.Contains(string(raw), creds.SessionToken) {
		t.Fatal("audit event contains the secret or the session token")
	}
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if !strings.Contains(ae.ErrorMessage(), "keyless decision ") {
		t.Errorf("message %q carries no decision id", ae.ErrorMessage())
	}
}

func TestAWSAssumeRoleDenials(t *testing.T) {
	t.Parallel()
	f := startAWS(t)
	stranger, err := testissuer.Start(testissuer.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stranger.Close)
	strangerTok, _ := stranger.Mint(map[string]any{"sub": "repo:acme/app:ref:refs/heads/main", "aud": "sts.amazonaws.com"})
	expired, _ := f.Issuer.Mint(map[string]any{"sub": "repo:acme/app:ref:refs/heads/main", "aud": "sts.amazonaws.com",
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
	for _, tc := range []struct {
		name, token, role, code, stage string
		duration                       int32
	}{
		{"explicit deny wins", f.AWSToken(t, "forbidden", nil), "", "AccessDenied", "trust_policy", 0},
		{"condition not met", f.GitHubToken(t, "evil", "app", map[string]any{"aud": "sts.amazonaws.com"}), "", "AccessDenied", "trust_policy", 0},
		{"audience", f.AWSToken(t, "app", map[string]any{"aud": "something-else"}), "", "InvalidIdentityToken", "audience", 0},
		{"unknown issuer", strangerTok, "", "InvalidIdentityToken", "provider_unknown", 0},
		{"expired", expired, "", "ExpiredTokenException", "expired", 0},
		{"unknown role", f.AWSToken(t, "app", nil), "arn:aws:iam::" + keylesstest.AWSAccountID + ":role/nope", "AccessDenied", "role_unknown", 0},
		{"role in another account", f.AWSToken(t, "app", nil), "arn:aws:iam::111111111111:role/ci/ci-deployer", "InvalidIdentityToken", "provider_unknown", 0},
		{"duration over role max", f.AWSToken(t, "app", nil), "", "ValidationError", "duration", 3 * 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			role := tc.role
			if role == "" {
				role = keylesstest.AWSRoleARN()
			}
			in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"),
				WebIdentityToken: aws.String(tc.token)}
			if tc.duration > 0 {
				in.DurationSeconds = aws.Int32(tc.duration)
			}
			_, err := stsClient(f, nil).AssumeRoleWithWebIdentity(context.Background(), in)
			wantAPIError(t, err, tc.code)
			var ae smithy.APIError
			errors.As(err, &ae)
			id := decisionIDOf(ae.ErrorMessage())
			rec, err := f.Store.AuditByID(context.Background(), id)
			if err != nil {
				t.Fatalf("decision %q: %v", id, err)
			}
			ev, _ := audit.DecodeEvent(rec.Data)
			if ev.Reason != tc.stage || ev.AWS == nil || ev.AWS.ErrorCode != tc.code {
				t.Errorf("audited reason %q, aws %+v; want %s/%s", ev.Reason, ev.AWS, tc.stage, tc.code)
			}
			if strings.Contains(string(rec.Data), tc.token) {
				t.Error("the web identity token is in the audit event")
			}
		})
	}
}

func decisionIDOf(msg string) string {
	_, after, _ := strings.Cut(msg, "keyless decision ")
	return strings.TrimSuffix(after, ")")
}

// x/oauth2's external account flow with an AWS credential source, fed keyless-issued
// AWS credentials: the aws4_request exchange into the Google dialect, then impersonation.
func TestAWSCrossCloudChainWithOAuth2(t *testing.T) {
	t.Parallel()
	f := startAWS(t)
	creds, err := assumeWithSDK(t, f, f.AWSToken(t, "app", nil), "chain")
	if err != nil {
		t.Fatal(err)
	}
	for _, impersonate := range []bool{false, true} {
		cfg := externalaccount.Config{
			Audience:         keylesstest.AWSAudience(),
			SubjectTokenType: "urn:ietf:params:aws:token-type:aws4_request",
			TokenURL:         f.URL + "/v1/token",
			Scopes:           []string{"https://www.googleapis.com/auth/cloud-platform"},
			AwsSecurityCredentialsSupplier: awsSupplier{externalaccount.AwsSecurityCredentials{
				AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}},
		}
		if impersonate {
			cfg.ServiceAccountImpersonationURL = f.URL + "/v1/projects/-/serviceAccounts/" + keylesstest.SAEmail + ":generateAccessToken"
		}
		ts, err := externalaccount.NewTokenSource(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("impersonate=%v: %v", impersonate, err)
		}
		if tok.AccessToken == "" {
			t.Fatal("no token")
		}
		// Google's default for AWS providers: federated tokens live 15 minutes.
		if d := time.Until(tok.Expiry); !impersonate && (d < 14*time.Minute || d > 15*time.Minute) {
			t.Errorf("federated token expires in %s, want 15 minutes", d)
		}
	}
	// Every link of the chain carries the same correlation key.
	recs, err := f.Store.QueryAudit(context.Background(), store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string][]string{}
	for _, r := range recs {
		ev, _ := audit.DecodeEvent(r.Data)
		if ev.Outcome == "allow" {
			chains[ev.Correlation["chain"]] = append(chains[ev.Correlation["chain"]], ev.Dialect+"/"+ev.Method)
		}
	}
	found := false
	for _, links := range chains {
		if strings.Join(links, ",") == "aws.sts/AssumeRoleWithWebIdentity,google.sts/token,google.sts/token,google.iamcredentials/generateAccessToken" {
			found = true
		}
	}
	if !found {
		t.Errorf("no chain ARWWI → STS → impersonation under one correlation key: %v", chains)
	}
}

type awsSupplier struct {
	c externalaccount.AwsSecurityCredentials
}

func (s awsSupplier) AwsRegion(context.Context, externalaccount.SupplierOptions) (string, error) {
	return "us-east-1", nil
}

func (s awsSupplier) AwsSecurityCredentials(context.Context, externalaccount.SupplierOptions) (*externalaccount.AwsSecurityCredentials, error) {
	c := s.c
	return &c, nil
}

// Session credentials stop working at their expiry, in both dialects, and survive a
// rotation of the sealing keys.
func TestAWSSessionExpiryAndKeyRotation(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) },
		func(o *server.Options) { o.Now = now })
	ctx := context.Background()
	creds, err := assumeWithSDK(t, f, f.AWSToken(t, "app", nil), "rot")
	if err != nil {
		t.Fatal(err)
	}
	// Rotate the sealing keys: the old key still opens the sessions it sealed.
	offset.Store(int64(31 * 24 * time.Hour))
	if _, err := f.Keys.RotateDue(ctx); err != nil {
		t.Fatal(err)
	}
	offset.Store(0)
	if n := len(f.Keys.Secrets("aws-session")); n != 2 {
		t.Fatalf("%d session keys after rotation, want 2", n)
	}
	c := stsClient(f, credentials.StaticCredentialsProvider{Value: creds})
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("session sealed before the rotation: %v", err)
	}
	fresh, err := assumeWithSDK(t, f, f.AWSToken(t, "app", nil), "rot2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stsClient(f, credentials.StaticCredentialsProvider{Value: fresh}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("session sealed after the rotation: %v", err)
	}

	// One hour later the session is expired (signed at the server's shifted clock, so
	// only the expiry can fail).
	offset.Store(int64(time.Hour + time.Second))
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", now()); err != nil {
		t.Fatal(err)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>ExpiredToken</Code>") {
		t.Fatalf("expired session: %d %s", resp.StatusCode, b)
	}
	// In the Google dialect (x/oauth2 signs at the real time): a session issued an hour
	// and five seconds ago, while the server's clock was behind, is refused as expired.
	offset.Store(-int64(time.Hour + 5*time.Second))
	old, _ := f.Issuer.Mint(map[string]any{"sub": "repo:acme/app:ref:refs/heads/main", "aud": keylesstest.AWSClientID,
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(10 * time.Minute).Unix()})
	stale, err := assumeWithSDK(t, f, old, "stale")
	if err != nil {
		t.Fatal(err)
	}
	offset.Store(0)
	ts, err := externalaccount.NewTokenSource(ctx, externalaccount.Config{
		Audience: keylesstest.AWSAudience(), SubjectTokenType: "urn:ietf:params:aws:token-type:aws4_request",
		TokenURL: f.URL + "/v1/token", Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"},
		AwsSecurityCredentialsSupplier: awsSupplier{externalaccount.AwsSecurityCredentials{
			AccessKeyID: stale.AccessKeyID, SecretAccessKey: stale.SecretAccessKey, SessionToken: stale.SessionToken}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token()
	wantOAuthError(t, f, err, "invalid_grant", "aws_session_expired")
}

// Session tags and source identity in the web identity token need sts:TagSession and
// sts:SetSourceIdentity in the trust policy, evaluated with aws:RequestTag/K.
func TestAWSSessionTagsAndSourceIdentity(t *testing.T) {
	t.Parallel()
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) {
		keylesstest.WithAWS(c, is)
		host := strings.TrimPrefix(is.URL, "https://")
		c.AWS.Accounts[0].Roles[0].AssumeRolePolicyDocument = []byte(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + keylesstest.AWSAccountID + `:oidc-provider/` + host + `"},
			 "Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + host + `:sub":"repo:acme/*"}}},
			{"Sid":"PlatformTagsOnly","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + keylesstest.AWSAccountID + `:oidc-provider/` + host + `"},
			 "Action":"sts:TagSession","Condition":{"StringEquals":{"aws:RequestTag/team":"platform"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}`)
	})
	tags := func(team string) map[string]any {
		return map[string]any{"https://aws.amazon.com/tags": map[string]any{
			"principal_tags": map[string]any{"team": []any{team}}, "transitive_tag_keys": []any{"team"}}}
	}
	if _, err := assumeWithSDK(t, f, f.AWSToken(t, "app", tags("platform")), "tagged"); err != nil {
		t.Fatalf("tags allowed by sts:TagSession: %v", err)
	}
	_, err := assumeWithSDK(t, f, f.AWSToken(t, "app", tags("finance")), "tagged")
	assertDenied(t, f, err, "AccessDenied", "trust_policy", "sts:TagSession")
	_, err = assumeWithSDK(t, f, f.AWSToken(t, "app", map[string]any{"https://aws.amazon.com/source_identity": "alice"}), "si")
	assertDenied(t, f, err, "AccessDenied", "trust_policy", "sts:SetSourceIdentity")
	_, err = assumeWithSDK(t, f, f.AWSToken(t, "app", map[string]any{"https://aws.amazon.com/source_identity": "a b"}), "si")
	assertDenied(t, f, err, "InvalidIdentityToken", "session_claims", "")
}

// assertDenied checks an SDK error's code and the audited reason (and, when given, the
// action the trust policy denied).
func assertDenied(t *testing.T, f *keylesstest.Fixture, err error, code, reason, action string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	rec, err := f.Store.AuditByID(context.Background(), decisionIDOf(ae.ErrorMessage()))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := audit.DecodeEvent(rec.Data)
	if ev.Reason != reason {
		t.Errorf("reason %q, want %q", ev.Reason, reason)
	}
	if action != "" && !strings.Contains(ev.Detail, action) {
		t.Errorf("detail %q does not name %s", ev.Detail, action)
	}
}

// No web identity token, secret access key or session token reaches the server log or
// the audit log, on allowed and denied AWS calls alike.
func TestAWSNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	var logBuf safeBuffer
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	f := keylesstest.Start(t, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) }, func(o *server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.AuditLog = auditPath
	})
	good, denied := f.AWSToken(t, "app", nil), f.AWSToken(t, "forbidden", nil)
	creds, err := assumeWithSDK(t, f, good, "logs")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = assumeWithSDK(t, f, denied, "logs")
	ctx := context.Background()
	if _, err := stsClient(f, credentials.StaticCredentialsProvider{Value: creds}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	bad := creds
	bad.SecretAccessKey = strings.Repeat("B", 40)
	_, _ = stsClient(f, credentials.StaticCredentialsProvider{Value: bad}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	ts, _ := externalaccount.NewTokenSource(ctx, externalaccount.Config{
		Audience: keylesstest.AWSAudience(), SubjectTokenType: "urn:ietf:params:aws:token-type:aws4_request",
		TokenURL: f.URL + "/v1/token", Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"},
		AwsSecurityCredentialsSupplier: awsSupplier{externalaccount.AwsSecurityCredentials{
			AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}},
	})
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	auditLog, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(auditLog), creds.AccessKeyID) {
		t.Fatal("the audit log does not name the issued access key id (the test would prove nothing)")
	}
	sig := func(jwt string) string { return jwt[strings.LastIndexByte(jwt, '.')+1:] }
	for _, sec := range []string{sig(good), sig(denied), creds.SecretAccessKey, creds.SessionToken[:40], bad.SecretAccessKey, sig(tok.AccessToken)} {
		for name, text := range map[string]string{"server log": logBuf.String(), "audit log": string(auditLog)} {
			if strings.Contains(text, sec) {
				t.Errorf("%s contains a secret (%.8s…)", name, sec)
			}
		}
	}
}
