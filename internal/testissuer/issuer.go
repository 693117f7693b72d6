// Package testissuer is a small OIDC issuer (discovery + JWKS + minting) used by
// `keyless demo` to play a GitHub Actions or Kubernetes token issuer on loopback, and by
// tests. It is deliberately simple and must never be used to trust real workloads.
package testissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

// Issuer is a running OIDC issuer.
type Issuer struct {
	URL      string
	server   *http.Server
	ts       *httptest.Server
	key      crypto.Signer
	kid, alg string
	jwks     []byte
	// Fetches counts JWKS document requests (tests assert caching).
	Fetches atomic.Int64
}

// Options configure an issuer.
type Options struct {
	// Alg is RS256 (default, like GitHub and Kubernetes) or ES256.
	Alg string
	// TLS serves HTTPS with a self-signed certificate (see Issuer.Client / CertPool).
	TLS bool
	// Addr to listen on; default 127.0.0.1:0.
	Addr string
	// PathPrefix appended to the issuer URL (e.g. "/github").
	PathPrefix string
}

// Start starts an issuer on loopback.
func Start(opts Options) (*Issuer, error) {
	if opts.Alg == "" {
		opts.Alg = "RS256"
	}
	var key crypto.Signer
	var err error
	switch opts.Alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("testissuer: unsupported alg %s", opts.Alg)
	}
	if err != nil {
		return nil, err
	}
	is := &Issuer{key: key, alg: opts.Alg, kid: fmt.Sprintf("%s-%d", opts.Alg, time.Now().UnixNano()%1e6)}
	jwks := gojose.JSONWebKeySet{Keys: []gojose.JSONWebKey{{Key: key.Public(), KeyID: is.kid, Algorithm: opts.Alg, Use: "sig"}}}
	if is.jwks, err = json.Marshal(jwks); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+opts.PathPrefix+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.URL, "jwks_uri": is.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{opts.Alg},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET "+opts.PathPrefix+"/jwks", func(w http.ResponseWriter, r *http.Request) {
		is.Fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(is.jwks)
	})
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if opts.TLS {
		is.ts = httptest.NewUnstartedServer(mux)
		is.ts.Listener.Close()
		is.ts.Listener = ln
		is.ts.StartTLS()
		is.URL = "https://" + ln.Addr().String() + opts.PathPrefix
		return is, nil
	}
	is.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = is.server.Serve(ln) }()
	is.URL = "http://" + ln.Addr().String() + opts.PathPrefix
	return is, nil
}

// TLSConfig returns a client TLS config trusting the issuer's certificate (TLS only).
func (is *Issuer) TLSConfig() *tls.Config {
	if is.ts == nil {
		return nil
	}
	return is.ts.Client().Transport.(*http.Transport).TLSClientConfig
}

// Certificate returns the issuer's TLS certificate (TLS only).
func (is *Issuer) Certificate() []byte {
	if is.ts == nil {
		return nil
	}
	return is.ts.Certificate().Raw
}

// JWKS returns the issuer's public JWKS document (for pinning as jwksJson).
func (is *Issuer) JWKS() string { return string(is.jwks) }

// KID is the signing key's id.
func (is *Issuer) KID() string { return is.kid }

// Mint signs claims; iss is filled in when absent, iat/exp default to now and now+10m.
func (is *Issuer) Mint(claims map[string]any) (string, error) {
	c := make(map[string]any, len(claims)+3)
	now := time.Now()
	c["iss"], c["iat"], c["exp"] = is.URL, now.Unix(), now.Add(10*time.Minute).Unix()
	for k, v := range claims {
		c[k] = v
	}
	for k, v := range c {
		if v == nil {
			delete(c, k)
		}
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	s, err := gojose.NewSigner(gojose.SigningKey{Algorithm: gojose.SignatureAlgorithm(is.alg), Key: gojose.JSONWebKey{Key: is.key, KeyID: is.kid}},
		(&gojose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// Close stops the issuer.
func (is *Issuer) Close() {
	if is.ts != nil {
		is.ts.Close()
	}
	if is.server != nil {
		_ = is.server.Close()
	}
}
