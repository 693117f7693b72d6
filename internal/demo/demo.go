package demo

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/explain"
	"github.com/keylessdev/keyless/internal/server"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// Demo resource names.
const (
	ProjectID     = "demo-project"
	ProjectNumber = "123456789012"
	PoolID        = "demo-pool"
	DeploySA      = "deploy-sa@demo-project.iam.gserviceaccount.com"
	PaymentsSA    = "payments-sa@demo-project.iam.gserviceaccount.com"
	CheckoutSA    = "checkout-sa@demo-project.iam.gserviceaccount.com"
)

// Options configure the demo.
type Options struct {
	Addr    string
	DataDir string // default: a new temporary directory
	Out     io.Writer
	Logger  *slog.Logger
	// configure edits the demo configuration before the server starts (tests).
	configure func(*config.Config)
}

// Demo is a running demo: the server, its issuers and the files written for trying it.
type Demo struct {
	Server      *server.Server
	GitHub, K8s *testissuer.Issuer
	Dir         string
	Failures    int // outcomes that differed from the expected ones
	// Results lists the scenarios run, in order.
	Results []Result
	out     io.Writer
	client  *http.Client
}

// Result is how one scenario went.
type Result struct {
	Title string
	// Unexpected counts the outcomes of the scenario that differed from the expected ones.
	Unexpected int
}

// ProviderAudience returns the STS audience of a demo provider.
func ProviderAudience(provider string) string {
	return "//iam.googleapis.com/projects/" + ProjectNumber + "/locations/global/workloadIdentityPools/" + PoolID + "/providers/" + provider
}

// Config returns the demo federation for the two issuers: the Google pool with a
// GitHub, a Kubernetes and an AWS provider, and the AWS account whose IAM OIDC provider
// is the Kubernetes issuer (an https URL; issuerCAFile holds its certificate).
func Config(githubURL, k8sURL, issuerCAFile string) *config.Config {
	principalSet := "principalSet://iam.googleapis.com/projects/" + ProjectNumber + "/locations/global/workloadIdentityPools/" + PoolID
	return &config.Config{
		OrgPolicy: &config.OrgPolicy{AllowedIssuers: []string{githubURL, k8sURL}},
		Server:    &config.Server{AllowPrivateIssuers: true, AllowInsecureHTTPIssuers: true, IssuerCAFile: issuerCAFile},
		AWS:       awsConfig(k8sURL),
		Google: &config.Google{Projects: []config.Project{{
			ProjectID: ProjectID, ProjectNumber: ProjectNumber,
			WorkloadIdentityPools: []config.WorkloadIdentityPool{{
				WorkloadIdentityPoolID: PoolID, DisplayName: "Demo pool",
				Providers: []config.Provider{
					{
						WorkloadIdentityPoolProviderID: "github", DisplayName: "GitHub Actions (demo)",
						AttributeMapping: map[string]string{
							"google.subject":             "assertion.sub",
							"attribute.repository":       "assertion.repository",
							"attribute.repository_owner": "assertion.repository_owner",
						},
						AttributeCondition: "assertion.repository_owner == 'acme' && assertion.ref == 'refs/heads/main'",
						OIDC:               &config.OIDC{IssuerURI: githubURL},
					},
					{
						WorkloadIdentityPoolProviderID: "kubernetes", DisplayName: "Kubernetes cluster (demo)",
						AttributeMapping: map[string]string{
							"google.subject":      "assertion.sub",
							"attribute.namespace": "assertion['kubernetes.io']['namespace']",
						},
						AttributeCondition: "assertion['kubernetes.io']['namespace'] in ['payments', 'batch']",
						OIDC:               &config.OIDC{IssuerURI: k8sURL, AllowedAudiences: []string{"keyless-demo"}},
					},
					{
						// Google's default AWS mapping: google.subject is the caller's ARN,
						// attribute.aws_role the assumed role without the session name.
						WorkloadIdentityPoolProviderID: AWSProviderID, DisplayName: "AWS account " + AWSAccountID + " (demo)",
						AttributeCondition: "attribute.aws_role.endsWith('assumed-role/" + AWSRoleName + "')",
						AWS:                &config.AWSProvider{AccountID: AWSAccountID},
					},
				},
			}},
			ServiceAccounts: []config.ServiceAccount{
				{AccountID: "deploy-sa", DisplayName: "Deployer", IAMPolicy: &config.IAMPolicy{Bindings: []config.Binding{{
					Role: "roles/iam.workloadIdentityUser", Members: []string{principalSet + "/attribute.repository/acme/deploy"},
				}}}},
				{AccountID: "payments-sa", DisplayName: "Payments", IAMPolicy: &config.IAMPolicy{Bindings: []config.Binding{{
					Role: "roles/iam.workloadIdentityUser", Members: []string{principalSet + "/attribute.namespace/payments"},
				}}}},
				{AccountID: "checkout-sa", DisplayName: "Checkout (reached from AWS)", IAMPolicy: &config.IAMPolicy{Bindings: []config.Binding{{
					Role: "roles/iam.workloadIdentityUser", Members: []string{principalSet + "/attribute.aws_role/" + AWSRoleSessionPrefix()},
				}}}},
			},
		}}},
	}
}

// Start launches issuers and server and runs the scenarios.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := &Demo{out: opts.Out, client: &http.Client{Timeout: 10 * time.Second}}
	var err error
	if d.GitHub, err = testissuer.Start(testissuer.Options{Alg: "RS256"}); err != nil {
		return nil, err
	}
	// The cluster's issuer is served over HTTPS: AWS names IAM OIDC providers and
	// condition keys after the issuer without its https:// scheme.
	if d.K8s, err = testissuer.Start(testissuer.Options{Alg: "ES256", TLS: true}); err != nil {
		d.GitHub.Close()
		return nil, err
	}
	d.Dir = opts.DataDir
	if d.Dir == "" {
		if d.Dir, err = os.MkdirTemp("", "keyless-demo-"); err != nil {
			d.Close()
			return nil, err
		}
	}
	caFile := filepath.Join(d.Dir, "k8s-issuer-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.K8s.Certificate()}), 0o600); err != nil {
		d.Close()
		return nil, err
	}
	cfg := Config(d.GitHub.URL, d.K8s.URL, caFile)
	if opts.configure != nil {
		opts.configure(cfg)
	}
	if probs := cfg.Validate(); len(probs) > 0 {
		d.Close()
		return nil, probs
	}
	d.Server, err = server.New(ctx, server.Options{Config: cfg, DataDir: filepath.Join(d.Dir, "data"), Addr: opts.Addr,
		AuditLog: filepath.Join(d.Dir, "audit.jsonl"), Logger: opts.Logger})
	if err != nil {
		d.Close()
		return nil, err
	}
	go func() { _ = d.Server.Serve() }()
	return d, nil
}

// Close stops everything.
func (d *Demo) Close() {
	if d.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Server.Shutdown(ctx)
	}
	if d.GitHub != nil {
		d.GitHub.Close()
	}
	if d.K8s != nil {
		d.K8s.Close()
	}
}

// GitHubClaims are the claims of a GitHub Actions OIDC token for repo on ref.
func GitHubClaims(owner, repo, ref, aud string) map[string]any {
	full := owner + "/" + repo
	return map[string]any{
		"sub": "repo:" + full + ":ref:" + ref, "aud": aud, "ref": ref, "repository": full,
		"repository_owner": owner, "repository_owner_id": "4242", "run_id": "9876543210", "run_attempt": "1",
		"workflow_ref": full + "/.github/workflows/deploy.yml@" + ref, "event_name": "push",
		"jti": fmt.Sprintf("gh-%d", time.Now().UnixNano()),
	}
}

// K8sClaims are the claims of a projected service account token for aud.
func K8sClaims(namespace, sa, aud string) map[string]any {
	return map[string]any{
		"sub": "system:serviceaccount:" + namespace + ":" + sa, "aud": []string{aud},
		"kubernetes.io": map[string]any{
			"namespace":      namespace,
			"serviceaccount": map[string]any{"name": sa, "uid": "6f1a0c2e-0000-4000-8000-00000000cafe"},
			"pod":            map[string]any{"name": sa + "-7d9f8", "uid": "0b9d7f6e-0000-4000-8000-00000000beef"},
		},
	}
}

type scenario struct {
	title, why string
	// run performs a scenario that is not a plain Google exchange; the fields below
	// describe those.
	run          func(context.Context) error
	issuer       *testissuer.Issuer
	claims       map[string]any
	provider     string
	sa           string // impersonate when the exchange succeeds
	wantSTS      int
	wantImperson int
}

// Run performs the scenarios and prints each outcome with its explanation.
func (d *Demo) Run(ctx context.Context) error {
	base := d.Server.URL
	fmt.Fprintf(d.out, "keyless demo: server %s, issuers %s (GitHub-shaped) and %s (Kubernetes-shaped)\n", base, d.GitHub.URL, d.K8s.URL)
	fmt.Fprintf(d.out, "AWS account %s trusts the Kubernetes issuer; Google pool %s trusts that AWS account\n", AWSAccountID, PoolID)
	fmt.Fprintf(d.out, "data and audit log in %s\n\n", d.Dir)
	ghAud := "https://iam.googleapis.com/projects/" + ProjectNumber + "/locations/global/workloadIdentityPools/" + PoolID + "/providers/github"
	scenarios := []scenario{
		{title: "GitHub Actions acme/deploy on main -> deploy-sa", why: "allowed through the principalSet binding on attribute.repository",
			issuer: d.GitHub, claims: GitHubClaims("acme", "deploy", "refs/heads/main", ghAud), provider: "github", sa: DeploySA, wantSTS: 200, wantImperson: 200},
		{title: "GitHub Actions evil-corp/deploy -> deploy-sa", why: "denied by the attribute condition (repository_owner)",
			issuer: d.GitHub, claims: GitHubClaims("evil-corp", "deploy", "refs/heads/main", ghAud), provider: "github", sa: DeploySA, wantSTS: 400},
		{title: "Kubernetes batch/report-job -> payments-sa", why: "federation succeeds, impersonation denied: no binding for namespace batch",
			issuer: d.K8s, claims: K8sClaims("batch", "report-job", "keyless-demo"), provider: "kubernetes", sa: PaymentsSA, wantSTS: 200, wantImperson: 403},
		{title: "GitHub Actions acme/deploy with the wrong audience", why: "denied at credential verification (aud)",
			issuer: d.GitHub, claims: GitHubClaims("acme", "deploy", "refs/heads/main", "https://github.com/acme"), provider: "github", sa: DeploySA, wantSTS: 400},
		{title: "Kubernetes payments/checkout -> payments-sa", why: "allowed through the namespace binding",
			issuer: d.K8s, claims: K8sClaims("payments", "checkout", "keyless-demo"), provider: "kubernetes", sa: PaymentsSA, wantSTS: 200, wantImperson: 200},
		{title: "Cross-cloud chain: Kubernetes shop/checkout -> AWS role " + AWSRolePath[1:] + AWSRoleName + " -> Google checkout-sa",
			why: "AWS trusts the cluster's issuer; Google trusts the AWS role's sessions; one correlation key links every step",
			run: d.crossCloudChain},
		{title: "Kubernetes payments/checkout -> AWS role " + AWSRolePath[1:] + AWSRoleName,
			why: "AccessDenied: the trust policy pins namespace shop (same service account name, other namespace)",
			run: d.trustPolicyDenial},
	}
	for i, sc := range scenarios {
		fmt.Fprintf(d.out, "%d. %s\n   expected: %s\n", i+1, sc.title, sc.why)
		before := d.Failures
		run := sc.run
		if run == nil {
			run = func(ctx context.Context) error { return d.runScenario(ctx, sc) }
		}
		if err := run(ctx); err != nil {
			return err
		}
		d.Results = append(d.Results, Result{Title: sc.title, Unexpected: d.Failures - before})
		fmt.Fprintln(d.out)
	}
	return d.writeTryItFiles()
}

func (d *Demo) runScenario(ctx context.Context, sc scenario) error {
	tok, err := sc.issuer.Mint(sc.claims)
	if err != nil {
		return err
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "audience": {ProviderAudience(sc.provider)},
		"scope": {"https://www.googleapis.com/auth/cloud-platform"}, "requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token": {tok}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"},
	}
	status, body, decision, err := d.post(ctx, "/v1/token", "application/x-www-form-urlencoded", form.Encode(), "")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   POST /v1/token -> %d %s\n", status, summarize(body))
	d.check(status, sc.wantSTS)
	if status != 200 {
		return d.explain(ctx, decision)
	}
	var sts struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &sts); err != nil {
		return err
	}
	path := "/v1/projects/-/serviceAccounts/" + sc.sa + ":generateAccessToken"
	status, body, decision, err = d.post(ctx, path, "application/json", `{"scope":["https://www.googleapis.com/auth/cloud-platform"],"lifetime":"600s"}`, sts.AccessToken)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   POST %s -> %d %s\n", path, status, summarize(body))
	d.check(status, sc.wantImperson)
	return d.explain(ctx, decision)
}

func (d *Demo) check(got, want int) {
	if got != want {
		d.unexpected("status %d, the demo expected %d", got, want)
	}
}

// unexpected records and prints an outcome that differs from the expected one.
func (d *Demo) unexpected(format string, args ...any) {
	d.Failures++
	fmt.Fprintf(d.out, "   UNEXPECTED: %s\n", fmt.Sprintf(format, args...))
}

func (d *Demo) post(ctx context.Context, path, ctype, body, bearer string) (int, []byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Server.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "keyless-demo")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, resp.Header.Get("X-Keyless-Decision-Id"), err
}

// explain prints the stored decision's trace, fetched like `keyless explain --server`.
func (d *Demo) explain(ctx context.Context, decision string) error {
	if decision == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.Server.URL+"/v1/decisions/"+decision, nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("decision %s: %d %s", decision, resp.StatusCode, b)
	}
	var buf strings.Builder
	if err := explain.RenderEvent(&buf, b); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		fmt.Fprintf(d.out, "   %s\n", line)
	}
	return nil
}

// summarize shortens a JSON response for display: tokens are elided.
func summarize(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return strings.TrimSpace(string(b))
	}
	for _, k := range []string{"access_token", "accessToken", "token"} {
		if s, ok := m[k].(string); ok && len(s) > 24 {
			m[k] = s[:16] + "…(" + fmt.Sprint(len(s)) + " bytes)"
		}
	}
	out, _ := json.Marshal(m)
	return string(out)
}

// writeTryItFiles writes a fresh token and a credential configuration, and prints how
// to use them by hand.
func (d *Demo) writeTryItFiles() error {
	ghAud := "https://iam.googleapis.com/projects/" + ProjectNumber + "/locations/global/workloadIdentityPools/" + PoolID + "/providers/github"
	claims := GitHubClaims("acme", "deploy", "refs/heads/main", ghAud)
	tok, err := d.GitHub.Mint(claims)
	if err != nil {
		return err
	}
	tokFile := filepath.Join(d.Dir, "github-token.jwt")
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	cred := map[string]any{
		"universe_domain": "googleapis.com", "type": "external_account",
		"audience": ProviderAudience("github"), "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
		"token_url": d.Server.URL + "/v1/token", "credential_source": map[string]any{"file": tokFile},
		"service_account_impersonation_url": d.Server.URL + "/v1/projects/-/serviceAccounts/" + DeploySA + ":generateAccessToken",
	}
	b, _ := json.MarshalIndent(cred, "", "  ")
	credFile := filepath.Join(d.Dir, "credential-config.json")
	if err := os.WriteFile(credFile, b, 0o600); err != nil {
		return err
	}
	k8sTok, err := d.K8s.Mint(K8sClaims("shop", "checkout", AWSClientID))
	if err != nil {
		return err
	}
	k8sFile := filepath.Join(d.Dir, "k8s-token-for-aws.jwt")
	if err := os.WriteFile(k8sFile, []byte(k8sTok), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(d.out, `Try it by hand (the tokens in %s are valid for 10 minutes):
  curl -s %s/v1/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
    -d subject_token_type=urn:ietf:params:oauth:token-type:jwt -d scope=https://www.googleapis.com/auth/cloud-platform \
    --data-urlencode audience=%s --data-urlencode subject_token@%s
  gcloud auth login --cred-file=%s   # then: gcloud auth print-access-token
  aws sts assume-role-with-web-identity --endpoint-url %s --region us-east-1 \
    --role-arn %s --role-session-name by-hand --web-identity-token file://%s
  curl -s %s/.well-known/openid-configuration   # keyless as an OIDC issuer; JWKS at /jwks
  curl -s %s/v1/decisions/DECISION_ID           # any decision id printed above, explained
  curl -s %s/metrics | grep keyless_
`, d.Dir, d.Server.URL, ProviderAudience("github"), tokFile, credFile, d.Server.URL, AWSRoleARN(), k8sFile,
		d.Server.URL, d.Server.URL, d.Server.URL)
	return nil
}
