// Package server wires keyless together: configuration, storage, signing keys, the JWKS
// cache, the exchange engine, audit, metrics and the HTTP routes of every dialect on one
// listener, with graceful shutdown.
package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/keylessdev/keyless/internal/credential/awsreq"
	awsdialect "github.com/keylessdev/keyless/internal/dialect/aws"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/credential/oidc"
	"github.com/keylessdev/keyless/internal/dialect/google"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/httpx"
	"github.com/keylessdev/keyless/internal/jwks"
	"github.com/keylessdev/keyless/internal/metrics"
	"github.com/keylessdev/keyless/internal/signing"
	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/store/sqlite"
)

// Options configure a Server (flags of `keyless serve`, SPEC §8).
type Options struct {
	Config   *config.Config // already loaded and validated
	DataDir  string         // SQLite lives here
	Addr     string         // listen address; ":0" ports are resolved before the issuer default
	Issuer   string         // overrides config issuer
	AuditLog string         // file path, "-" for stdout, "" for none
	// AdminToken, when set, lets non-loopback callers read decisions (explain --server).
	AdminToken string
	Logger     *slog.Logger
	// Listener, when set, is used instead of listening on Addr (tests).
	Listener net.Listener
	Now      func() time.Time
	// AWSForwarder verifies AWS credentials keyless did not issue (aws4_request subject
	// tokens) by forwarding them to AWS STS. nil means a Forwarder to the real AWS STS
	// hosts; tests pass one that reaches a loopback stand-in.
	AWSForwarder exchange.AWSForwarder
	// AWSAllowedHosts decides which STS hosts a serialized request may name (nil: AWS's).
	AWSAllowedHosts func(host string) bool
}

// Server is a running keyless server.
type Server struct {
	URL      string
	Engine   *exchange.Engine
	Keys     *signing.Keyring
	Store    store.Store
	Audit    *audit.Writer
	JWKS     *jwks.Cache
	Registry *prometheus.Registry

	ln        net.Listener
	http      *http.Server
	auditFile io.Closer
	log       *slog.Logger
	stop      chan struct{}
	done      chan struct{}
	serving   atomic.Bool
	opts      Options
}

// New builds a server: opens storage and keys, compiles configuration, binds the
// listener. Call Serve to accept requests.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Config == nil {
		opts.Config = &config.Config{}
	}
	s := &Server{log: opts.Logger, opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.closeResources()
		}
	}()

	ln := opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", opts.Addr); err != nil {
			return nil, fmt.Errorf("listen %s: %w", opts.Addr, err)
		}
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()

	cfg := *opts.Config
	if opts.Issuer != "" {
		cfg.Issuer = opts.Issuer
	}
	if cfg.Issuer == "" {
		cfg.Issuer = s.URL
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	issuerURL, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", cfg.Issuer, err)
	}

	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(opts.DataDir, "keyless.db"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.Store = st
	if s.Keys, err = signing.Open(ctx, st, signing.Options{Now: opts.Now}); err != nil {
		return nil, err
	}

	var sink io.Writer
	switch opts.AuditLog {
	case "":
	case "-":
		sink = os.Stdout
	default:
		f, err := os.OpenFile(opts.AuditLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		s.auditFile, sink = f, f
	}
	s.Registry = prometheus.NewRegistry()
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(s.Registry)
	s.Audit = audit.NewWriter(audit.WriterOptions{Store: st, Sink: sink, Logger: opts.Logger, OnCommit: m.AuditCommit})
	metrics.GaugeFunc(s.Registry, "keyless_audit_queue_depth", "Audit events waiting for their group commit.",
		func() float64 { return float64(s.Audit.QueueDepth()) })

	jo, err := JWKSOptions(cfg.Server, opts.Logger, opts.Now)
	if err != nil {
		return nil, err
	}
	s.JWKS = jwks.New(jo)
	registerJWKSMetrics(s.Registry, s.JWKS)

	snap, probs := exchange.Compile(&cfg, keySources{s.JWKS})
	if len(probs) > 0 {
		return nil, probs
	}
	logWarnings(opts.Logger, snap)
	if err := recordConfig(ctx, st, opts.Config); err != nil {
		return nil, err
	}
	allowed := opts.AWSAllowedHosts
	if sc := cfg.Server; allowed == nil && sc != nil && len(sc.AWSSTSHosts) > 0 {
		extra := slices.Clone(sc.AWSSTSHosts)
		allowed = func(h string) bool { return awsreq.DefaultAllowedHost(h) || slices.Contains(extra, h) }
	}
	eo := exchange.Options{Signer: s.Keys, Auditor: s.Audit, Now: opts.Now, Observer: m,
		SessionKeys: s.Keys, AWSAllowedHosts: allowed}
	switch {
	case opts.AWSForwarder != nil:
		eo.AWSForwarder = opts.AWSForwarder
	case cfg.Server == nil || !cfg.Server.AWSForwardingDisabled:
		eo.AWSForwarder = &awsreq.Forwarder{AllowedHosts: allowed}
	}
	if sc := cfg.Server; sc != nil {
		eo.SigningAlg = sc.SigningAlg
		if sc.AccessTokenLifetime != "" {
			if eo.MaxTokenLifetime, err = time.ParseDuration(sc.AccessTokenLifetime); err != nil {
				return nil, fmt.Errorf("server.accessTokenLifetime: %w", err)
			}
		}
	}
	s.Engine = exchange.New(snap, eo)

	mux := http.NewServeMux()
	(&google.Handler{Engine: s.Engine}).Register(mux)
	(&awsdialect.Handler{Engine: s.Engine}).Register(mux)
	prefix := strings.TrimSuffix(issuerURL.Path, "/")
	mux.HandleFunc("GET "+prefix+"/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET "+prefix+"/jwks", s.jwksHandler)
	mux.HandleFunc("GET /v1/decisions/{id}", s.decision)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	ok = true
	return s, nil
}

type keySources struct{ c *jwks.Cache }

func (k keySources) Source(issuer string) oidc.KeySource { return k.c.Source(issuer) }

// The server's key sources honour IAM OIDC providers' thumbprintList.
var _ exchange.ThumbprintKeySources = keySources{}

// SourceWithThumbprints pins an IAM OIDC provider's thumbprintList (exchange.ThumbprintKeySources).
func (k keySources) SourceWithThumbprints(issuer string, tps []string) oidc.KeySource {
	return k.c.SourceWithThumbprints(issuer, tps)
}

// Serve accepts requests until Shutdown. It also reloads signing keys periodically so
// `keyless keys rotate` run against the same data directory takes effect.
func (s *Server) Serve() error {
	s.serving.Store(true)
	go s.reloadKeys()
	err := s.http.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) reloadKeys() {
	defer close(s.done)
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Keys.Reload(context.Background()); err != nil {
				s.log.Warn("reload signing keys", "err", err)
			}
			if kids, err := s.Keys.RotateDue(context.Background()); err != nil {
				s.log.Warn("rotate signing keys", "err", err)
			} else if len(kids) > 0 {
				s.log.Info("rotated signing keys past their rotation period", "new_kids", kids)
			}
		}
	}
}

// Shutdown stops accepting requests, drains in-flight ones, flushes audit and closes
// storage.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	if s.serving.Load() {
		<-s.done // the key reloader has stopped
	}
	s.closeResources()
	return err
}

func (s *Server) closeResources() {
	if s.Audit != nil {
		_ = s.Audit.Close()
	}
	if s.auditFile != nil {
		_ = s.auditFile.Close()
	}
	if s.Store != nil {
		_ = s.Store.Close()
	}
	if s.ln != nil && s.http == nil {
		_ = s.ln.Close()
	}
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	iss := s.Engine.Issuer()
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/jwks",
		"token_endpoint":                        iss + "/v1/token",
		"introspection_endpoint":                iss + "/v1/introspect",
		"grant_types_supported":                 []string{exchange.GrantTypeTokenExchange},
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{signing.ES256, signing.RS256, signing.EdDSA},
		"claims_supported":                      []string{"iss", "sub", "aud", "azp", "exp", "iat", "jti", "email", "email_verified", "act"},
	})
}

func (s *Server) jwksHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.Keys.JWKS())
}

// decision serves a stored audit event for `keyless explain --server URL --decision ID`.
// Audit events name principals and attributes, so only loopback callers or holders of
// the admin token may read them.
func (s *Server) decision(w http.ResponseWriter, r *http.Request) {
	tok := httpx.BearerToken(r)
	allowed := httpx.IsLoopback(r) && s.opts.AdminToken == ""
	if s.opts.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.AdminToken)) == 1 {
		allowed = true
	}
	if !allowed {
		httpx.WriteJSON(w, http.StatusForbidden, map[string]any{"error": map[string]any{"code": 403, "status": "PERMISSION_DENIED", "message": "decision lookups need the admin token or a loopback caller"}})
		return
	}
	rec, err := s.Store.AuditByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": 404, "status": "NOT_FOUND", "message": "no such decision"}})
		return
	}
	if err != nil {
		httpx.WriteJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]any{"code": 500, "status": "INTERNAL", "message": "store error"}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(rec.Data)
}

func registerJWKSMetrics(reg *prometheus.Registry, c *jwks.Cache) {
	reg.MustRegister(&jwksCollector{c: c,
		age:      prometheus.NewDesc("keyless_jwks_cache_age_seconds", "Age of each issuer's cached JWKS.", []string{"issuer"}, nil),
		fetches:  prometheus.NewDesc("keyless_jwks_fetches_total", "JWKS fetches per issuer.", []string{"issuer"}, nil),
		failures: prometheus.NewDesc("keyless_jwks_fetch_failures_total", "Failed JWKS fetches per issuer.", []string{"issuer"}, nil),
	})
}

type jwksCollector struct {
	c                      *jwks.Cache
	age, fetches, failures *prometheus.Desc
}

func (j *jwksCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- j.age
	ch <- j.fetches
	ch <- j.failures
}

func (j *jwksCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range j.c.Stats() {
		ch <- prometheus.MustNewConstMetric(j.age, prometheus.GaugeValue, st.Age.Seconds(), st.Issuer)
		ch <- prometheus.MustNewConstMetric(j.fetches, prometheus.CounterValue, float64(st.Fetches), st.Issuer)
		ch <- prometheus.MustNewConstMetric(j.failures, prometheus.CounterValue, float64(st.Failures), st.Issuer)
	}
}

// recordConfig stores the configuration being served as a new version when it differs
// from the latest stored one, so the data directory holds the resources it served.
func recordConfig(ctx context.Context, st store.Store, cfg *config.Config) error {
	doc, err := config.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("record config: %w", err)
	}
	latest, err := st.LatestConfig(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("record config: %w", err)
	case bytes.Equal(latest.Doc, doc):
		return nil
	}
	if _, err := st.PutConfig(ctx, doc, latest.Version); err != nil {
		return fmt.Errorf("record config: %w", err)
	}
	return nil
}

// Reload compiles cfg and swaps it in atomically; requests in flight finish on the
// snapshot they started with. The issuer stays what the server started with (tokens
// already minted must keep verifying). On error nothing changes.
func (s *Server) Reload(ctx context.Context, cfg *config.Config) error {
	next := *cfg
	next.Issuer = s.Engine.Issuer()
	snap, probs := exchange.Compile(&next, keySources{s.JWKS})
	if len(probs) > 0 {
		return probs
	}
	if err := recordConfig(ctx, s.Store, cfg); err != nil {
		return err
	}
	s.Engine.Swap(snap)
	s.log.Info("configuration reloaded", "providers", len(snap.Providers()))
	logWarnings(s.log, snap)
	return nil
}

// logWarnings reports risky but valid configuration (keyless lint will list the same).
func logWarnings(l *slog.Logger, snap *exchange.Snapshot) {
	for _, w := range snap.Warnings() {
		l.Warn("config warning", "warning", w)
	}
}

// JWKSOptions turns the config's issuer-trust settings into JWKS cache options, for the
// server and for `keyless explain`, which fetches issuer keys the same way.
func JWKSOptions(sc *config.Server, logger *slog.Logger, now func() time.Time) (jwks.Options, error) {
	jo := jwks.Options{Logger: logger, Now: now}
	if sc == nil {
		return jo, nil
	}
	jo.AllowPrivateNetworks = sc.AllowPrivateIssuers
	jo.AllowInsecureHTTP = sc.AllowInsecureHTTPIssuers
	if sc.IssuerCAFile != "" {
		pem, err := os.ReadFile(sc.IssuerCAFile)
		if err != nil {
			return jo, fmt.Errorf("server.issuerCAFile: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return jo, fmt.Errorf("server.issuerCAFile %s: no PEM certificates", sc.IssuerCAFile)
		}
		jo.RootCAs = pool
	}
	return jo, nil
}
