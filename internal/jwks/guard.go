package jwks

import (
	"context"
	"fmt"
	"net/netip"
	"syscall"
)

// addrClass describes why an address range is refused.
type addrClass struct {
	prefix netip.Prefix
	name   string
	always bool // refused even with AllowPrivateNetworks
}

// addrPolicy decides which resolved addresses may be dialled. It is immutable after
// construction and shared by all dials of one Cache.
type addrPolicy struct {
	allowPrivate  bool
	loopbackOnly  bool // plain-HTTP transport: only loopback targets
	v4, v6        []addrClass
	nat64, sixTo4 netip.Prefix
}

func newAddrPolicy(allowPrivate, loopbackOnly bool) *addrPolicy {
	pfx := netip.MustParsePrefix
	return &addrPolicy{
		allowPrivate: allowPrivate,
		loopbackOnly: loopbackOnly,
		v4: []addrClass{
			{pfx("0.0.0.0/8"), "unspecified", true},
			{pfx("10.0.0.0/8"), "private", false},
			{pfx("100.64.0.0/10"), "cgnat", false},
			{pfx("127.0.0.0/8"), "loopback", false},
			{pfx("169.254.0.0/16"), "link-local", false},
			{pfx("172.16.0.0/12"), "private", false},
			{pfx("192.0.0.0/24"), "ietf-reserved", false},
			{pfx("192.0.2.0/24"), "documentation", false},
			{pfx("192.88.99.0/24"), "6to4-relay", false},
			{pfx("192.168.0.0/16"), "private", false},
			{pfx("198.18.0.0/15"), "benchmarking", false},
			{pfx("198.51.100.0/24"), "documentation", false},
			{pfx("203.0.113.0/24"), "documentation", false},
			{pfx("224.0.0.0/4"), "multicast", true},
			{pfx("240.0.0.0/4"), "reserved", true}, // includes 255.255.255.255
		},
		v6: []addrClass{
			{pfx("::/128"), "unspecified", true},
			{pfx("::1/128"), "loopback", false},
			{pfx("::/96"), "ipv4-compatible", false},
			{pfx("64:ff9b:1::/48"), "nat64-local", false},
			{pfx("100::/64"), "discard", false},
			{pfx("2001::/32"), "teredo", false},
			{pfx("2001:db8::/32"), "documentation", false},
			{pfx("fc00::/7"), "unique-local", false},
			{pfx("fe80::/10"), "link-local", false},
			{pfx("fec0::/10"), "site-local", false},
			{pfx("ff00::/8"), "multicast", true},
		},
		nat64:  pfx("64:ff9b::/96"),
		sixTo4: pfx("2002::/16"),
	}
}

// classify returns the name of the refused range ip belongs to, or "" if it is public.
// IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they embed.
func (p *addrPolicy) classify(ip netip.Addr) (name string, always bool) {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case p.nat64.Contains(ip):
			return p.classify(netip.AddrFrom4([4]byte(b[12:16])))
		case p.sixTo4.Contains(ip):
			return p.classify(netip.AddrFrom4([4]byte(b[2:6])))
		}
		for _, c := range p.v6 {
			if c.prefix.Contains(ip) {
				return c.name, c.always
			}
		}
		return "", false
	}
	for _, c := range p.v4 {
		if c.prefix.Contains(ip) {
			return c.name, c.always
		}
	}
	return "", false
}

// check returns an error wrapping ErrBlockedAddress if ip may not be dialled.
func (p *addrPolicy) check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlockedAddress)
	}
	if p.loopbackOnly && !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%w: %s is not loopback (plain http is allowed only to loopback)", ErrBlockedAddress, ip)
	}
	name, always := p.classify(ip)
	if name != "" && (always || !p.allowPrivate) {
		return fmt.Errorf("%w: %s is %s", ErrBlockedAddress, ip, name)
	}
	return nil
}

// control is a net.Dialer.ControlContext: it runs after the name was resolved and before
// connect(2), so the decision applies to the exact address being dialled and DNS
// rebinding cannot slip past it.
func (p *addrPolicy) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %q", ErrBlockedAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", ErrBlockedAddress, address)
	}
	return p.check(ap.Addr())
}
