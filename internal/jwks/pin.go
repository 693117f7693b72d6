package jwks

import (
	"context"
	"crypto/sha1" // AWS thumbprints are SHA-1; they name a certificate, they sign nothing
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// ErrThumbprintMismatch is wrapped (inside ErrUnavailable) when a certificate chain that
// does not lead to a trusted root is refused because the thumbprint of the last
// certificate presented is not pinned for the issuer.
var ErrThumbprintMismatch = errors.New("jwks: certificate thumbprint not pinned")

// pinSet is a normalised set of SHA-1 certificate thumbprints: lowercase, sorted,
// deduplicated. Values that are not 40 hex digits can never match and are dropped.
type pinSet []string

func newPinSet(thumbprints []string) pinSet {
	var p pinSet
	for _, t := range thumbprints {
		t = strings.ToLower(t)
		if len(t) != 2*sha1.Size {
			continue
		}
		if _, err := hex.DecodeString(t); err != nil {
			continue
		}
		p = append(p, t)
	}
	slices.Sort(p)
	return slices.Compact(p)
}

// key identifies the set in maps; "" for the empty set.
func (p pinSet) key() string { return strings.Join(p, ",") }

func (p pinSet) has(thumbprint string) bool {
	_, ok := slices.BinarySearch(p, thumbprint)
	return ok
}

// thumbprint is the lowercase hex SHA-1 of a certificate's DER, as AWS computes it.
func thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return hex.EncodeToString(sum[:])
}

// verifyServerChain is the server certificate check of a pinned transport. It first runs
// the standard verification (roots, nil for the system roots; host name; validity). Only
// if that fails because the chain does not reach a trusted root does it try the pins: the
// last certificate's SHA-1 thumbprint must be pinned, and the chain presented must verify
// with that certificate as the only trust anchor (host name, signatures, CA constraints,
// key usage, validity at now).
func verifyServerChain(certs []*x509.Certificate, host string, roots *x509.CertPool, pins pinSet, now time.Time) error {
	if len(certs) == 0 {
		return errors.New("tls: server presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host, CurrentTime: now})
	var uae x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &uae) || len(pins) == 0 {
		return err
	}
	last := certs[len(certs)-1]
	if tp := thumbprint(last); !pins.has(tp) {
		return fmt.Errorf("%w: %w; the last certificate presented (%q) has thumbprint %s", ErrThumbprintMismatch, err, truncate(last.Subject.String(), 128), tp)
	}
	anchor, mid := x509.NewCertPool(), x509.NewCertPool()
	anchor.AddCert(last)
	for _, c := range certs[1:max(1, len(certs)-1)] {
		mid.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: anchor, Intermediates: mid, DNSName: host, CurrentTime: now}); err != nil {
		return fmt.Errorf("chain to pinned certificate %s: %w", thumbprint(last), err)
	}
	return nil
}

// pinnedDialTLS returns a DialTLSContext for a pinned transport: the guarded dialer, then a
// TLS handshake whose certificate check is verifyServerChain for the dialled host. The
// standard verifier is switched off only because VerifyConnection replaces it; it runs
// the same standard verification first.
func pinnedDialTLS(d *net.Dialer, base *tls.Config, timeout time.Duration, pins pinSet) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := base.Clone()
		cfg.ServerName = host
		cfg.InsecureSkipVerify = true // replaced by VerifyConnection below
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyServerChain(cs.PeerCertificates, host, base.RootCAs, pins, time.Now())
		}
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn := tls.Client(raw, cfg)
		if err := conn.HandshakeContext(hctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		return conn, nil
	}
}
