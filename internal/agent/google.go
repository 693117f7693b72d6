package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google/externalaccount"
)

// credentialFile is the external_account credential configuration (google-protocol.md §3).
type credentialFile struct {
	Type                           string `json:"type"`
	Audience                       string `json:"audience"`
	SubjectTokenType               string `json:"subject_token_type"`
	TokenURL                       string `json:"token_url"`
	TokenInfoURL                   string `json:"token_info_url"`
	ServiceAccountImpersonationURL string `json:"service_account_impersonation_url"`
	ServiceAccountImpersonation    struct {
		TokenLifetimeSeconds int `json:"token_lifetime_seconds"`
	} `json:"service_account_impersonation"`
	CredentialSource         externalaccount.CredentialSource `json:"credential_source"`
	QuotaProjectID           string                           `json:"quota_project_id"`
	WorkforcePoolUserProject string                           `json:"workforce_pool_user_project"`
	UniverseDomain           string                           `json:"universe_domain"`
}

// GoogleExchange performs the exchange an external_account credential configuration
// describes, with golang.org/x/oauth2's implementation (every credential source the
// Google SDKs support), and mints ID tokens through IAM Credentials.
type GoogleExchange struct {
	base   externalaccount.Config
	email  string // impersonated service account ("" without impersonation)
	client *http.Client
}

// NewGoogleExchange reads the credential configuration at path. aws, when non-nil,
// supplies the AWS credentials for a configuration with an "aws" credential source
// (the chained pipeline: the agent's own AWS credentials federate into Google).
func NewGoogleExchange(path, caFile string, aws externalaccount.AwsSecurityCredentialsSupplier) (*GoogleExchange, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f credentialFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Type != "external_account" {
		return nil, fmt.Errorf("%s: type is %q, want external_account", path, f.Type)
	}
	cfg := externalaccount.Config{
		Audience: f.Audience, SubjectTokenType: f.SubjectTokenType, TokenURL: f.TokenURL, TokenInfoURL: f.TokenInfoURL,
		ServiceAccountImpersonationURL:             f.ServiceAccountImpersonationURL,
		ServiceAccountImpersonationLifetimeSeconds: f.ServiceAccountImpersonation.TokenLifetimeSeconds,
		QuotaProjectID: f.QuotaProjectID, WorkforcePoolUserProject: f.WorkforcePoolUserProject,
		UniverseDomain: f.UniverseDomain, Scopes: defaultScopes,
	}
	src := f.CredentialSource
	switch {
	case strings.HasPrefix(strings.ToLower(src.EnvironmentID), "aws") && aws != nil:
		cfg.AwsSecurityCredentialsSupplier = aws
	default:
		cfg.CredentialSource = &src
		if src.Executable != nil {
			// The operator named this executable in the agent's own configuration; the
			// SDK's opt-in guards library users from configs of unknown origin.
			if err := os.Setenv("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1"); err != nil {
				return nil, err
			}
		}
	}
	g := &GoogleExchange{base: cfg, client: &http.Client{Timeout: 30 * time.Second}}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates", caFile)
		}
		g.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment}
	}
	if u := f.ServiceAccountImpersonationURL; u != "" {
		if g.email, err = impersonatedEmail(u); err != nil {
			return nil, fmt.Errorf("%s: service_account_impersonation_url: %w", path, err)
		}
	}
	// Validate the configuration now rather than at the first request.
	if _, err := externalaccount.NewTokenSource(g.ctx(context.Background()), cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Email is the impersonated service account, "" when the configuration does not
// impersonate.
func (g *GoogleExchange) Email() string { return g.email }

func (g *GoogleExchange) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, g.client)
}

// AccessToken performs the whole exchange for scopes (a service account token with
// impersonation, else the federated token).
func (g *GoogleExchange) AccessToken(ctx context.Context, scopes []string) (*oauth2.Token, error) {
	cfg := g.base
	if len(scopes) > 0 {
		cfg.Scopes = scopes
	}
	ts, err := externalaccount.NewTokenSource(g.ctx(ctx), cfg)
	if err != nil {
		return nil, err
	}
	return ts.Token()
}

// IDToken mints an ID token for audience as the impersonated service account
// (IAM Credentials generateIdToken at the impersonation endpoint's host).
func (g *GoogleExchange) IDToken(ctx context.Context, audience string, includeEmail bool) (string, time.Time, error) {
	if g.email == "" {
		return "", time.Time{}, errors.New("ID tokens need service account impersonation in the credential configuration")
	}
	fed := g.base
	fed.ServiceAccountImpersonationURL = ""
	fed.Scopes = defaultScopes
	ts, err := externalaccount.NewTokenSource(g.ctx(ctx), fed)
	if err != nil {
		return "", time.Time{}, err
	}
	tok, err := ts.Token()
	if err != nil {
		return "", time.Time{}, err
	}
	endpoint := strings.TrimSuffix(g.base.ServiceAccountImpersonationURL, ":generateAccessToken") + ":generateIdToken"
	body, _ := json.Marshal(map[string]any{"audience": audience, "includeEmail": includeEmail})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := g.client.Do(req)
	if err != nil {
		return "", time.Time{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("generateIdToken: %s: %s", resp.Status, firstLine(b))
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		return "", time.Time{}, fmt.Errorf("generateIdToken: malformed answer")
	}
	return out.Token, jwtExpiry(out.Token), nil
}

// impersonatedEmail extracts EMAIL from .../serviceAccounts/EMAIL:generateAccessToken.
func impersonatedEmail(u string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	path := pu.Path
	i := strings.LastIndex(path, "/serviceAccounts/")
	if i < 0 || !strings.HasSuffix(path, ":generateAccessToken") {
		return "", fmt.Errorf("%q does not end in /serviceAccounts/EMAIL:generateAccessToken", u)
	}
	email, err := url.PathUnescape(strings.TrimSuffix(path[i+len("/serviceAccounts/"):], ":generateAccessToken"))
	if err != nil || email == "" || strings.Contains(email, "/") {
		return "", fmt.Errorf("%q names no service account", u)
	}
	return email, nil
}

// jwtExpiry reads exp from a JWT's payload without verifying it (the token comes from
// the agent's own exchange; only its lifetime is needed for caching). Zero when absent.
func jwtExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return time.Time{}
	}
	n, err := c.Exp.Int64()
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
