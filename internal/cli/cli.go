// Package cli holds keyless's cobra commands. Each command parses flags and calls the
// package that owns the work; no decision logic lives here.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/credential/oidc"
	"github.com/keylessdev/keyless/internal/demo"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/explain"
	"github.com/keylessdev/keyless/internal/jwks"
	"github.com/keylessdev/keyless/internal/server"
	"github.com/keylessdev/keyless/internal/signing"
	"github.com/keylessdev/keyless/internal/store"
	"github.com/keylessdev/keyless/internal/store/sqlite"
)

// exitError carries a process exit code (explain exits 1 for a denial).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// Root returns the keyless command tree.
func Root() *cobra.Command {
	root := &cobra.Command{
		Use:           "keyless",
		Short:         "Workload identity federation: trade platform credentials for short-lived tokens",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), demoCmd(), explainCmd(), keysCmd(), auditCmd(), tokenCmd(), agentCmd(), createCredConfigCmd())
	return root
}

func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func serveCmd() *cobra.Command {
	var cfgPath, dataDir, dbURL, addr, issuer, auditLog string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the security token service",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dbURL != "" {
				return errors.New("--database: PostgreSQL is not supported yet; use --data (embedded SQLite)")
			}
			tuneGC()
			cfg := &config.Config{}
			if cfgPath != "" {
				var err error
				if cfg, err = config.LoadWith(cfgPath, exchange.Check); err != nil {
					return fmt.Errorf("invalid configuration, not starting:\n%w", err)
				}
			}
			srv, err := server.New(cmd.Context(), server.Options{Config: cfg, DataDir: dataDir, Addr: addr, Issuer: issuer,
				AuditLog: auditLog, Logger: logger(), AdminToken: os.Getenv("KEYLESS_ADMIN_TOKEN")})
			if err != nil {
				return fmt.Errorf("invalid configuration, not starting:\n%w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "keyless listening on %s\n", srv.URL)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve() }()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
		wait:
			for {
				select {
				case err := <-errc:
					return err
				case <-cmd.Context().Done():
					break wait
				case <-hup:
					reload(cmd.Context(), srv, cfgPath)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
	f := c.Flags()
	f.StringVar(&cfgPath, "config", "", "declarative config file (YAML or JSON)")
	f.StringVar(&dataDir, "data", "./keyless-data", "data directory (embedded SQLite: keys and audit)")
	f.StringVar(&dbURL, "database", "", "PostgreSQL URL (not supported yet)")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	f.StringVar(&issuer, "issuer", "", "iss of minted tokens (default http://ADDR)")
	f.StringVar(&auditLog, "audit-log", "", "audit log file of JSON lines, or - for stdout")
	return c
}

func demoCmd() *cobra.Command {
	var addr string
	var once bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Start a server with a demo federation and perform real exchanges",
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := demo.Start(cmd.Context(), demo.Options{Addr: addr, Out: cmd.OutOrStdout()})
			if err != nil {
				return err
			}
			defer d.Close()
			if err := d.Run(cmd.Context()); err != nil {
				return err
			}
			if d.Failures > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d demo scenarios did not behave as expected", d.Failures)}
			}
			if once {
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Serving until Ctrl-C.")
			<-cmd.Context().Done()
			return nil
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	c.Flags().BoolVar(&once, "once", false, "exit after the scenarios instead of serving")
	return c
}

func explainCmd() *cobra.Command {
	var cfgPath, provider, tokenFile, sa, serverURL, decision, awsRole string
	c := &cobra.Command{
		Use:   "explain",
		Short: "Explain why an exchange is allowed or denied",
		Long: `Offline: run the real decision pipeline (dry run: no token, no audit) on a config and a credential.
  keyless explain --config keyless.yaml --provider projects/N/locations/global/workloadIdentityPools/P/providers/X --subject-token token.jwt [--service-account EMAIL]
  keyless explain --config keyless.yaml --aws-role arn:aws:iam::ACCOUNT:role/NAME --subject-token token.jwt
Online: explain a decision a server made, by the decision id it returned.
  keyless explain --server http://127.0.0.1:8080 --decision 01J...`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if serverURL != "" {
				return explainRemote(cmd.Context(), out, serverURL, decision)
			}
			if cfgPath == "" || (provider == "") == (awsRole == "") || tokenFile == "" {
				return errors.New("give --config, --subject-token and one of --provider or --aws-role (or --server and --decision)")
			}
			return explainOffline(cmd.Context(), out, cfgPath, provider, awsRole, tokenFile, sa)
		},
	}
	f := c.Flags()
	f.StringVar(&cfgPath, "config", "", "config file")
	f.StringVar(&provider, "provider", "", "provider resource name or audience")
	f.StringVar(&tokenFile, "subject-token", "", "file holding the workload's credential (JWT)")
	f.StringVar(&sa, "service-account", "", "also explain impersonating this service account")
	f.StringVar(&awsRole, "aws-role", "", "explain sts:AssumeRoleWithWebIdentity of this role ARN instead")
	f.StringVar(&serverURL, "server", "", "keyless server URL")
	f.StringVar(&decision, "decision", "", "decision id returned by the server")
	return c
}

func explainRemote(ctx context.Context, out io.Writer, serverURL, decision string) error {
	if decision == "" {
		return errors.New("--decision is required with --server")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(serverURL, "/")+"/v1/decisions/"+decision, nil)
	if err != nil {
		return err
	}
	if t := os.Getenv("KEYLESS_ADMIN_TOKEN"); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("server answered %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return explain.RenderEvent(out, b)
}

func explainOffline(ctx context.Context, out io.Writer, cfgPath, provider, awsRole, tokenFile, sa string) error {
	cfg, err := config.LoadWith(cfgPath, exchange.Check)
	if err != nil {
		return err
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	jo, err := server.JWKSOptions(cfg.Server, nil, nil)
	if err != nil {
		return err
	}
	cache := jwks.New(jo)
	if cfg.Issuer == "" {
		cfg.Issuer = "http://keyless.invalid"
	}
	snap, probs := exchange.Compile(cfg, cacheSources{cache})
	if len(probs) > 0 {
		return probs
	}
	eng := exchange.New(snap, exchange.Options{})
	var tr *exchange.Trace
	var allowed bool
	var derr *exchange.Error
	if awsRole != "" {
		tr, allowed, derr = eng.ExplainAssumeRole(ctx, awsRole, string(tok), "")
	} else {
		tr, allowed, derr = eng.Explain(ctx, exchange.ExplainRequest{Audience: provider, SubjectToken: string(tok), ServiceAccount: sa})
	}
	explain.Render(out, tr)
	if !allowed {
		msg := "denied"
		if derr != nil {
			msg = "denied at " + derr.Stage
		}
		fmt.Fprintln(out, "result:", msg)
		return &exitError{code: 1, err: errors.New(msg)}
	}
	fmt.Fprintln(out, "result: allowed")
	return nil
}

type cacheSources struct{ c *jwks.Cache }

func (s cacheSources) Source(issuer string) oidc.KeySource { return s.c.Source(issuer) }

var _ exchange.ThumbprintKeySources = cacheSources{}

func (s cacheSources) SourceWithThumbprints(issuer string, tps []string) oidc.KeySource {
	return s.c.SourceWithThumbprints(issuer, tps)
}

func openStore(ctx context.Context, dataDir string) (store.Store, error) {
	return sqlite.Open(ctx, filepath.Join(dataDir, "keyless.db"))
}

func keysCmd() *cobra.Command {
	var dataDir, alg string
	c := &cobra.Command{Use: "keys", Short: "List or rotate keyless's signing keys"}
	c.PersistentFlags().StringVar(&dataDir, "data", "./keyless-data", "data directory")
	list := &cobra.Command{Use: "list", Short: "List published signing keys", RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := openStore(cmd.Context(), dataDir)
		if err != nil {
			return err
		}
		defer st.Close()
		kr, err := signing.Open(cmd.Context(), st, signing.Options{})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(kr.List())
	}}
	rotate := &cobra.Command{Use: "rotate", Short: "Create a new active key; the old one stays published for the overlap",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			kr, err := signing.Open(cmd.Context(), st, signing.Options{})
			if err != nil {
				return err
			}
			kid, err := kr.Rotate(cmd.Context(), alg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new %s key %s is active; a running server picks it up within 30 s\n", alg, kid)
			return nil
		}}
	rotate.Flags().StringVar(&alg, "alg", signing.ES256, "algorithm: ES256, RS256 or EdDSA")
	c.AddCommand(list, rotate)
	return c
}

func auditCmd() *cobra.Command {
	var dataDir, outcome, since string
	var limit int
	c := &cobra.Command{Use: "audit", Short: "Read the audit trail"}
	c.PersistentFlags().StringVar(&dataDir, "data", "./keyless-data", "data directory")
	query := &cobra.Command{Use: "query", Short: "Print audit events as JSON lines", RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := openStore(cmd.Context(), dataDir)
		if err != nil {
			return err
		}
		defer st.Close()
		q := store.AuditQuery{Outcome: outcome, Limit: limit}
		if since != "" {
			d, err := time.ParseDuration(since)
			if err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			q.Since = time.Now().Add(-d)
		}
		recs, err := st.QueryAudit(cmd.Context(), q)
		if err != nil {
			return err
		}
		for _, r := range recs {
			fmt.Fprintln(cmd.OutOrStdout(), string(r.Data))
		}
		return nil
	}}
	query.Flags().StringVar(&outcome, "outcome", "", "allow, deny or error")
	query.Flags().StringVar(&since, "since", "", "only events newer than this duration (e.g. 1h)")
	query.Flags().IntVar(&limit, "limit", 100, "maximum events")
	tail := &cobra.Command{Use: "tail", Short: "Print audit events as they are committed, until interrupted",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			return tailAudit(cmd.Context(), st, cmd.OutOrStdout(), outcome, time.Second)
		}}
	tail.Flags().StringVar(&outcome, "outcome", "", "allow, deny or error")
	c.AddCommand(query, tail)
	return c
}

// tailAudit polls the store (SQLite in WAL mode lets it read while a server writes)
// and prints each new event once. Events are ordered by decision time, but a slow
// decision can commit after a faster, later one, so each poll looks back over a window
// and skips ids already printed, rather than trusting a cursor.
func tailAudit(ctx context.Context, st store.Store, out io.Writer, outcome string, every time.Duration) error {
	const lookback = time.Minute
	start := time.Now()
	seen := map[string]time.Time{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := time.Now()
		since := now.Add(-lookback)
		if since.Before(start) {
			since = start
		}
		q := store.AuditQuery{Since: since, Outcome: outcome, Limit: store.MaxAuditLimit}
		for {
			recs, err := st.QueryAudit(ctx, q)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for _, r := range recs {
				if _, ok := seen[r.ID]; !ok {
					seen[r.ID] = r.Time
					fmt.Fprintln(out, string(r.Data))
				}
			}
			if len(recs) < q.Limit {
				break
			}
			q.AfterID = recs[len(recs)-1].ID
		}
		for id, at := range seen {
			if at.Before(now.Add(-2 * lookback)) {
				delete(seen, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// tuneGC raises the GC target when the operator has not set GOGC. keyless's live heap
// is small (a few MB) while each exchange allocates tens of KB, so the default target
// (100%) runs a collection every few dozen requests; at 400% the collector's CPU per
// exchange drops by about a third of the server's total (docs/benchmarks.md) for a
// few tens of MB of extra heap.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// reload re-reads the config file on SIGHUP; a bad file is reported and the running
// configuration stays.
func reload(ctx context.Context, srv *server.Server, path string) {
	log := logger()
	if path == "" {
		log.Warn("SIGHUP ignored: serve was started without --config")
		return
	}
	cfg, err := config.LoadWith(path, exchange.Check)
	if err == nil {
		err = srv.Reload(ctx, cfg)
	}
	if err != nil {
		log.Error("configuration not reloaded; still serving the previous one", "err", err)
	}
}
