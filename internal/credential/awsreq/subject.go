package awsreq

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/strictjson"
)

const (
	// SubjectTokenType is the STS subject_token_type of a serialized
	// GetCallerIdentity request.
	SubjectTokenType = "urn:ietf:params:aws:token-type:aws4_request"
	// MaxSubjectTokenSize bounds the subject token as received (after the form decode).
	MaxSubjectTokenSize = 16 << 10

	gciQueryAction  = "Action=GetCallerIdentity"
	gciQueryVersion = "Version=2011-06-15"
	bindingHeader   = "X-Goog-Cloud-Target-Resource"
)

// HeaderField is one {key, value} entry of a subject token, as sent.
type HeaderField struct{ Key, Value string }

// GCIRequest is Google's serialized, signed STS GetCallerIdentity request
// (subject_token_type urn:ietf:params:aws:token-type:aws4_request).
// Headers has canonical keys; RawHeaders keeps the client's order and
// spelling for forwarding. Auth is the parsed (not yet verified) SigV4 header.
type GCIRequest struct {
	URL        *url.URL
	Method     string
	Headers    http.Header
	RawHeaders []HeaderField
	Body       []byte
	Auth       *Auth
}

// ParseSubjectToken decodes a subject token after the form decode. Tokens
// not starting with '{' are URL-unescaped once (Go's '+' for space and
// Python/Node's %20 both decode). The JSON must be exactly
// {"url", "method", "headers": [{"key","value"}...], optional "body"}, all
// strings, in strict JSON (package strictjson: valid UTF-8, no duplicate
// member names, bounded depth, no trailing data), with no unknown members,
// no duplicate header keys (compared case-insensitively) and no control
// characters in header values. The Authorization header must parse
// (ParseAuth). Call Check next.
func ParseSubjectToken(token string) (*GCIRequest, error) {
	if len(token) > MaxSubjectTokenSize {
		return nil, fail(StageFormat, "subject token too large")
	}
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, "{") {
		dec, err := url.QueryUnescape(token)
		if err != nil {
			return nil, &Error{Stage: StageFormat, Detail: "subject token is not URL-encoded JSON", Err: err}
		}
		token = dec
	}
	if !strings.HasPrefix(token, "{") {
		return nil, fail(StageFormat, "subject token is not a JSON object")
	}
	m, err := strictjson.DecodeObjectString(token)
	if err != nil {
		return nil, &Error{Stage: StageFormat, Detail: "invalid subject token JSON", Err: err}
	}
	g, rawURL, err := subjectFromJSON(m)
	if err != nil {
		return nil, &Error{Stage: StageFormat, Detail: "invalid subject token JSON", Err: err}
	}
	if g.URL, err = url.Parse(rawURL); err != nil {
		return nil, &Error{Stage: StageFormat, Detail: "invalid url", Err: err}
	}
	if g.Auth, err = ParseAuth(g.SignedRequest()); err != nil {
		return nil, err
	}
	return g, nil
}

// subjectFromJSON checks the decoded token's shape: exactly url, method and
// headers (an array of header entries), optionally body, all strings. Checks
// run in a fixed order so that a token with several faults always gets the
// same error.
func subjectFromJSON(m map[string]any) (*GCIRequest, string, error) {
	if name, ok := firstUnknown(m, "url", "method", "headers", "body"); ok {
		return nil, "", errors.New("unknown member " + truncate(name))
	}
	if !hasAll(m, "url", "method", "headers") {
		return nil, "", errors.New("subject token needs url, method and headers")
	}
	rawURL, err := stringMember(m, "url")
	if err != nil {
		return nil, "", err
	}
	g := &GCIRequest{}
	if g.Method, err = stringMember(m, "method"); err != nil {
		return nil, "", err
	}
	if hasAll(m, "body") {
		b, err := stringMember(m, "body")
		if err != nil {
			return nil, "", err
		}
		g.Body = []byte(b)
	}
	entries, ok := m["headers"].([]any)
	if !ok {
		return nil, "", errors.New("member headers is not an array")
	}
	g.Headers = make(http.Header, len(entries))
	g.RawHeaders = make([]HeaderField, 0, len(entries))
	for _, e := range entries {
		if err := g.addHeader(e); err != nil {
			return nil, "", err
		}
	}
	return g, rawURL, nil
}

// addHeader checks one {"key","value"} entry and appends it to g, keeping
// the client's order and spelling in RawHeaders.
func (g *GCIRequest) addHeader(entry any) error {
	m, ok := entry.(map[string]any)
	if !ok {
		return errors.New("header entry is not an object")
	}
	if name, ok := firstUnknown(m, "key", "value"); ok {
		return errors.New("unknown header member " + truncate(name))
	}
	if !hasAll(m, "key", "value") {
		return errors.New("header entry needs key and value")
	}
	key, err := stringMember(m, "key")
	if err != nil {
		return err
	}
	value, err := stringMember(m, "value")
	if err != nil {
		return err
	}
	if key == "" || len(key) > 256 || !allBytes(key, isTokenByte) {
		return errors.New("invalid header name")
	}
	if len(value) > 8<<10 || !allBytes(value, func(c byte) bool { return c >= 0x20 && c != 0x7f }) {
		return errors.New("invalid header value for " + truncate(key))
	}
	ck := http.CanonicalHeaderKey(key)
	if _, dup := g.Headers[ck]; dup {
		return errors.New("duplicate header " + truncate(key))
	}
	g.Headers[ck] = []string{value}
	g.RawHeaders = append(g.RawHeaders, HeaderField{Key: key, Value: value})
	return nil
}

// stringMember returns m[name] if it is a string (null is not a string).
func stringMember(m map[string]any, name string) (string, error) {
	s, ok := m[name].(string)
	if !ok {
		return "", errors.New("member " + name + " is not a string")
	}
	return s, nil
}

func hasAll(m map[string]any, names ...string) bool {
	for _, n := range names {
		if _, ok := m[n]; !ok {
			return false
		}
	}
	return true
}

// firstUnknown returns the smallest member name of m not in known (which
// may be the empty name), and whether there is one.
func firstUnknown(m map[string]any, known ...string) (first string, found bool) {
	for name := range m {
		if !slices.Contains(known, name) && (!found || name < first) {
			first, found = name, true
		}
	}
	return first, found
}

// SignedRequest returns the request as SigV4 sees it (for Verify, e.g. in a
// fake STS that knows the secret). The host is the Host header if present.
func (g *GCIRequest) SignedRequest() SignedRequest {
	if g.URL == nil {
		return SignedRequest{}
	}
	host := g.URL.Host
	if hs := g.Headers.Values("Host"); len(hs) == 1 {
		host = hs[0]
	}
	return SignedRequest{
		Method:   g.Method,
		Host:     host,
		Path:     g.URL.EscapedPath(),
		RawQuery: g.URL.RawQuery,
		Headers:  g.Headers,
		Body:     g.Body,
	}
}

// Policy is what Check enforces for one provider.
type Policy struct {
	// Audience is the provider audience (//iam.googleapis.com/projects/...);
	// x-goog-cloud-target-resource must equal it, in that form or with an
	// "https:" prefix.
	Audience string
	// AllowedHosts decides which STS host names may be forwarded to. Nil
	// means sts.amazonaws.com and sts.{region}.amazonaws.com only. Userinfo,
	// ports and IP literals are refused before it is called.
	AllowedHosts func(host string) bool
	// RequireSignedBinding additionally demands that the binding header be
	// in SignedHeaders. Go clients sign it; Python and Node clients do not.
	RequireSignedBinding bool
	Now                  time.Time
	MaxSkew              time.Duration // <= 0 means DefaultMaxSkew
}

// allowedHeaders are the only headers a subject token may carry: what the
// Python, Go and Node clients send, plus x-amz-content-sha256.
var allowedHeaders = []string{
	"Authorization", "Host", "X-Amz-Date", "X-Amz-Security-Token", bindingHeader, "X-Amz-Content-Sha256",
}

var regionalSTSHost = regexp.MustCompile(`^sts\.([a-z]{2}(?:-[a-z]+)+-[0-9]{1,2})\.amazonaws\.com$`)

// DefaultAllowedHost accepts sts.amazonaws.com and sts.{region}.amazonaws.com.
func DefaultAllowedHost(host string) bool {
	return host == "sts.amazonaws.com" || regionalSTSHost.MatchString(host)
}

// Check applies the server-side rules to a parsed token: POST; https to an
// allowlisted STS host with no userinfo, port or IP literal; path "/" or "";
// query exactly Action=GetCallerIdentity&Version=2011-06-15; Host header equal
// to the URL host; empty body; only known headers; header (not presigned)
// SigV4 with service "sts" and the host's region; the binding header equal to
// the audience; x-amz-date within MaxSkew of Now. It cannot check the HMAC
// (AWS holds the secret): forward the request to AWS for that.
func (g *GCIRequest) Check(p Policy) error {
	if p.Audience == "" || p.Now.IsZero() {
		return fail(StagePolicy, "policy needs an audience and the current time")
	}
	if g.Method != http.MethodPost {
		return fail(StageAction, "method must be POST")
	}
	host, err := checkURLHost(g.URL)
	if err != nil {
		return err
	}
	allowed := p.AllowedHosts
	if allowed == nil {
		allowed = DefaultAllowedHost
	}
	if !allowed(host) {
		return fail(StageHost, "host not allowed: "+truncate(host))
	}
	if g.URL.Path != "" && g.URL.Path != "/" || g.URL.RawPath != "" {
		return fail(StageAction, "path must be / or empty")
	}
	if !isGCIQuery(g.URL.RawQuery) {
		return fail(StageAction, "query must be exactly Action=GetCallerIdentity&Version=2011-06-15")
	}
	if len(g.Body) != 0 {
		return fail(StageAction, "GetCallerIdentity body must be empty")
	}
	if hs := g.Headers.Values("Host"); len(hs) != 1 || hs[0] != host {
		return fail(StageHost, "Host header must equal the URL host")
	}
	for k := range g.Headers {
		if !contains(allowedHeaders, k) {
			return fail(StageFormat, "header not allowed: "+truncate(k))
		}
	}
	a := g.Auth
	if a == nil || a.Presigned {
		return fail(StageFormat, "an Authorization header is required")
	}
	if a.Service != "sts" {
		return fail(StageSignature, "credential scope service must be sts")
	}
	if want, ok := hostRegion(host); ok && a.Region != want {
		return fail(StageSignature, "credential scope region does not match the STS host")
	}
	if err := checkBinding(g, p); err != nil {
		return err
	}
	return checkTime(a, p.Now, p.MaxSkew)
}

func checkURLHost(u *url.URL) (string, error) {
	if u == nil || u.Scheme != "https" || u.Opaque != "" {
		return "", fail(StageHost, "url must be an absolute https URL")
	}
	if u.User != nil || u.Fragment != "" || u.RawFragment != "" {
		return "", fail(StageHost, "url must not carry userinfo or a fragment")
	}
	host := u.Host
	if host == "" || strings.ContainsAny(host, ":[]") || net.ParseIP(host) != nil {
		return "", fail(StageHost, "url host must be a DNS name without a port")
	}
	if !allBytes(host, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' }) {
		return "", fail(StageHost, "url host must be a lowercase DNS name")
	}
	return host, nil
}

func isGCIQuery(raw string) bool {
	a, b, ok := strings.Cut(raw, "&")
	if !ok || strings.Contains(b, "&") {
		return false
	}
	return a == gciQueryAction && b == gciQueryVersion || a == gciQueryVersion && b == gciQueryAction
}

// hostRegion returns the region a default STS host implies.
func hostRegion(host string) (string, bool) {
	if host == "sts.amazonaws.com" {
		return "us-east-1", true
	}
	if m := regionalSTSHost.FindStringSubmatch(host); m != nil {
		return m[1], true
	}
	return "", false
}

func checkBinding(g *GCIRequest, p Policy) error {
	vals := g.Headers.Values(bindingHeader)
	if len(vals) != 1 {
		return fail(StageBinding, "x-goog-cloud-target-resource header is missing")
	}
	if normalizeAudience(vals[0]) != normalizeAudience(p.Audience) {
		return fail(StageBinding, "x-goog-cloud-target-resource does not match the audience")
	}
	if p.RequireSignedBinding && !contains(g.Auth.SignedHeaders, strings.ToLower(bindingHeader)) {
		return fail(StageBinding, "x-goog-cloud-target-resource is not signed")
	}
	return nil
}

// normalizeAudience maps "https://iam.googleapis.com/..." to "//iam.googleapis.com/...".
func normalizeAudience(s string) string {
	if rest, ok := strings.CutPrefix(s, "https://"); ok {
		return "//" + rest
	}
	return s
}
