package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/keylessdev/keyless/internal/agent/awsmeta"
	"github.com/keylessdev/keyless/internal/agent/gcemeta"
	"github.com/keylessdev/keyless/internal/agent/refresh"
)

// Options configure an Agent.
type Options struct {
	Config *Config
	Logger *slog.Logger
	Now    func() time.Time
	// Listen opens the listeners (tests); default net.Listen("tcp", addr).
	Listen func(addr string) (net.Listener, error)
	// Refresh tunes every cache (tests shorten the backoff); Name and Fetch are set by
	// the agent.
	Refresh refresh.Options
}

// Agent runs the configured pipelines, keeps their credentials fresh and serves them.
type Agent struct {
	opts     Options
	log      *slog.Logger
	google   *GoogleExchange
	aws      *AWSExchange
	gDefault *refresh.Cache // the Google access token for the default scopes (kept warm)
	gTokens  *refresh.Group // Google access tokens for other scope sets
	gIDs     *refresh.Group // Google ID tokens by audience
	aCreds   *refresh.Cache // AWS role credentials
	caches   []*refresh.Cache
	reg      *prometheus.Registry

	servers []*http.Server
	lns     []net.Listener
	// Addrs are the bound addresses by endpoint name (gceMetadata, imds,
	// containerCredentials, status).
	Addrs map[string]string

	filesMu sync.Mutex
}

// New builds the agent: exchanges, caches, handlers and listeners. Call Run.
func New(opts Options) (*Agent, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Listen == nil {
		opts.Listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	c := opts.Config
	a := &Agent{opts: opts, log: opts.Logger, reg: prometheus.NewRegistry(), Addrs: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			a.closeListeners()
		}
	}()
	tmpl := opts.Refresh
	tmpl.Now = opts.Now
	tmpl.OnEvent = a.onEvent

	if c.Google != nil {
		var supplier externalaccount.AwsSecurityCredentialsSupplier
		if c.AWS != nil && c.AWS.WebIdentityFromGoogle == nil {
			supplier = awsSupplier{a}
		}
		x, err := NewGoogleExchange(c.Google.CredentialConfig, c.Google.CAFile, supplier)
		if err != nil {
			return nil, fmt.Errorf("google: %w", err)
		}
		a.google = x
		fetch := func(scopes []string) refresh.FetchFunc {
			return func(ctx context.Context) (refresh.Credential, error) {
				tok, err := x.AccessToken(ctx, scopes)
				if err != nil {
					return refresh.Credential{}, denial(err)
				}
				return refresh.Credential{Value: tok, Expiry: tok.Expiry}, nil
			}
		}
		dt := tmpl
		dt.Name, dt.Fetch = "google-access-token", fetch(a.defaultScopes())
		if a.gDefault, err = refresh.New(dt); err != nil {
			return nil, err
		}
		a.caches = append(a.caches, a.gDefault)
		at := tmpl
		at.Name = "google-access-token-scoped"
		a.gTokens = refresh.NewGroup(refresh.GroupOptions{Template: at, MaxKeys: 16, NewFetch: func(key string) refresh.FetchFunc {
			return fetch(strings.Split(key, " "))
		}})
		it := tmpl
		it.Name = "google-id-token"
		a.gIDs = refresh.NewGroup(refresh.GroupOptions{Template: it, MaxKeys: 32, NewFetch: func(key string) refresh.FetchFunc {
			return func(ctx context.Context) (refresh.Credential, error) {
				tok, exp, err := x.IDToken(ctx, key, true)
				if err != nil {
					return refresh.Credential{}, denial(err)
				}
				return refresh.Credential{Value: tok, Expiry: exp}, nil
			}
		}})
	}
	if c.AWS != nil {
		var identity stscreds.IdentityTokenRetriever
		switch {
		case c.AWS.WebIdentityFromGoogle != nil:
			identity = googleIdentity{a, c.AWS.WebIdentityFromGoogle.Audience}
		case c.AWS.WebIdentityURL != nil:
			identity = urlIdentity{src: *c.AWS.WebIdentityURL, client: &http.Client{Timeout: 30 * time.Second}}
		case c.AWS.WebIdentityExecutable != nil:
			identity = execIdentity{src: *c.AWS.WebIdentityExecutable, roleARN: c.AWS.RoleARN, now: opts.Now}
		}
		x, err := NewAWSExchange(*c.AWS, identity)
		if err != nil {
			return nil, fmt.Errorf("aws: %w", err)
		}
		a.aws = x
		o := tmpl
		o.Name = "aws-role"
		o.Fetch = func(ctx context.Context) (refresh.Credential, error) {
			cr, err := x.Credentials(ctx)
			if err != nil {
				return refresh.Credential{}, err
			}
			return refresh.Credential{Value: cr, Expiry: cr.Expires}, nil
		}
		if a.aCreds, err = refresh.New(o); err != nil {
			return nil, err
		}
		a.caches = append(a.caches, a.aCreds)
	}
	if err := a.listen(); err != nil {
		return nil, err
	}
	if f := c.Files; f != nil && f.AWSConfig != "" {
		if err := writeFileAtomic(f.AWSConfig, awsConfigFile(f.AWSProfile, c.AWS.Region)); err != nil {
			return nil, fmt.Errorf("files.awsConfig: %w", err)
		}
	}
	a.registerMetrics()
	ok = true
	return a, nil
}

// denial marks an exchange error that is a policy decision (the STS or IAM Credentials
// refused: invalid_grant, unauthorized_client, invalid_target, PERMISSION_DENIED) so the
// metadata server answers 403, which SDKs do not retry, instead of 500, which they do.
func denial(err error) error {
	msg := err.Error()
	for _, m := range []string{"PERMISSION_DENIED", "status code 403", "invalid_grant", "unauthorized_client", "invalid_target"} {
		if strings.Contains(msg, m) {
			return fmt.Errorf("%w: %w", gcemeta.ErrPermissionDenied, err)
		}
	}
	return err
}

// googleIdentity supplies the AWS pipeline's web identity: an ID token of the Google
// pipeline's service account (cached per audience).
type googleIdentity struct {
	a        *Agent
	audience string
}

func (g googleIdentity) GetIdentityToken() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := (googleTokens{g.a}).IDToken(ctx, g.audience, "full", false)
	return []byte(tok), err
}

// awsSupplier feeds the Google exchange the agent's own AWS credentials (the chained
// pipeline: a web identity becomes AWS credentials, which federate into Google).
type awsSupplier struct{ a *Agent }

func (s awsSupplier) AwsRegion(context.Context, externalaccount.SupplierOptions) (string, error) {
	return s.a.opts.Config.AWS.Region, nil
}

func (s awsSupplier) AwsSecurityCredentials(ctx context.Context, _ externalaccount.SupplierOptions) (*externalaccount.AwsSecurityCredentials, error) {
	cr, err := s.a.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	return &externalaccount.AwsSecurityCredentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken}, nil
}

// Retrieve implements aws.CredentialsProvider from the AWS cache.
func (a *Agent) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if a.aCreds == nil {
		return aws.Credentials{}, errors.New("no aws pipeline")
	}
	c, err := a.aCreds.Get(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return c.Value.(aws.Credentials), nil
}

// googleTokens implements gcemeta.Tokens from the Google caches.
type googleTokens struct{ a *Agent }

func (g googleTokens) AccessToken(ctx context.Context, scopes []string) (string, time.Time, error) {
	var c refresh.Credential
	var err error
	if key := scopeKey(scopes); len(scopes) == 0 || key == scopeKey(g.a.defaultScopes()) {
		c, err = g.a.gDefault.Get(ctx)
	} else {
		c, err = g.a.gTokens.Get(ctx, key)
	}
	if err != nil {
		return "", time.Time{}, err
	}
	tok := c.Value.(*oauth2.Token)
	return tok.AccessToken, tok.Expiry, nil
}

func (g googleTokens) IDToken(ctx context.Context, audience, _ string, _ bool) (string, error) {
	c, err := g.a.gIDs.Get(ctx, audience)
	if err != nil {
		return "", err
	}
	return c.Value.(string), nil
}

// scopeKey is a scope set's canonical form (sorted, space-separated).
func scopeKey(scopes []string) string {
	s := append([]string(nil), scopes...)
	sort.Strings(s)
	return strings.Join(slices.Compact(s), " ")
}

func (a *Agent) defaultScopes() []string {
	if g := a.opts.Config.Google; g != nil && len(g.Scopes) > 0 {
		return g.Scopes
	}
	return defaultScopes
}

func (a *Agent) email() string {
	g := a.opts.Config.Google
	switch {
	case g.ServiceAccountEmail != "":
		return g.ServiceAccountEmail
	case a.google.Email() != "":
		return a.google.Email()
	}
	// Without impersonation the token is the federated principal's, which has no email;
	// metadata clients still need a stable NAME@DOMAIN for the default account.
	return "federated@keyless.invalid"
}

func (a *Agent) listen() error {
	s := a.opts.Config.Serve
	type ep struct {
		name, addr string
		handler    func() (http.Handler, error)
	}
	eps := []ep{
		{"gceMetadata", s.GCEMetadata, func() (http.Handler, error) {
			g := a.opts.Config.Google
			return gcemeta.NewHandler(gcemeta.Options{ProjectID: g.ProjectID, NumericProjectID: g.ProjectNumber, Now: a.opts.Now, Logger: a.log,
				Accounts: []gcemeta.Account{{Email: a.email(), Scopes: a.defaultScopes(), Tokens: googleTokens{a}}}})
		}},
		{"imds", s.IMDS, func() (http.Handler, error) {
			return awsmeta.NewIMDS(awsmeta.IMDSOptions{RoleName: a.aws.RoleName(), Credentials: a, Region: a.opts.Config.AWS.Region, Now: a.opts.Now, Logger: a.log})
		}},
		{"containerCredentials", s.ContainerCredentials, func() (http.Handler, error) {
			return awsmeta.NewContainer(awsmeta.ContainerOptions{Credentials: a, AuthTokenFile: s.ContainerAuthorizationTokenFile,
				RoleARN: a.opts.Config.AWS.RoleARN, Now: a.opts.Now, Logger: a.log})
		}},
		{"status", s.Status, func() (http.Handler, error) { return a.statusHandler(), nil }},
	}
	for _, e := range eps {
		if e.addr == "" {
			continue
		}
		h, err := e.handler()
		if err != nil {
			return fmt.Errorf("serve.%s: %w", e.name, err)
		}
		ln, err := a.opts.Listen(e.addr)
		if err != nil {
			return fmt.Errorf("serve.%s: %w", e.name, err)
		}
		a.lns = append(a.lns, ln)
		a.Addrs[e.name] = ln.Addr().String()
		a.servers = append(a.servers, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10,
			ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)})
	}
	return nil
}

func (a *Agent) closeListeners() {
	for _, ln := range a.lns {
		_ = ln.Close()
	}
}

// Run serves and refreshes until ctx is done, then shuts the servers down.
func (a *Agent) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, c := range a.caches {
		wg.Add(1)
		go func() { defer wg.Done(); c.Run(ctx) }()
	}
	errc := make(chan error, len(a.servers))
	for i, srv := range a.servers {
		go func() { errc <- srv.Serve(a.lns[i]) }()
	}
	for name, addr := range a.Addrs {
		a.log.Info("agent serving", "endpoint", name, "addr", addr)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range a.servers {
		_ = srv.Shutdown(sctx)
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// onEvent logs fetch outcomes (never the credential) and writes the configured files.
func (a *Agent) onEvent(ev refresh.Event) {
	switch ev.Kind {
	case refresh.EventFetchOK:
		if life := ev.Expiry.Sub(ev.Start); life > 0 && life <= 2*a.margin() {
			a.log.Warn("credential lifetime is too short to serve from cache; raise it above twice the expiry margin",
				"pipeline", ev.Name, "lifetime", life.Round(time.Second), "margin", a.margin())
		}
		a.log.Info("credential refreshed", "pipeline", ev.Name, "key", ev.Key, "expires", ev.Expiry.UTC().Format(time.RFC3339),
			"took", ev.Duration.Round(time.Millisecond), "next", ev.NextRefresh.UTC().Format(time.RFC3339))
		switch ev.Name {
		case "aws-role":
			go a.writeAWSFile()
		case "google-access-token":
			go a.writeGoogleFile(context.Background())
		}
	case refresh.EventFetchFailed:
		a.log.Warn("credential refresh failed", "pipeline", ev.Name, "key", ev.Key, "err", ev.Err,
			"took", ev.Duration.Round(time.Millisecond), "consecutive", ev.ConsecutiveFailures, "retry", ev.NextRefresh.UTC().Format(time.RFC3339))
	}
}

func (a *Agent) writeGoogleFile(ctx context.Context) {
	f := a.opts.Config.Files
	if f == nil || f.GoogleAccessToken == "" {
		return
	}
	tok, _, err := (googleTokens{a}).AccessToken(ctx, nil)
	if err != nil {
		return
	}
	a.filesMu.Lock()
	defer a.filesMu.Unlock()
	if err := writeFileAtomic(f.GoogleAccessToken, []byte(tok)); err != nil {
		a.log.Warn("writing the google token file failed", "path", f.GoogleAccessToken, "err", err)
	}
}

func (a *Agent) writeAWSFile() {
	f := a.opts.Config.Files
	if f == nil || f.AWSCredentials == "" {
		return
	}
	cr, err := a.Retrieve(context.Background())
	if err != nil {
		return
	}
	a.filesMu.Lock()
	defer a.filesMu.Unlock()
	if err := writeFileAtomic(f.AWSCredentials, awsCredentialsFile(f.AWSProfile, cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken, cr.Expires)); err != nil {
		a.log.Warn("writing the aws credentials file failed", "path", f.AWSCredentials, "err", err)
	}
}

// margin is the caches' expiry margin (refresh.DefaultExpiryMargin unless tuned).
func (a *Agent) margin() time.Duration {
	if m := a.opts.Refresh.ExpiryMargin; m != 0 {
		return max(m, 0)
	}
	return refresh.DefaultExpiryMargin
}

// Statuses lists every cache's status.
func (a *Agent) Statuses() []refresh.Status {
	var out []refresh.Status
	for _, c := range a.caches {
		out = append(out, c.Status())
	}
	if a.gTokens != nil {
		out = append(out, a.gTokens.Status()...)
		out = append(out, a.gIDs.Status()...)
	}
	return out
}

// statusHandler serves GET /status (JSON) and GET /metrics (Prometheus).
func (a *Agent) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		now := a.opts.Now()
		type entry struct {
			Pipeline            string     `json:"pipeline"`
			Key                 string     `json:"key,omitempty"`
			Valid               bool       `json:"valid"`
			Expiry              *time.Time `json:"expiry,omitempty"`
			ExpiresInSeconds    int64      `json:"expiresInSeconds,omitempty"`
			AgeSeconds          int64      `json:"ageSeconds,omitempty"`
			NextRefresh         *time.Time `json:"nextRefresh,omitempty"`
			Refreshes           int64      `json:"refreshes"`
			Failures            int64      `json:"failures"`
			ConsecutiveFailures int64      `json:"consecutiveFailures"`
			LastError           string     `json:"lastError,omitempty"`
		}
		// Health is that of the pipelines kept warm in the background (default Google
		// token, AWS credentials); on-demand entries (ID tokens per audience, other scope
		// sets) refresh when read, so an idle one going stale says nothing about health.
		healthy := true
		for _, c := range a.caches {
			healthy = healthy && c.Status().Valid
		}
		var out []entry
		for _, s := range a.Statuses() {
			e := entry{Pipeline: s.Name, Key: s.Key, Valid: s.Valid, Refreshes: s.Refreshes, Failures: s.Failures,
				ConsecutiveFailures: s.ConsecutiveFailures, LastError: s.LastError, AgeSeconds: int64(s.Age / time.Second)}
			if !s.Expiry.IsZero() {
				x := s.Expiry.UTC()
				e.Expiry, e.ExpiresInSeconds = &x, int64(s.Expiry.Sub(now)/time.Second)
			}
			if !s.NextRefresh.IsZero() {
				x := s.NextRefresh.UTC()
				e.NextRefresh = &x
			}
			out = append(out, e)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"healthy": healthy, "pipelines": out})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	return mux
}

// registerMetrics exports every cache's status as gauges and counters.
func (a *Agent) registerMetrics() {
	a.reg.MustRegister(statusCollector{a})
}

type statusCollector struct{ a *Agent }

var (
	mValid    = prometheus.NewDesc("keyless_agent_credential_valid", "1 when a usable credential is cached.", []string{"pipeline", "key"}, nil)
	mExpiry   = prometheus.NewDesc("keyless_agent_credential_expiry_seconds", "Expiry of the cached credential (Unix time).", []string{"pipeline", "key"}, nil)
	mAge      = prometheus.NewDesc("keyless_agent_credential_age_seconds", "Age of the cached credential.", []string{"pipeline", "key"}, nil)
	mRefresh  = prometheus.NewDesc("keyless_agent_refreshes_total", "Successful credential fetches.", []string{"pipeline", "key"}, nil)
	mFailures = prometheus.NewDesc("keyless_agent_refresh_failures_total", "Failed credential fetches.", []string{"pipeline", "key"}, nil)
	mConsec   = prometheus.NewDesc("keyless_agent_consecutive_failures", "Failed fetches since the last success.", []string{"pipeline", "key"}, nil)
)

func (s statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mValid, mExpiry, mAge, mRefresh, mFailures, mConsec} {
		ch <- d
	}
}

func (s statusCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range s.a.Statuses() {
		l := []string{st.Name, st.Key}
		v := 0.0
		if st.Valid {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(mValid, prometheus.GaugeValue, v, l...)
		if !st.Expiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(mExpiry, prometheus.GaugeValue, float64(st.Expiry.Unix()), l...)
			ch <- prometheus.MustNewConstMetric(mAge, prometheus.GaugeValue, st.Age.Seconds(), l...)
		}
		ch <- prometheus.MustNewConstMetric(mRefresh, prometheus.CounterValue, float64(st.Refreshes), l...)
		ch <- prometheus.MustNewConstMetric(mFailures, prometheus.CounterValue, float64(st.Failures), l...)
		ch <- prometheus.MustNewConstMetric(mConsec, prometheus.GaugeValue, float64(st.ConsecutiveFailures), l...)
	}
}
