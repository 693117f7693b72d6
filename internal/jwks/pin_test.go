package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// testCA is a certificate with its key, for building chains.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// certOpts describes one certificate; zero values give a valid server leaf for 127.0.0.1.
type certOpts struct {
	cn      string
	ca      bool
	expired bool
	dns     []string // leaf names; default none (IP SAN 127.0.0.1 only)
	noIP    bool
}

// issueCert signs a certificate for o with parent, or self-signs when parent is nil.
func issueCert(t *testing.T, parent *testCA, o certOpts) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: o.cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		BasicConstraintsValid: true, IsCA: o.ca,
	}
	if o.expired {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	}
	if o.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = o.dns
		if !o.noIP {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
	}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: c, key: key}
}

// pki is root → intermediate → leaf (for 127.0.0.1).
type pki struct{ root, inter, leaf *testCA }

func newPKI(t *testing.T) *pki {
	t.Helper()
	root := issueCert(t, nil, certOpts{cn: "Test Root", ca: true})
	inter := issueCert(t, root, certOpts{cn: "Test Intermediate", ca: true})
	return &pki{root: root, inter: inter, leaf: issueCert(t, inter, certOpts{cn: "leaf"})}
}

func (p *pki) rootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root.cert)
	return pool
}

// startChainIssuer starts a test issuer presenting leaf then the given chain certificates.
func startChainIssuer(t *testing.T, leaf *testCA, chain ...*testCA) *testIssuer {
	t.Helper()
	tc := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key, Leaf: leaf.cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.cert.Raw)
	}
	ti := &testIssuer{jwks: jwksOf("k1"), extra: http.NewServeMux()}
	ti.srv = httptest.NewUnstartedServer(http.HandlerFunc(ti.serve))
	ti.srv.Config.ConnState = ti.countConn
	ti.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	ti.srv.TLS = &tls.Config{Certificates: []tls.Certificate{tc}}
	ti.srv.StartTLS()
	ti.URL = ti.srv.URL
	t.Cleanup(ti.srv.Close)
	return ti
}

// pinCache is a Cache for loopback issuers trusting roots (nil: system roots).
func pinCache(roots *x509.CertPool) *Cache {
	return New(Options{RootCAs: roots, AllowPrivateNetworks: true, Timeout: 5 * time.Second, MaxStale: -1})
}

func wantPinnedOK(t *testing.T, src *Source) {
	t.Helper()
	ks, err := src.KeySet(context.Background(), "k1")
	if err != nil {
		t.Fatalf("KeySet: %v", err)
	}
	if !hasKey(ks, "k1") {
		t.Fatalf("keys %v, want k1", kids(ks))
	}
}

func TestThumbprintPinnedIntermediate(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	iss := startChainIssuer(t, p.leaf, p.inter)
	for name, roots := range map[string]*x509.CertPool{"empty pool": x509.NewCertPool(), "system roots": nil} {
		c := pinCache(roots)
		// Unpinned: unchanged failure.
		_, err := c.Source(iss.URL).KeySet(context.Background(), "k1")
		wantFetchError(t, err, StageDiscovery, ErrUnavailable)
		var uae x509.UnknownAuthorityError
		if !errors.As(err, &uae) || errors.Is(err, ErrThumbprintMismatch) {
			t.Fatalf("%s: unpinned error %v, want a plain UnknownAuthorityError", name, err)
		}
		// Pinned by the intermediate (the last certificate presented), in upper case,
		// among other thumbprints.
		src := c.SourceWithThumbprints(iss.URL, []string{strings.Repeat("ab", 20), strings.ToUpper(thumbprint(p.inter.cert))})
		wantPinnedOK(t, src)
		st := c.Stats()
		if len(st) != 1 || st[0].Entries != 2 || st[0].Fetches != 2 || st[0].Failures != 1 || st[0].KeyCount != 1 || st[0].LastError != "" {
			t.Fatalf("%s: stats %+v, want one row merging both entries, the latest successful", name, st)
		}
	}
	if d, j := iss.discoveryHits.Load(), iss.jwksHits.Load(); d != 2 || j != 2 {
		t.Fatalf("hits discovery=%d jwks=%d, want 2/2 (one pinned fetch per cache)", d, j)
	}
}

func isExpired(err error) bool {
	var ce x509.CertificateInvalidError
	return errors.As(err, &ce) && ce.Reason == x509.Expired
}

// TestThumbprintRefusals: each case breaks one condition of the pinned path. (crypto/x509
// reports an expired certificate anywhere in the chain as CertificateInvalidError, not as
// an unknown authority, so expiry is refused before the pins are consulted; the pinned
// verification checks validity again.)
func TestThumbprintRefusals(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	other := newPKI(t)
	expiredInter := issueCert(t, p.root, certOpts{cn: "Expired Intermediate", ca: true, expired: true})
	notCA := issueCert(t, p.root, certOpts{cn: "Not a CA"})
	for _, tc := range []struct {
		name     string
		leaf     *testCA
		chain    []*testCA
		pins     []string
		mismatch bool // the error wraps ErrThumbprintMismatch
		check    func(error) bool
	}{
		{name: "wrong thumbprint", leaf: p.leaf, chain: []*testCA{p.inter},
			pins: []string{thumbprint(other.inter.cert)}, mismatch: true},
		{name: "root pinned but not presented", leaf: p.leaf, chain: []*testCA{p.inter},
			pins: []string{thumbprint(p.root.cert)}, mismatch: true},
		{name: "leaf pinned but not last", leaf: p.leaf, chain: []*testCA{p.inter},
			pins: []string{thumbprint(p.leaf.cert)}, mismatch: true},
		{name: "intermediate pinned, only leaf presented", leaf: p.leaf,
			pins: []string{thumbprint(p.inter.cert)}, mismatch: true},
		{name: "malformed thumbprints are ignored", leaf: p.leaf, chain: []*testCA{p.inter},
			pins: []string{thumbprint(p.inter.cert)[:39], thumbprint(p.inter.cert) + "0", "zz" + thumbprint(p.inter.cert)[2:]},
			check: func(err error) bool {
				var uae x509.UnknownAuthorityError
				return errors.As(err, &uae) && !errors.Is(err, ErrThumbprintMismatch)
			}},
		{name: "host name mismatch", leaf: issueCert(t, p.inter, certOpts{cn: "other", dns: []string{"other.example"}, noIP: true}),
			chain: []*testCA{p.inter}, pins: []string{thumbprint(p.inter.cert)},
			check: func(err error) bool { var he x509.HostnameError; return errors.As(err, &he) }},
		{name: "expired leaf", leaf: issueCert(t, p.inter, certOpts{cn: "old", expired: true}), chain: []*testCA{p.inter},
			pins: []string{thumbprint(p.inter.cert)}, check: isExpired},
		{name: "expired pinned intermediate", leaf: issueCert(t, expiredInter, certOpts{cn: "leaf"}), chain: []*testCA{expiredInter},
			pins: []string{thumbprint(expiredInter.cert)}, check: isExpired},
		{name: "expired middle certificate", leaf: issueCert(t, expiredInter, certOpts{cn: "leaf"}), chain: []*testCA{expiredInter, p.root},
			pins: []string{thumbprint(p.root.cert)}, check: isExpired},
		{name: "leaf not signed by the pinned certificate", leaf: other.leaf, chain: []*testCA{p.inter},
			pins:  []string{thumbprint(p.inter.cert)},
			check: func(err error) bool { return strings.Contains(err.Error(), "chain to pinned certificate") }},
		{name: "pinned issuer is not a CA", leaf: issueCert(t, notCA, certOpts{cn: "leaf"}), chain: []*testCA{notCA},
			pins:  []string{thumbprint(notCA.cert)},
			check: func(err error) bool { return strings.Contains(err.Error(), "chain to pinned certificate") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss := startChainIssuer(t, tc.leaf, tc.chain...)
			_, err := pinCache(x509.NewCertPool()).SourceWithThumbprints(iss.URL, tc.pins).KeySet(context.Background(), "k1")
			wantFetchError(t, err, StageDiscovery, ErrUnavailable)
			if errors.Is(err, ErrThumbprintMismatch) != tc.mismatch {
				t.Fatalf("ErrThumbprintMismatch = %v, want %v: %v", !tc.mismatch, tc.mismatch, err)
			}
			if tc.check != nil && !tc.check(err) {
				t.Fatalf("unexpected error: %v", err)
			}
			if d := iss.discoveryHits.Load(); d != 0 {
				t.Fatalf("a request reached the issuer")
			}
		})
	}
}

// TestThumbprintPinnedChainPositiveControls shows that the refusal cases above differ from
// accepted ones only in the property they break.
func TestThumbprintPinnedChainPositiveControls(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	selfSigned := issueCert(t, nil, certOpts{cn: "self-signed leaf"})
	for _, tc := range []struct {
		name  string
		leaf  *testCA
		chain []*testCA
		pin   *testCA
	}{
		{"self-signed leaf pinned", selfSigned, nil, selfSigned},
		{"issued leaf presented alone, pinned", p.leaf, nil, p.leaf},
		{"full chain, root pinned", p.leaf, []*testCA{p.inter, p.root}, p.root},
		{"leaf and intermediate, intermediate pinned", p.leaf, []*testCA{p.inter}, p.inter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss := startChainIssuer(t, tc.leaf, tc.chain...)
			wantPinnedOK(t, pinCache(x509.NewCertPool()).SourceWithThumbprints(iss.URL, []string{thumbprint(tc.pin.cert)}))
		})
	}
}

func TestThumbprintTrustedChainUnaffected(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	iss := startChainIssuer(t, p.leaf, p.inter)
	c := pinCache(p.rootPool())
	wantPinnedOK(t, c.SourceWithThumbprints(iss.URL, []string{strings.Repeat("0", 40)}))
	wantPinnedOK(t, c.Source(iss.URL))
	// Standard failures stay final even with a matching pin: an expired leaf under a
	// trusted root is not rescued.
	old := startChainIssuer(t, issueCert(t, p.inter, certOpts{cn: "old", expired: true}), p.inter)
	_, err := c.SourceWithThumbprints(old.URL, []string{thumbprint(p.inter.cert)}).KeySet(context.Background(), "k1")
	var ce x509.CertificateInvalidError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want CertificateInvalidError", err)
	}
}

// TestThumbprintAppliesToJWKSHost: the pins cover the jwks_uri host too, which may differ
// from the issuer's.
func TestThumbprintAppliesToJWKSHost(t *testing.T) {
	t.Parallel()
	p, other := newPKI(t), newPKI(t)
	iss := startChainIssuer(t, p.leaf, p.inter)
	samePKI := startChainIssuer(t, p.leaf, p.inter)
	otherPKI := startChainIssuer(t, other.leaf, other.inter)
	pins := []string{thumbprint(p.inter.cert)}

	iss.serveDiscovery(map[string]any{"issuer": iss.URL, "jwks_uri": samePKI.URL + "/jwks"})
	wantPinnedOK(t, pinCache(x509.NewCertPool()).SourceWithThumbprints(iss.URL, pins))
	if samePKI.jwksHits.Load() != 1 {
		t.Fatal("JWKS not fetched from the jwks_uri host")
	}

	iss.serveDiscovery(map[string]any{"issuer": iss.URL, "jwks_uri": otherPKI.URL + "/jwks"})
	_, err := pinCache(x509.NewCertPool()).SourceWithThumbprints(iss.URL, pins).KeySet(context.Background(), "k1")
	wantFetchError(t, err, StageJWKS, ErrUnavailable)
	if !errors.Is(err, ErrThumbprintMismatch) || otherPKI.jwksHits.Load() != 0 {
		t.Fatalf("err = %v, want ErrThumbprintMismatch before any request", err)
	}
}

func TestThumbprintSameHostRedirect(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	iss := startChainIssuer(t, p.leaf, p.inter)
	iss.extra.HandleFunc("/moved", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks"})
	})
	iss.setDiscovery(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/moved", http.StatusFound) })
	wantPinnedOK(t, pinCache(x509.NewCertPool()).SourceWithThumbprints(iss.URL, []string{thumbprint(p.inter.cert)}))
	if n := iss.conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3 (discovery, redirect target, JWKS)", n)
	}
}

func TestThumbprintPrivateNetworkGuard(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	iss := startChainIssuer(t, p.leaf, p.inter)
	rec := &dialRecorder{allow: true}
	c := newCache(Options{RootCAs: x509.NewCertPool(), Timeout: 5 * time.Second}, rec.hook)
	_, err := c.SourceWithThumbprints(iss.URL, []string{thumbprint(p.inter.cert)}).KeySet(context.Background(), "k1")
	wantFetchError(t, err, StageDiscovery, ErrBlockedAddress)
	if n := iss.conns.Load(); n != 0 || len(rec.list()) != 0 {
		t.Fatalf("%d connections, dials %v: the address policy must refuse before connecting", n, rec.list())
	}
	// Positive control: the same cache with private networks allowed reaches the issuer
	// through the hook, so the assertions above can fail.
	rec2 := &dialRecorder{allow: true}
	c2 := newCache(Options{RootCAs: x509.NewCertPool(), AllowPrivateNetworks: true, Timeout: 5 * time.Second}, rec2.hook)
	wantPinnedOK(t, c2.SourceWithThumbprints(iss.URL, []string{thumbprint(p.inter.cert)}))
	if len(rec2.list()) != 2 {
		t.Fatalf("dials %v, want 2 through the guarded dialer", rec2.list())
	}
}

func TestThumbprintEntries(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	iss := startChainIssuer(t, p.leaf, p.inter)
	c := pinCache(x509.NewCertPool())
	tp := thumbprint(p.inter.cert)
	a := c.SourceWithThumbprints(iss.URL, []string{tp, strings.Repeat("1", 40)})
	b := c.SourceWithThumbprints(iss.URL, []string{strings.Repeat("1", 40), strings.ToUpper(tp), tp})
	if a.e != b.e {
		t.Fatal("equal thumbprint sets (order, case, duplicates aside) must share an entry")
	}
	if c.Source(iss.URL).e == a.e || c.SourceWithThumbprints(iss.URL, []string{tp}).e == a.e {
		t.Fatal("different thumbprint sets must not share an entry")
	}
	if c.SourceWithThumbprints(iss.URL, nil).e != c.Source(iss.URL).e {
		t.Fatal("no thumbprints must be Source")
	}
	// Different issuers with equal pins share the pinned client, not the entry.
	other := c.SourceWithThumbprints(iss.URL+"/other", []string{tp, strings.Repeat("1", 40)})
	if other.e == a.e || other.e.client != a.e.client || a.e.client == c.client {
		t.Fatal("clients must be shared per pin set and differ from the unpinned one")
	}
	wantPinnedOK(t, a)
	wantPinnedOK(t, b)
	if d, j := iss.discoveryHits.Load(), iss.jwksHits.Load(); d != 1 || j != 1 {
		t.Fatalf("hits %d/%d, want 1/1", d, j)
	}
}

func TestNewPinSet(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("ab", 20), strings.Repeat("0F", 20)
	got := newPinSet([]string{a, b, strings.ToUpper(a), "", "xyz", strings.Repeat("g", 40), a + "00"})
	if want := strings.Repeat("0f", 20) + "," + a; got.key() != want {
		t.Fatalf("key %q, want %q", got.key(), want)
	}
	if !got.has(a) || got.has(strings.ToUpper(a)) || got.has("") {
		t.Fatal("has")
	}
	if newPinSet(nil).key() != "" || entryKey("https://x", nil) != "https://x" {
		t.Fatal("empty set")
	}
	if err := verifyServerChain(nil, "127.0.0.1", nil, got, time.Now()); err == nil {
		t.Fatal("an empty chain was accepted")
	}
}

func FuzzNewPinSet(f *testing.F) {
	f.Add("8CF427FD790C3AD166068DE81E57EFBB932272D4", "8cf427fd790c3ad166068de81e57efbb932272d4")
	f.Add("", "not hex at all, forty characters long!!!")
	f.Add("6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd")
	f.Fuzz(func(t *testing.T, x, y string) {
		p := newPinSet([]string{x, y})
		for i, v := range p {
			if len(v) != 40 || strings.ToLower(v) != v || strings.Trim(v, "0123456789abcdef") != "" {
				t.Fatalf("invalid member %q", v)
			}
			if i > 0 && p[i-1] >= v {
				t.Fatalf("not sorted and unique: %q", p)
			}
		}
		for _, in := range []string{x, y} {
			valid := len(in) == 40 && strings.Trim(strings.ToLower(in), "0123456789abcdef") == ""
			if p.has(strings.ToLower(in)) != valid {
				t.Fatalf("has(%q) = %v, want %v", in, !valid, valid)
			}
		}
	})
}
