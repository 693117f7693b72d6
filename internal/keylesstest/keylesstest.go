// Package keylesstest starts real keyless servers and test issuers for tests, on
// loopback only.
package keylesstest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/server"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// Fixture is a running server with the standard test federation.
type Fixture struct {
	*server.Server
	Issuer *testissuer.Issuer
	Config *config.Config
	// Client talks to the server; its idle connections close with the test.
	Client *http.Client
}

// Standard names of the test federation.
const (
	ProjectID     = "test-project"
	ProjectNumber = "123456789012"
	PoolID        = "test-pool"
	ProviderID    = "test-provider"
	SAEmail       = "deployer@test-project.iam.gserviceaccount.com"
	OtherSAEmail  = "other-sa@test-project.iam.gserviceaccount.com"
)

// Audience is the STS audience of the standard provider.
func Audience() string {
	return "//iam.googleapis.com/projects/" + ProjectNumber + "/locations/global/workloadIdentityPools/" + PoolID + "/providers/" + ProviderID
}

// PrincipalSet is the pool's principalSet prefix.
func PrincipalSet() string {
	return "principalSet://iam.googleapis.com/projects/" + ProjectNumber + "/locations/global/workloadIdentityPools/" + PoolID
}

// StandardConfig is a pool with one OIDC provider (keys pinned) whose condition requires
// repository_owner == 'acme', a service account bound to attribute.repository/acme/app,
// and a second service account with no bindings.
func StandardConfig(is *testissuer.Issuer) *config.Config {
	return &config.Config{
		Google: &config.Google{Projects: []config.Project{{
			ProjectID: ProjectID, ProjectNumber: ProjectNumber,
			WorkloadIdentityPools: []config.WorkloadIdentityPool{{
				WorkloadIdentityPoolID: PoolID,
				Providers: []config.Provider{{
					WorkloadIdentityPoolProviderID: ProviderID,
					AttributeMapping: map[string]string{
						"google.subject":       "assertion.sub",
						"attribute.repository": "assertion.repository",
					},
					AttributeCondition: "assertion.repository_owner == 'acme'",
					OIDC:               &config.OIDC{IssuerURI: is.URL, AllowedAudiences: []string{"keyless-test"}, JWKSJSON: is.JWKS()},
				}},
			}},
			ServiceAccounts: []config.ServiceAccount{
				{AccountID: "deployer", IAMPolicy: &config.IAMPolicy{Bindings: []config.Binding{
					{Role: "roles/iam.workloadIdentityUser", Members: []string{PrincipalSet() + "/attribute.repository/acme/app"}},
					{Role: "roles/iam.serviceAccountOpenIdTokenCreator", Members: []string{PrincipalSet() + "/attribute.repository/acme/app"}},
				}}},
				{AccountID: "other-sa"},
			},
		}}},
	}
}

// Start starts a test issuer and a server with cfg (StandardConfig when mutate is nil;
// mutate may edit the standard config); opts may adjust the server options.
func Start(t testing.TB, mutate func(*config.Config, *testissuer.Issuer), opts ...func(*server.Options)) *Fixture {
	t.Helper()
	is, err := testissuer.Start(testissuer.Options{Alg: "RS256", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	cfg := StandardConfig(is)
	if mutate != nil {
		mutate(cfg, is)
	}
	if probs := cfg.Validate(); len(probs) > 0 {
		t.Fatalf("test config invalid: %v", probs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	so := server.Options{Config: cfg, DataDir: t.TempDir(), Listener: ln, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&so)
	}
	srv, err := server.New(context.Background(), so)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return &Fixture{Server: srv, Issuer: is, Config: cfg, Client: client}
}

// GitHubToken mints a GitHub-shaped token for owner/repo with aud "keyless-test".
func (f *Fixture) GitHubToken(t testing.TB, owner, repo string, extra map[string]any) string {
	t.Helper()
	c := map[string]any{"sub": "repo:" + owner + "/" + repo + ":ref:refs/heads/main", "aud": "keyless-test",
		"repository": owner + "/" + repo, "repository_owner": owner, "ref": "refs/heads/main", "run_id": "42", "jti": "jti-1"}
	for k, v := range extra {
		c[k] = v
	}
	tok, err := f.Issuer.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// STSForm is a valid token-exchange form for subjectToken.
func STSForm(subjectToken string) url.Values {
	return url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"audience":             {Audience()},
		"scope":                {"https://www.googleapis.com/auth/cloud-platform"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token":        {subjectToken},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:jwt"},
	}
}

// Post sends body to path and returns the response (body read and closed).
func (f *Fixture) Post(t testing.TB, path, ctype, body, bearer string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// Names of the AWS side of the test federation (see WithAWS).
const (
	AWSAccountID  = "210987654321"
	AWSRoleName   = "ci-deployer"
	AWSProviderID = "aws-provider"
	// AWSClientID is the audience AWS web identity tokens carry.
	AWSClientID = "sts.amazonaws.com"
)

// AWSRoleARN is the test role's ARN.
func AWSRoleARN() string { return "arn:aws:iam::" + AWSAccountID + ":role/ci/" + AWSRoleName }

// AWSAudience is the STS audience of the Google aws provider.
func AWSAudience() string {
	return "//iam.googleapis.com/projects/" + ProjectNumber + "/locations/global/workloadIdentityPools/" + PoolID + "/providers/" + AWSProviderID
}

// AWSRoleMember is the principalSet of every session of the test role.
func AWSRoleMember() string {
	return PrincipalSet() + "/attribute.aws_role/arn:aws:sts::" + AWSAccountID + ":assumed-role/" + AWSRoleName
}

// WithAWS adds the cross-cloud chain to cfg: AWS account AWSAccountID trusts the test
// issuer as an IAM OIDC provider (client id sts.amazonaws.com); role ci/ci-deployer
// may be assumed by tokens whose sub starts with "repo:acme/" (a Deny refuses the
// "repo:acme/forbidden" repository); and the Google pool gains an aws provider for that
// account (Google's default AWS mapping), whose role sessions may impersonate the
// deployer service account.
func WithAWS(cfg *config.Config, is *testissuer.Issuer) {
	host := strings.TrimPrefix(strings.TrimPrefix(is.URL, "https://"), "http://")
	trust := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"AcmeRepos","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + AWSAccountID + `:oidc-provider/` + host + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:aud":"sts.amazonaws.com"},` +
		`"StringLike":{"` + host + `:sub":"repo:acme/*"}}},` +
		`{"Sid":"NotForbidden","Effect":"Deny","Principal":{"Federated":"arn:aws:iam::` + AWSAccountID + `:oidc-provider/` + host + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + host + `:sub":"repo:acme/forbidden:*"}}}]}`
	cfg.AWS = &config.AWS{Accounts: []config.AWSAccount{{
		AccountID: AWSAccountID,
		OpenIDConnectProviders: []config.OpenIDConnectProvider{{
			URL: is.URL, ClientIDList: []string{AWSClientID}, JWKSJSON: is.JWKS(),
		}},
		Roles: []config.Role{{RoleName: AWSRoleName, Path: "/ci/", MaxSessionDuration: 7200,
			AssumeRolePolicyDocument: []byte(trust)}},
	}}}
	p := &cfg.Google.Projects[0]
	pool := &p.WorkloadIdentityPools[0]
	pool.Providers = append(pool.Providers, config.Provider{
		WorkloadIdentityPoolProviderID: AWSProviderID,
		AWS:                            &config.AWSProvider{AccountID: AWSAccountID},
	})
	sa := &p.ServiceAccounts[0]
	sa.IAMPolicy.Bindings = append(sa.IAMPolicy.Bindings,
		config.Binding{Role: "roles/iam.workloadIdentityUser", Members: []string{AWSRoleMember()}})
}

// AWSToken mints a Kubernetes-or-GitHub-shaped web identity token for AWS: aud
// sts.amazonaws.com, sub "repo:acme/<repo>:ref:refs/heads/main".
func (f *Fixture) AWSToken(t testing.TB, repo string, extra map[string]any) string {
	t.Helper()
	return f.GitHubToken(t, "acme", repo, mergeClaims(map[string]any{"aud": AWSClientID}, extra))
}

func mergeClaims(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}
