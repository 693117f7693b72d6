package awsreq

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

const (
	// DefaultForwardTimeout bounds one whole exchange with AWS STS.
	DefaultForwardTimeout = 5 * time.Second
	forwardUserAgent      = "keyless"
	maxUpstreamMessage    = 256
)

// ErrUpstreamUnavailable matches (errors.Is) every Forward error that a
// retry may fix: connection, TLS and timeout failures, HTTP 5xx and 429, and
// AWS throttling or server-fault codes. Such errors have StageUpstream; the
// caller should answer "temporarily unavailable", not "invalid credential".
var ErrUpstreamUnavailable = errors.New("awsreq: AWS STS unavailable")

// errDialRefused is returned by the dial guard for a host, port or address
// the Forwarder must never connect to.
var errDialRefused = errors.New("dial refused by the STS host guard")

// UpstreamError is what AWS STS answered (or why it could not be asked). It
// is always wrapped in an *Error; use errors.As to read it. Message is AWS's
// text, cut to its first line and 256 bytes, with the request's
// Authorization value, signature and session token redacted.
type UpstreamError struct {
	Status    int    // HTTP status; 0 if no response was received
	Code      string // AWS error code (e.g. SignatureDoesNotMatch, ExpiredToken), "" if none
	Message   string
	Transient bool  // a retry may succeed; errors.Is(err, ErrUpstreamUnavailable) iff Transient
	Err       error // transport cause (timeout, TLS, connection), if any
}

func (e *UpstreamError) Error() string {
	var b strings.Builder
	b.WriteString("AWS STS")
	if e.Status != 0 {
		fmt.Fprintf(&b, " status %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(" code " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUpstreamUnavailable) report Transient.
func (e *UpstreamError) Is(target error) bool { return target == ErrUpstreamUnavailable && e.Transient }

// Forwarder sends checked GetCallerIdentity requests to AWS STS and parses
// the answer, so that AWS verifies the HMAC of credentials keyless did not
// issue. The zero value is ready to use. The HTTP client is built on the
// first call (or CloseIdleConnections) and reused; from then on the fields
// must not change and the Forwarder must not be copied. Forward is safe for
// concurrent use.
type Forwarder struct {
	// AllowedHosts has Policy.AllowedHosts' meaning (nil = DefaultAllowedHost).
	// It is applied before any request and again by the dial guard.
	AllowedHosts func(host string) bool
	// DialOverrides redirects dials (tests: "sts.us-east-1.amazonaws.com:443"
	// -> "127.0.0.1:port"). The TLS server name stays the STS host and its
	// certificate is still verified against RootCAs. Nil means normal DNS.
	DialOverrides map[string]string
	// RootCAs verifies the STS certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds the whole exchange; <= 0 means DefaultForwardTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds the answer; <= 0 means MaxResponseSize. A 200
	// answer is in any case parsed only up to MaxResponseSize.
	MaxResponseBytes int64
	// Transport, if set, is used as is (tests only). Otherwise the Forwarder
	// builds an HTTPS-only, TLS 1.2+ transport with no proxy, no compression
	// and a dial guard that refuses hosts outside AllowedHosts, ports other
	// than 443 and (without an override) loopback, link-local, multicast and
	// unspecified addresses.
	Transport http.RoundTripper

	once      sync.Once
	client    *http.Client
	overrides map[string]string
}

func (f *Forwarder) init() {
	f.overrides = maps.Clone(f.DialOverrides)
	rt := f.Transport
	if rt == nil {
		timeout := f.timeout()
		direct := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		guarded := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: refuseInternalAddr}
		rt = &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return f.dial(ctx, direct, guarded, network, addr)
			},
			TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: f.RootCAs},
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			DisableCompression:     true,
			MaxIdleConnsPerHost:    8,
			IdleConnTimeout:        90 * time.Second,
			MaxResponseHeaderBytes: 32 << 10,
		}
	}
	f.client = &http.Client{
		Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CloseIdleConnections closes kept-alive connections (for shutdown and tests).
func (f *Forwarder) CloseIdleConnections() {
	f.once.Do(f.init)
	f.client.CloseIdleConnections()
}

func (f *Forwarder) timeout() time.Duration {
	if f.Timeout <= 0 {
		return DefaultForwardTimeout
	}
	return f.Timeout
}

func (f *Forwarder) maxBytes() int64 {
	if f.MaxResponseBytes <= 0 {
		return MaxResponseSize
	}
	return f.MaxResponseBytes
}

func (f *Forwarder) allowed(host string) bool {
	if f.AllowedHosts == nil {
		return DefaultAllowedHost(host)
	}
	return f.AllowedHosts(host)
}

// dial is the guard every connection passes: allowlisted DNS name, port 443.
func (f *Forwarder) dial(ctx context.Context, direct, guarded *net.Dialer, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != "443" {
		return nil, errDialRefused
	}
	if _, err := checkURLHost(&url.URL{Scheme: "https", Host: host}); err != nil || !f.allowed(host) {
		return nil, errDialRefused
	}
	if target, ok := f.overrides[addr]; ok {
		return direct.DialContext(ctx, network, target)
	}
	return guarded.DialContext(ctx, network, addr)
}

// refuseInternalAddr stops a resolved STS name from reaching loopback,
// link-local (instance metadata), multicast or unspecified addresses.
// Private ranges stay allowed: VPC interface endpoints for STS use them.
func refuseInternalAddr(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return errDialRefused
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return errDialRefused
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return errDialRefused
	}
	return nil
}

// Forward sends g to AWS STS exactly as the client signed it and returns the
// verified identity. Call Check first (binding, clock, scope); Forward itself
// re-applies, before any network use, the checks that keep the request safe
// to send: POST, https to an allowlisted host, the GetCallerIdentity query,
// an empty body, one Host header equal to the URL host, the header allowlist
// and an Authorization header.
//
// Errors are *Error. AWS error answers carry an *UpstreamError with the AWS
// code; stages: StageSignature (InvalidClientTokenId, SignatureDoesNotMatch,
// IncompleteSignature, MissingAuthenticationToken, ...), StageDate
// (ExpiredToken, and SignatureDoesNotMatch for "Signature expired" / "not yet
// current"), StageRejected (any other client-side code, e.g. AccessDenied),
// StageUpstream (retryable; matches ErrUpstreamUnavailable), StageResponse
// (redirects, unexpected statuses, oversized, compressed or malformed bodies).
func (f *Forwarder) Forward(ctx context.Context, g *GCIRequest) (*CallerIdentity, error) {
	host, err := g.checkForward(f.allowed)
	if err != nil {
		return nil, err
	}
	f.once.Do(f.init)
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	req, err := g.newForwardRequest(ctx, host)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, transportError(err)
	}
	defer resp.Body.Close()
	limit := f.maxBytes()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil {
		// A body that ended only because our deadline closed the exchange
		// is not an answer.
		err = ctx.Err()
	}
	if err != nil {
		return nil, transportError(err)
	}
	if int64(len(body)) > limit {
		return nil, &Error{Stage: StageResponse, Detail: "AWS STS response too large", Err: &UpstreamError{Status: resp.StatusCode}}
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, &Error{Stage: StageResponse, Detail: "AWS STS response is content-encoded", Err: &UpstreamError{Status: resp.StatusCode}}
	}
	if resp.StatusCode == http.StatusOK {
		return ParseGetCallerIdentityResponse(body)
	}
	return nil, g.upstreamFailure(resp.StatusCode, body)
}

// checkForward re-checks what makes g safe to put on the wire.
func (g *GCIRequest) checkForward(allowed func(string) bool) (string, error) {
	if g == nil || g.URL == nil {
		return "", fail(StageFormat, "no request to forward")
	}
	if g.Method != http.MethodPost {
		return "", fail(StageAction, "method must be POST")
	}
	host, err := checkURLHost(g.URL)
	if err != nil {
		return "", err
	}
	if !allowed(host) {
		return "", fail(StageHost, "host not allowed: "+truncate(host))
	}
	if g.URL.Path != "" && g.URL.Path != "/" || g.URL.RawPath != "" || !isGCIQuery(g.URL.RawQuery) {
		return "", fail(StageAction, "not exactly POST /?Action=GetCallerIdentity&Version=2011-06-15")
	}
	if len(g.Body) != 0 {
		return "", fail(StageAction, "GetCallerIdentity body must be empty")
	}
	if g.Auth == nil || g.Auth.Presigned {
		return "", fail(StageFormat, "an Authorization header is required")
	}
	seen := map[string]bool{}
	for _, h := range g.RawHeaders {
		ck := http.CanonicalHeaderKey(h.Key)
		if seen[ck] {
			return "", fail(StageFormat, "duplicate header "+truncate(h.Key))
		}
		seen[ck] = true
		if h.Key == "" || !allBytes(h.Key, isTokenByte) || !contains(allowedHeaders, ck) {
			return "", fail(StageFormat, "header not allowed: "+truncate(h.Key))
		}
		if !allBytes(h.Value, func(c byte) bool { return c >= 0x20 && c != 0x7f }) {
			return "", fail(StageFormat, "invalid header value for "+truncate(h.Key))
		}
		if ck == "Host" && h.Value != host {
			return "", fail(StageHost, "Host header must equal the URL host")
		}
	}
	if !seen["Host"] {
		return "", fail(StageHost, "Host header must equal the URL host")
	}
	if !seen["Authorization"] {
		return "", fail(StageFormat, "an Authorization header is required")
	}
	return host, nil
}

// newForwardRequest builds the POST with the client's header spelling.
func (g *GCIRequest) newForwardRequest(ctx context.Context, host string) (*http.Request, error) {
	u := &url.URL{Scheme: "https", Host: host, Path: g.URL.Path, RawQuery: g.URL.RawQuery}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return nil, &Error{Stage: StageFormat, Detail: "cannot build the forwarded request", Err: err}
	}
	for _, h := range g.RawHeaders {
		if http.CanonicalHeaderKey(h.Key) == "Host" {
			req.Host = h.Value
			continue
		}
		req.Header[h.Key] = []string{h.Value}
	}
	req.Header.Set("User-Agent", forwardUserAgent)
	return req, nil
}

// transportError classifies a failure to exchange with STS.
func transportError(err error) error {
	if errors.Is(err, errDialRefused) {
		return &Error{Stage: StageHost, Detail: "connection refused by the STS host guard"}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop the request URL from the text
	}
	return &Error{Stage: StageUpstream, Detail: "AWS STS exchange failed", Err: &UpstreamError{Transient: true, Err: err}}
}

// upstreamFailure turns a non-200 answer into an *Error.
func (g *GCIRequest) upstreamFailure(status int, body []byte) error {
	ue := &UpstreamError{Status: status}
	perr := error(nil)
	var errType string
	if ae, err := parseErrorResponse(body); err == nil {
		ue.Code, ue.Message, errType = ae.code, g.redact(ae.message), ae.typ
	} else {
		perr = err
	}
	detail := fmt.Sprintf("AWS STS answered %d", status)
	if ue.Code != "" {
		detail += " " + ue.Code
	}
	switch {
	case status >= 500 || status == http.StatusTooManyRequests || transientCodes[ue.Code] || errType == "Receiver" && status >= 400:
		ue.Transient = true
		return &Error{Stage: StageUpstream, Detail: detail, Err: ue}
	case status < 400:
		return &Error{Stage: StageResponse, Detail: detail + " (unexpected status)", Err: ue}
	case perr != nil:
		return &Error{Stage: StageResponse, Detail: detail + " without a valid ErrorResponse", Err: errors.Join(ue, perr)}
	}
	return &Error{Stage: codeStage(ue.Code, ue.Message), Detail: detail, Err: ue}
}

// transientCodes are AWS error codes a retry may fix, whatever the status.
var transientCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestLimitExceeded": true,
	"TooManyRequestsException": true, "RequestThrottled": true, "PriorRequestNotComplete": true,
	"ServiceUnavailable": true, "InternalFailure": true, "InternalError": true, "RequestTimeout": true,
	"RequestTimeoutException": true, "IDPCommunicationError": true,
}

// signatureCodes mean AWS could not authenticate the request's credential.
var signatureCodes = map[string]bool{
	"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "IncompleteSignature": true,
	"MissingAuthenticationToken": true, "InvalidSignatureException": true, "UnrecognizedClientException": true,
	"AuthFailure": true, "InvalidAccessKeyId": true, "InvalidToken": true, "MissingAuthenticationTokenException": true,
}

// dateCodes mean the signature or the session credential is out of date.
var dateCodes = map[string]bool{"ExpiredToken": true, "ExpiredTokenException": true, "RequestExpired": true}

func codeStage(code, message string) Stage {
	switch {
	case dateCodes[code]:
		return StageDate
	case code == "SignatureDoesNotMatch" &&
		(strings.HasPrefix(message, "Signature expired") || strings.HasPrefix(message, "Signature not yet current")):
		return StageDate
	case signatureCodes[code]:
		return StageSignature
	}
	return StageRejected
}

// redact cuts an AWS message to one printable line and removes anything of
// the signed request that must not reach logs.
func (g *GCIRequest) redact(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	secrets := []string{g.Headers.Get("Authorization"), g.Headers.Get("X-Amz-Security-Token")}
	if g.Auth != nil {
		secrets = append(secrets, g.Auth.SessionToken, hex.EncodeToString(g.Auth.Signature))
	}
	for _, h := range g.RawHeaders {
		if k := http.CanonicalHeaderKey(h.Key); k == "Authorization" || k == "X-Amz-Security-Token" {
			secrets = append(secrets, h.Value)
		}
	}
	// Longest first, so a secret containing another is removed whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= 8 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(msg))
	if len(msg) > maxUpstreamMessage {
		msg = strings.ToValidUTF8(msg[:maxUpstreamMessage], "") + "..."
	}
	return msg
}

// awsError is the Error element of an STS ErrorResponse.
type awsError struct{ typ, code, message string }

var awsCodeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,127}$`)

// parseErrorResponse reads <ErrorResponse><Error><Type/><Code/><Message/>
// </Error><RequestId/></ErrorResponse> (namespace empty or STS's). Exactly
// one Error with exactly one well-formed Code; Type and Message at most
// once; unknown elements are skipped; DTDs, entities other than XML's own,
// processing instructions and trailing data are refused.
func parseErrorResponse(body []byte) (*awsError, error) {
	if len(body) > MaxResponseSize {
		return nil, errors.New("error response too large")
	}
	if !utf8.Valid(body) {
		return nil, errors.New("error response is not UTF-8")
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	root, err := nextStart(dec, true)
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "ErrorResponse" || !okNamespace(root.Name.Space) {
		return nil, errors.New("root element must be ErrorResponse")
	}
	var ae *awsError
	for {
		el, err := nextStart(dec, false)
		if err != nil {
			return nil, err
		}
		if el == nil {
			break
		}
		if el.Name.Local != "Error" {
			if err := skipElement(dec); err != nil {
				return nil, err
			}
			continue
		}
		if ae != nil {
			return nil, errors.New("duplicate Error")
		}
		if ae, err = parseErrorElement(dec); err != nil {
			return nil, err
		}
	}
	if err := expectXMLEnd(dec); err != nil {
		return nil, err
	}
	if ae == nil {
		return nil, errors.New("Error element required")
	}
	return ae, nil
}

func parseErrorElement(dec *xml.Decoder) (*awsError, error) {
	ae := &awsError{}
	seen := map[string]bool{}
	for {
		f, err := nextStart(dec, false)
		if err != nil {
			return nil, err
		}
		if f == nil {
			break
		}
		var dst *string
		switch f.Name.Local {
		case "Type":
			dst = &ae.typ
		case "Code":
			dst = &ae.code
		case "Message":
			dst = &ae.message
		default:
			if err := skipElement(dec); err != nil {
				return nil, err
			}
			continue
		}
		if seen[f.Name.Local] {
			return nil, errors.New("duplicate " + f.Name.Local)
		}
		seen[f.Name.Local] = true
		if *dst, err = elementText(dec); err != nil {
			return nil, err
		}
	}
	if !awsCodeRe.MatchString(ae.code) {
		return nil, errors.New("missing or malformed Code")
	}
	return ae, nil
}

// expectXMLEnd allows only blanks and comments after the root element.
func expectXMLEnd(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := allowedMisc(tok); err != nil {
			return err
		}
		if _, ok := tok.(xml.StartElement); ok {
			return errors.New("data after the root element")
		}
	}
}
