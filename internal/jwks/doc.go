// Package jwks finds and caches the signing keys of external OIDC issuers.
//
// # Model
//
// A Cache holds one entry per issuer. Cache.Source(issuer) returns the issuer's key
// source, which the OIDC verifier asks for keys with KeySet(ctx, kid). The first call
// fetches the discovery document (issuer without trailing "/" plus
// "/.well-known/openid-configuration"), checks that its "issuer" equals the configured
// issuer byte for byte and that "jwks_uri" is acceptable, then fetches the JWKS and parses
// it with jose.ParseKeySet, which applies key policy. Keys that policy drops are logged
// (kid and reason, never key material) and counted in Stats.
//
// Freshness: a set lives for Cache-Control max-age (minus Age) clamped to [1m, 24h], or
// Options.TTL without one. Discovery is repeated when it is older than TTL or after any
// failed attempt. A kid missing from a fresh set triggers a refresh at most once per
// MinRefreshInterval per issuer; otherwise the cached set is returned and the verifier
// reports the unknown key. When a refresh fails, the cached set is served until MaxStale
// past its expiry; a failure is remembered (negative cache) for MinRefreshInterval only.
// At most one refresh per issuer is in flight (singleflight); concurrent callers share
// it, and a caller whose context ends stops waiting without cancelling the shared fetch,
// which is bounded by Options.Timeout per request.
//
// # Network guards (SSRF)
//
// Issuers and jwks_uri are attacker-influenced (a provider's issuer comes from config, but
// jwks_uri and redirects come from the network), so every request is constrained:
//
//   - https only; plain http only with AllowInsecureHTTP, to a loopback host, over a
//     dialer that accepts only loopback addresses.
//   - The address policy runs in net.Dialer.ControlContext, on the resolved address of
//     each connection attempt, before connect(2): DNS rebinding cannot bypass it. Unless
//     AllowPrivateNetworks (which MUST be false in production), loopback, RFC 1918,
//     unique-local, link-local (cloud metadata), CGNAT, documentation, benchmarking and
//     reserved ranges are refused, including IPv4-mapped, NAT64 and 6to4 spellings.
//     Unspecified, multicast and broadcast are always refused.
//   - URL hosts must be canonical IP literals or LDH DNS names; numeric spellings such as
//     "2130706433", "0177.0.0.1" or "0x7f000001" are refused without a DNS lookup.
//   - No proxy from the environment, no userinfo in URLs, at most 3 redirects and only to
//     the same scheme and host:port, status 200 only, bodies capped at MaxBodyBytes
//     (after transparent decompression), TLS 1.2+ verified against RootCAs.
//
// # Thumbprints (AWS IAM OIDC providers)
//
// SourceWithThumbprints adds AWS's ThumbprintList rule to one source: SHA-1 fingerprints
// (40 hex digits, compared case-insensitively) of the last certificate the server
// presents, normally the top intermediate CA. The standard verification (RootCAs or the
// system roots, host name, validity) runs first and is enough on its own. Only when it
// fails with x509.UnknownAuthorityError is the connection accepted, and then only if the
// leaf is valid for the dialled host, the presented chain verifies with its last
// certificate as the sole trust anchor (signatures, CA constraints, server-auth usage,
// validity periods at the current time, the same clock crypto/tls uses), and that last
// certificate's thumbprint is listed. Any other failure (expired, wrong host, bad
// signature) is final; a wrong thumbprint wraps ErrThumbprintMismatch. As at AWS, a
// server that presents only its leaf is accepted when the leaf's own thumbprint is
// listed, self-signed or not. The rule applies to every request of that source
// (discovery, jwks_uri on any host, same-host redirects) over the same guarded dialer,
// URL, redirect and size rules; one transport exists per distinct thumbprint set, and an
// issuer's sources with different sets have separate entries, so keys fetched under one
// trust rule never serve another. Without thumbprints nothing changes.
//
// # Errors
//
// Failures are *FetchError values naming the issuer and the stage ("discovery" or
// "jwks"); errors.Is matches the sentinels (ErrBlockedAddress, ErrTooLarge,
// ErrIssuerMismatch, ErrRedirect, ErrHTTPStatus, …). Detail is operator text; Public is
// safe for unauthenticated callers. Response bodies appear only as a 64-byte sanitised
// excerpt of non-200 responses.
package jwks
