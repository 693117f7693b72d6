package config

import (
	"net"
	"net/netip"
)

// Defaults that ApplyDefaults fills in (SPEC §2, §5, §8).
const (
	DefaultSigningAlg          = "ES256"
	DefaultAccessTokenLifetime = "3600s"
	// DefaultAzureAudience is what Entra expects when a federated credential lists no audience.
	DefaultAzureAudience = "api://AzureADTokenExchange"
	// DefaultRolePath and DefaultMaxSessionDuration are AWS IAM's defaults for a role.
	DefaultRolePath           = "/"
	DefaultMaxSessionDuration = 3600
)

// ApplyDefaults fills the values a config may leave out, so that the server and the dialects
// read one complete config:
//   - issuer: "http://" + listenAddr. listenAddr must be the bound address (after a ":0" port
//     was resolved); an empty or unspecified host (":8080", "0.0.0.0:8080") becomes 127.0.0.1.
//   - server.signingAlg ES256 and server.accessTokenLifetime 3600s;
//   - Azure federated credentials without audiences: api://AzureADTokenExchange;
//   - AWS roles: path "/" and maxSessionDuration 3600.
//
// Provider attribute mappings are not filled here: the AWS default mapping is CEL and belongs
// to the policy compiler. ApplyDefaults never overrides a value that is set.
func (c *Config) ApplyDefaults(listenAddr string) {
	if c.Issuer == "" && listenAddr != "" {
		c.Issuer = "http://" + issuerHost(listenAddr)
	}
	if c.Server == nil {
		c.Server = &Server{}
	}
	if c.Server.SigningAlg == "" {
		c.Server.SigningAlg = DefaultSigningAlg
	}
	if c.Server.AccessTokenLifetime == "" {
		c.Server.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if c.Azure != nil {
		for i := range c.Azure.Tenants {
			for j := range c.Azure.Tenants[i].Applications {
				fics := c.Azure.Tenants[i].Applications[j].FederatedIdentityCredentials
				for k := range fics {
					if len(fics[k].Audiences) == 0 {
						fics[k].Audiences = []string{DefaultAzureAudience}
					}
				}
			}
		}
	}
	if c.AWS != nil {
		for i := range c.AWS.Accounts {
			for j := range c.AWS.Accounts[i].Roles {
				r := &c.AWS.Accounts[i].Roles[j]
				if r.Path == "" {
					r.Path = DefaultRolePath
				}
				if r.MaxSessionDuration == 0 {
					r.MaxSessionDuration = DefaultMaxSessionDuration
				}
			}
		}
	}
}

// issuerHost turns a listen address into the host[:port] of a URL.
func issuerHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if a, err := netip.ParseAddr(host); host == "" || (err == nil && a.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
