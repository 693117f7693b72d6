package jwks

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestAddrPolicy(t *testing.T) {
	t.Parallel()
	// name -> refused with AllowPrivateNetworks=false, refused with true.
	cases := []struct {
		ip                  string
		strict, withPrivate bool
	}{
		{"127.0.0.1", true, false},
		{"127.255.255.254", true, false},
		{"::1", true, false},
		{"169.254.169.254", true, false},
		{"169.254.170.2", true, false},
		{"fe80::1", true, false},
		{"fe80::a9fe:a9fe", true, false},
		{"10.0.0.1", true, false},
		{"172.16.0.1", true, false},
		{"172.31.255.255", true, false},
		{"192.168.1.1", true, false},
		{"100.64.0.1", true, false},
		{"100.127.255.255", true, false},
		{"fd00::1", true, false},
		{"fc00::1", true, false},
		{"fd00:ec2::254", true, false},
		{"192.0.0.170", true, false},
		{"192.0.2.1", true, false},
		{"198.18.0.1", true, false},
		{"2001:db8::1", true, false},
		{"::ffff:127.0.0.1", true, false},
		{"::ffff:169.254.169.254", true, false},
		{"::ffff:10.0.0.1", true, false},
		{"::127.0.0.1", true, false},
		{"64:ff9b::7f00:1", true, false},
		{"64:ff9b::a9fe:a9fe", true, false},
		{"64:ff9b:1::1", true, false},
		{"2002:7f00:1::", true, false},
		{"2002:a9fe:a9fe::1", true, false},
		{"2001::1", true, false},
		{"fec0::1", true, false},
		{"0.0.0.0", true, true},
		{"0.1.2.3", true, true},
		{"::", true, true},
		{"::ffff:0.0.0.0", true, true},
		{"224.0.0.1", true, true},
		{"239.255.255.250", true, true},
		{"ff02::1", true, true},
		{"255.255.255.255", true, true},
		{"240.0.0.1", true, true},
		// Public.
		{"8.8.8.8", false, false},
		{"1.1.1.1", false, false},
		{"172.32.0.1", false, false},
		{"100.128.0.1", false, false},
		{"169.253.255.255", false, false},
		{"2606:4700:4700::1111", false, false},
		{"::ffff:8.8.8.8", false, false},
		{"64:ff9b::808:808", false, false},
		{"2002:808:808::1", false, false},
	}
	strict, lax := newAddrPolicy(false, false), newAddrPolicy(true, false)
	for _, tc := range cases {
		ip := mustAddr(tc.ip)
		if err := strict.check(ip); (err != nil) != tc.strict || (err != nil && !errors.Is(err, ErrBlockedAddress)) {
			t.Errorf("strict %s: %v, want refused=%v", tc.ip, err, tc.strict)
		}
		if err := lax.check(ip); (err != nil) != tc.withPrivate {
			t.Errorf("AllowPrivateNetworks %s: %v, want refused=%v", tc.ip, err, tc.withPrivate)
		}
	}
	if err := strict.check(netip.Addr{}); !errors.Is(err, ErrBlockedAddress) {
		t.Errorf("zero Addr: %v", err)
	}
}

func TestDialControl(t *testing.T) {
	t.Parallel()
	p := newAddrPolicy(false, false)
	ctx := context.Background()
	for _, tc := range []struct{ network, address string }{
		{"tcp4", "169.254.169.254:80"},
		{"tcp6", "[::1]:443"},
		{"tcp6", "[fe80::1%eth0]:443"},
		{"tcp4", "10.0.0.1:443"},
		{"udp4", "8.8.8.8:53"},
		{"unix", "/run/x.sock"},
		{"tcp4", "not-an-address"},
		{"tcp4", "localhost:443"},
	} {
		if err := p.control(ctx, tc.network, tc.address, nil); !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("control(%s, %s) = %v, want ErrBlockedAddress", tc.network, tc.address, err)
		}
	}
	if err := p.control(ctx, "tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
}

// dialRecorder is a dialHook that records every dial the address policy let through and
// stops it before connect(2), so tests never reach a non-loopback address.
type dialRecorder struct {
	allow bool // let loopback dials proceed instead of stopping them

	mu    sync.Mutex
	dials []string
}

var errDialStopped = errors.New("dial stopped by test")

func (d *dialRecorder) hook(_, address string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dials = append(d.dials, address)
	if d.allow && strings.HasPrefix(address, "127.0.0.1:") {
		return nil
	}
	return errDialStopped
}

func (d *dialRecorder) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dials...)
}

func TestBlockedAddresses(t *testing.T) {
	t.Parallel()
	iss := newTestIssuer(t, true) // a real loopback listener that must never see a connection
	port := iss.URL[strings.LastIndexByte(iss.URL, ':')+1:]
	hosts := []string{
		"127.0.0.1:" + port,
		"[::1]:" + port,
		"169.254.169.254",
		"10.0.0.1",
		"192.168.1.1",
		"172.16.0.1",
		"100.64.0.1",
		"0.0.0.0:" + port,
		"[::]:" + port,
		"[::ffff:127.0.0.1]:" + port,
		"[::ffff:7f00:1]:" + port,
		"[0:0:0:0:0:ffff:127.0.0.1]:" + port,
		"[::127.0.0.1]:" + port,
		"[64:ff9b::a9fe:a9fe]",
		"[2002:a9fe:a9fe::]",
		"[fd00::1]",
		"[fd00:ec2::254]",
		"[fe80::1%25lo]:" + port,
		// Numeric spellings that other parsers read as 127.0.0.1 / 169.254.169.254.
		"2130706433:" + port,
		"0177.0.0.1:" + port,
		"0x7f000001:" + port,
		"0x7f.0.0.1:" + port,
		"127.1:" + port,
		"127.0.1:" + port,
		"0:" + port,
		"017700000001:" + port,
		"2852039166",
		"0xa9fea9fe",
		"0251.0376.0251.0376",
		"169.254.169.254.",
		// Resolved names: refused by the dial-time check on the resolved address.
		"localhost:" + port,
		"LocalHost:" + port,
	}
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			rec := &dialRecorder{}
			c := newCache(Options{RootCAs: iss.pool()}, rec.hook)
			_, err := c.Source("https://"+host).KeySet(context.Background(), "k1")
			if !errors.Is(err, ErrBlockedAddress) {
				t.Fatalf("err = %v, want ErrBlockedAddress", err)
			}
			if d := rec.list(); len(d) != 0 {
				t.Fatalf("policy let dials through: %v", d)
			}
		})
	}
	if n := iss.conns.Load(); n != 0 {
		t.Fatalf("loopback server saw %d connections", n)
	}
}

// TestGuardPositiveControl shows the recorder sees dials the policy allows, so the
// "no dials" assertions above can fail. The hook stops every dial before connect.
func TestGuardPositiveControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		issuer       string
		allowPrivate bool
		want         string
	}{
		{"https://93.184.215.14", false, "93.184.215.14:443"},
		{"https://10.0.0.1:8443", true, "10.0.0.1:8443"},
		{"https://169.254.169.254", true, "169.254.169.254:443"},
	} {
		rec := &dialRecorder{}
		c := newCache(Options{AllowPrivateNetworks: tc.allowPrivate}, rec.hook)
		_, err := c.Source(tc.issuer).KeySet(context.Background(), "k1")
		if !errors.Is(err, errDialStopped) || !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err = %v, want the hook's error", tc.issuer, err)
		}
		if d := rec.list(); len(d) != 1 || d[0] != tc.want {
			t.Errorf("%s: dials = %v, want [%s]", tc.issuer, d, tc.want)
		}
	}
}

func TestURLPolicyHosts(t *testing.T) {
	t.Parallel()
	p := urlPolicy{addrs: newAddrPolicy(false, false)}
	ok := []string{
		"https://token.actions.githubusercontent.com",
		"https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF",
		"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
		"https://eastus.oic.prod-aks.azure.com/tenant/guid/",
		"https://xn--bcher-kva.example",
		"https://1password.com",
		"https://a.b.c.123x",
		"https://8.8.8.8/keys",
		"https://[2606:4700:4700::1111]:8443/keys",
		"https://under_score.example",
		"https://issuer.example.:443",
	}
	for _, raw := range ok {
		if _, err := p.check(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	bad := map[string]error{
		"https://bücher.example": ErrInvalidURL,
		"https://a..b":           ErrInvalidURL,
		"https://" + strings.Repeat("a", 64) + ".example": ErrInvalidURL,
		"https://exa%2Fmple.com":                          ErrInvalidURL,
		"https://1.2.3.4.5":                               ErrBlockedAddress,
		"https://example.0x10":                            ErrBlockedAddress,
		"https://example.123":                             ErrBlockedAddress,
		"https://[fe80::1%25eth0]":                        ErrBlockedAddress,
		"https:///path":                                   ErrInvalidURL,
		"https:opaque":                                    ErrInvalidURL,
		"gopher://example.com":                            ErrInsecureURL,
		"HTTP://localhost":                                ErrInsecureURL,
		"https://a@example.com":                           ErrInvalidURL,
		"https://example.com:0":                           ErrInvalidURL,
		"https://example.com:123456":                      ErrInvalidURL,
	}
	for raw, sentinel := range bad {
		if _, err := p.check(raw); !errors.Is(err, sentinel) {
			t.Errorf("%s: %v, want %v", raw, err, sentinel)
		}
	}
	// Zones are refused even where the address itself is allowed.
	lax := urlPolicy{addrs: newAddrPolicy(true, false)}
	if _, err := lax.check("https://[fe80::1%25eth0]"); !errors.Is(err, ErrInvalidURL) {
		t.Errorf("zone with AllowPrivateNetworks: %v", err)
	}
}

// TestJWKSFetchUsesGuard: the jwks_uri fetch goes through the same guarded dialer, so a
// jwks_uri whose name resolves to a refused address is stopped before connect.
func TestJWKSFetchUsesGuard(t *testing.T) {
	t.Parallel()
	iss := newTestIssuer(t, true)
	rec := &dialRecorder{}
	c := newCache(Options{RootCAs: iss.pool()}, rec.hook)
	u, err := url.Parse(strings.Replace(iss.URL, "127.0.0.1", "localhost", 1) + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	_, ferr := c.get(context.Background(), c.client, iss.URL, StageJWKS, u, "application/json")
	wantFetchError(t, ferr, StageJWKS, ErrBlockedAddress)
	if len(rec.list()) != 0 || iss.conns.Load() != 0 {
		t.Fatalf("dials %v, conns %d", rec.list(), iss.conns.Load())
	}
}
