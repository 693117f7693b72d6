package jwks

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// dialHook runs after the address policy allowed a dial and before connect(2); a non-nil
// error aborts the dial. Production passes nil; tests use it to observe (and stop) dials
// that the policy would let through without touching the network.
type dialHook func(network, address string) error

// newTransport builds the guarded transport: https through a dialer whose Control applies
// the address policy, plain http (when allowed) through a second dialer that also
// requires loopback. No proxy (a proxy would make the dialled address the proxy's, not the
// issuer's), no keep-alives (refreshes are rare), HTTP/1.1, TLS 1.2+. With pins, https
// certificates that do not chain to a trusted root may be accepted by thumbprint (see
// verifyServerChain); everything else is identical.
func newTransport(o Options, hook dialHook, pins pinSet) http.RoundTripper {
	secure := newHTTPTransport(o, newAddrPolicy(o.AllowPrivateNetworks, false), hook, pins)
	rt := &schemeRouter{https: secure}
	if o.AllowInsecureHTTP {
		rt.http = newHTTPTransport(o, newAddrPolicy(o.AllowPrivateNetworks, true), hook, nil)
	}
	return rt
}

func newHTTPTransport(o Options, p *addrPolicy, hook dialHook, pins pinSet) *http.Transport {
	control := p.control
	if hook != nil {
		control = func(ctx context.Context, network, address string, c syscall.RawConn) error {
			if err := p.control(ctx, network, address, c); err != nil {
				return err
			}
			return hook(network, address)
		}
	}
	d := &net.Dialer{Timeout: o.Timeout, KeepAlive: -1, ControlContext: control}
	tlsConf := &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	t := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: maxResponseHeaders,
		ExpectContinueTimeout:  time.Second,
	}
	if len(pins) > 0 {
		t.DialTLSContext = pinnedDialTLS(d, tlsConf, o.Timeout, pins)
	}
	return t
}

// schemeRouter sends https requests to one transport and http requests to the
// loopback-only one, refusing everything else.
type schemeRouter struct {
	https, http http.RoundTripper
}

var _ http.RoundTripper = (*schemeRouter)(nil)

func (s *schemeRouter) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.URL.Scheme == "https":
		return s.https.RoundTrip(r)
	case r.URL.Scheme == "http" && s.http != nil:
		return s.http.RoundTrip(r)
	}
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return nil, fmt.Errorf("%w: scheme %q", ErrInsecureURL, r.URL.Scheme)
}
