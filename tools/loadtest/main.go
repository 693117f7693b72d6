package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// Bounds on what one run may do.
const (
	maxDuration    = 5 * time.Minute // subject tokens live 10 minutes
	maxConcurrency = 1024
	maxTokens      = 100_000
	maxRequestsCap = 50_000_000
)

// modes are the request kinds the tool drives.
var modes = []string{"sts", "impersonate", "assume-role", "aws4"}

type options struct {
	duration    time.Duration
	concurrency int
	mode        string // "sts" | "impersonate" | "assume-role" | "aws4"
	serverURL   string
	issuerAddr  string
	tokens      int
	maxRequests int
	keylessBin  string
	floorIters  int
	printConfig bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured load duration (at most 5m)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "concurrent workers, each with its own keep-alive connection")
	fs.StringVar(&o.mode, "mode", "sts", "sts (POST /v1/token with OIDC tokens), impersonate (generateAccessToken after one exchange per worker),\n"+
		"assume-role (POST / AssumeRoleWithWebIdentity) or aws4 (POST /v1/token with aws4_request subject tokens\n"+
		"signed with credentials from a few AssumeRoleWithWebIdentity calls)")
	fs.StringVar(&o.serverURL, "server", "", "drive this running keyless (loopback only) instead of starting one; see -print-config")
	fs.StringVar(&o.issuerAddr, "issuer-addr", "127.0.0.1:0", "listen address of the test issuer (fix the port with -server / -print-config)")
	fs.IntVar(&o.tokens, "tokens", 1024, "distinct subject tokens minted (aws4: signed requests) and cycled through")
	fs.IntVar(&o.maxRequests, "max-requests", 5_000_000, "stop after this many measured requests")
	fs.StringVar(&o.keylessBin, "keyless", "", "prebuilt keyless binary (default: go build ./cmd/keyless into a temp dir)")
	fs.IntVar(&o.floorIters, "floor-iterations", 2000, "iterations of each crypto floor operation")
	fs.BoolVar(&o.printConfig, "print-config", false, "print the server config that trusts the issuer at -issuer-addr, and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.duration <= 0 || o.duration > maxDuration:
		return o, fmt.Errorf("-duration must be in (0, %s]", maxDuration)
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return o, fmt.Errorf("-concurrency must be in [1, %d]", maxConcurrency)
	case !slices.Contains(modes, o.mode):
		return o, fmt.Errorf("-mode must be one of %s, not %q", strings.Join(modes, ", "), o.mode)
	case o.tokens < 1 || o.tokens > maxTokens:
		return o, fmt.Errorf("-tokens must be in [1, %d]", maxTokens)
	case o.maxRequests < 1 || o.maxRequests > maxRequestsCap:
		return o, fmt.Errorf("-max-requests must be in [1, %d]", maxRequestsCap)
	case o.floorIters < 10 || o.floorIters > 1_000_000:
		return o, errors.New("-floor-iterations must be in [10, 1000000]")
	}
	if err := checkLoopbackAddr(o.issuerAddr); err != nil {
		return o, fmt.Errorf("-issuer-addr: %w", err)
	}
	if o.serverURL != "" {
		u, err := checkLoopbackURL(o.serverURL)
		if err != nil {
			return o, fmt.Errorf("-server: %w", err)
		}
		o.serverURL = u
	}
	if (o.serverURL != "" || o.printConfig) && strings.HasSuffix(o.issuerAddr, ":0") {
		return o, errors.New("-server and -print-config need a fixed -issuer-addr port, the same in both runs")
	}
	return o, nil
}

// checkLoopbackAddr accepts host:port where host is a loopback IP or localhost.
func checkLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("%q is not a loopback address", host)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkLoopbackURL accepts http://LOOPBACK[:PORT] with no path, query or credentials and
// returns it without a trailing slash.
func checkLoopbackURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	switch {
	case u.Scheme != "http":
		return "", fmt.Errorf("%q: only http:// on loopback is supported", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return "", fmt.Errorf("%q: expected http://HOST:PORT only", s)
	case !isLoopbackHost(u.Hostname()):
		return "", fmt.Errorf("%q is not a loopback host; the load test only runs on loopback", u.Hostname())
	}
	return "http://" + u.Host, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit status: 0 success, 1 failed requests or errors, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "loadtest:", err)
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := loadtest(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	return 0
}

func loadtest(ctx context.Context, o options, stdout, stderr io.Writer) error {
	is, err := testissuer.Start(testissuer.Options{Alg: "RS256", Addr: o.issuerAddr})
	if err != nil {
		return fmt.Errorf("start test issuer: %w", err)
	}
	defer is.Close()

	if o.printConfig {
		doc, err := config.Marshal(federation(is, false))
		if err != nil {
			return err
		}
		_, err = stdout.Write(doc)
		return err
	}

	target := o.serverURL
	var child *child
	if target == "" {
		child, err = startChild(ctx, o.keylessBin, federation(is, true), stderr)
		if err != nil {
			return err
		}
		defer child.stop(stderr)
		target = child.url
	}
	fmt.Fprintf(stdout, "keyless loadtest: mode %s, concurrency %d, duration %s, server %s", o.mode, o.concurrency, o.duration, target)
	if child != nil {
		fmt.Fprintf(stdout, " (child pid %d)", child.pid())
	}
	fmt.Fprintln(stdout)

	rep, err := measure(ctx, o, is, target, child)
	if rep != nil {
		rep.print(stdout)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if rep.failed > 0 {
		return fmt.Errorf("%d of %d requests failed", rep.failed, rep.requests)
	}
	return nil
}
