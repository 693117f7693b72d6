package jwks

import (
	"crypto/x509"
	"log/slog"
	"net/http"
	"time"
)

// Defaults and bounds for Options.
const (
	DefaultTimeout            = 5 * time.Second
	DefaultMaxBodyBytes int64 = 512 << 10
	DefaultTTL                = 15 * time.Minute
	DefaultMinRefresh         = 30 * time.Second
	DefaultMaxStale           = 24 * time.Hour

	// A Cache-Control max-age is honoured only within [MinMaxAge, MaxMaxAge]; values
	// outside are clamped.
	MinMaxAge = time.Minute
	MaxMaxAge = 24 * time.Hour

	maxRedirects       = 3
	maxResponseHeaders = 64 << 10
)

// Options configures a Cache. Zero values select the defaults above.
type Options struct {
	// RootCAs verifies issuer certificates; nil means the system roots. Callers append
	// enterprise CA bundles themselves.
	RootCAs *x509.CertPool

	// AllowPrivateNetworks MUST be false in production. When false, connections to
	// loopback, private (RFC 1918, ULA), link-local (including cloud metadata at
	// 169.254.169.254), CGNAT, documentation/benchmark/reserved, unspecified, multicast and
	// broadcast addresses are refused, checked on the resolved IP at dial time.
	// Unspecified, multicast and broadcast addresses are refused even when true.
	AllowPrivateNetworks bool

	// AllowInsecureHTTP is for development only: it permits http:// issuers, jwks_uri and
	// redirects, and only when the URL host is a loopback literal or "localhost" and the
	// connection goes to a loopback address. It does not relax the address policy, so a
	// loopback dev issuer also needs AllowPrivateNetworks.
	AllowInsecureHTTP bool

	Timeout            time.Duration // per HTTP request (discovery, JWKS); default 5s
	MaxBodyBytes       int64         // per response body; default 512 KiB
	TTL                time.Duration // JWKS lifetime without a usable max-age, and discovery lifetime; default 15m
	MinRefreshInterval time.Duration // min time between fetches for unknown kids and after failures; default 30s
	MaxStale           time.Duration // serve expired keys while fetches fail, this long past expiry; default 24h, negative disables

	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards

	// Transport replaces the guarded transport (tests only). The address policy is
	// enforced by the default transport's dialer, so an override bypasses it; URL, scheme,
	// redirect, status and size checks still apply.
	Transport http.RoundTripper
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MinRefreshInterval <= 0 {
		o.MinRefreshInterval = DefaultMinRefresh
	}
	if o.MaxStale < 0 {
		o.MaxStale = 0
	} else if o.MaxStale == 0 {
		o.MaxStale = DefaultMaxStale
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
