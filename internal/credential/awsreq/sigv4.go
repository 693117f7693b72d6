package awsreq

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// Algorithm is the only SigV4 algorithm accepted.
	Algorithm = "AWS4-HMAC-SHA256"
	// DefaultMaxSkew is the clock window AWS itself applies.
	DefaultMaxSkew = 15 * time.Minute
	// DefaultPresignExpires applies to presigned URLs without X-Amz-Expires.
	DefaultPresignExpires = 15 * time.Minute
	// MaxPresignExpires is the largest X-Amz-Expires AWS accepts (7 days).
	MaxPresignExpires = 7 * 24 * time.Hour

	amzDateLayout  = "20060102T150405Z"
	scopeTerminal  = "aws4_request"
	emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// SignedRequest is a received request as SigV4 sees it. Path and RawQuery are
// the raw (still percent-encoded) wire forms. Headers holds every header as
// received, duplicates in arrival order, keys in canonical form (as net/http
// produces them). Host is the Host header value including any port; a Host
// entry in Headers, if present, must agree with it.
type SignedRequest struct {
	Method   string
	Host     string
	Path     string
	RawQuery string
	Headers  http.Header
	Body     []byte
	// SkipPathNormalization turns off removal of "." / ".." segments and
	// duplicate slashes (S3-style). It is set by the verifier, never from input.
	SkipPathNormalization bool
}

// Auth is a parsed SigV4 authorization: from the Authorization header, or
// from the X-Amz-* query parameters of a presigned URL.
type Auth struct {
	AccessKeyID   string
	Date          string // yyyymmdd of the credential scope
	Region        string
	Service       string
	SignedHeaders []string // lowercase, sorted, unique, contains "host"
	Signature     []byte   // 32 bytes
	Timestamp     time.Time
	SessionToken  string // x-amz-security-token / X-Amz-Security-Token, if any
	Presigned     bool
	Expires       time.Duration // presigned only: X-Amz-Expires
}

// Scope returns the credential scope "date/region/service/aws4_request".
func (a *Auth) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + scopeTerminal
}

// ParseAuth extracts and strictly validates the SigV4 authorization of r.
// It does not check the signature or the clock; see Verify.
func ParseAuth(r SignedRequest) (*Auth, error) {
	authz := headerValues(r.Headers, "Authorization")
	query, err := parseQuery(r.RawQuery)
	if err != nil {
		return nil, err
	}
	presigned := false
	for _, p := range query {
		if isAuthParam(p.key) {
			presigned = true
		}
	}
	switch {
	case presigned && len(authz) > 0:
		return nil, fail(StageFormat, "both an Authorization header and presigned query parameters")
	case presigned:
		return parsePresigned(r, query)
	case len(authz) == 0:
		return nil, fail(StageFormat, "no Authorization header")
	case len(authz) > 1:
		return nil, fail(StageFormat, "more than one Authorization header")
	}
	a, err := parseAuthorization(authz[0])
	if err != nil {
		return nil, err
	}
	dates := headerValues(r.Headers, "X-Amz-Date")
	if len(dates) != 1 {
		return nil, fail(StageDate, "exactly one X-Amz-Date header is required")
	}
	if !contains(a.SignedHeaders, "x-amz-date") {
		return nil, fail(StageSignature, "x-amz-date is not a signed header")
	}
	if err := a.setTimestamp(dates[0]); err != nil {
		return nil, err
	}
	tokens := headerValues(r.Headers, "X-Amz-Security-Token")
	switch {
	case len(tokens) > 1:
		return nil, fail(StageFormat, "more than one X-Amz-Security-Token header")
	case len(tokens) == 1:
		if !contains(a.SignedHeaders, "x-amz-security-token") {
			return nil, fail(StageSignature, "x-amz-security-token is present but not signed")
		}
		a.SessionToken = tokens[0]
	}
	if err := checkSignedPresent(r, a); err != nil {
		return nil, err
	}
	return a, nil
}

var authParams = []string{
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature",
}

func isAuthParam(k string) bool { return contains(authParams, k) }

func parsePresigned(r SignedRequest, query []queryPair) (*Auth, error) {
	vals := map[string]string{}
	for _, p := range query {
		if isAuthParam(p.key) || p.key == "X-Amz-Security-Token" {
			if _, dup := vals[p.key]; dup {
				return nil, fail(StageFormat, "duplicate query parameter "+p.key)
			}
			vals[p.key] = p.value
		}
	}
	for _, k := range authParams {
		if _, ok := vals[k]; !ok && k != "X-Amz-Expires" {
			return nil, fail(StageFormat, "presigned URL lacks "+k)
		}
	}
	if err := checkAlgorithm(vals["X-Amz-Algorithm"]); err != nil {
		return nil, err
	}
	a := &Auth{Presigned: true}
	if err := a.setCredential(vals["X-Amz-Credential"]); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(vals["X-Amz-SignedHeaders"]); err != nil {
		return nil, err
	}
	if err := a.setSignature(vals["X-Amz-Signature"]); err != nil {
		return nil, err
	}
	if err := a.setTimestamp(vals["X-Amz-Date"]); err != nil {
		return nil, err
	}
	if exp, ok := vals["X-Amz-Expires"]; ok {
		n, err := strconv.Atoi(exp)
		if err != nil || n < 1 || strconv.Itoa(n) != exp || time.Duration(n)*time.Second > MaxPresignExpires {
			return nil, fail(StageDate, "X-Amz-Expires must be an integer in 1..604800")
		}
		a.Expires = time.Duration(n) * time.Second
	} else {
		// aws-sdk-go-v2's PresignGetCallerIdentity leaves it out; STS then allows the
		// SigV4 clock window.
		a.Expires = DefaultPresignExpires
	}
	a.SessionToken = vals["X-Amz-Security-Token"]
	if err := checkSignedPresent(r, a); err != nil {
		return nil, err
	}
	return a, nil
}

func checkAlgorithm(alg string) error {
	switch alg {
	case Algorithm:
		return nil
	case "AWS4-ECDSA-P256-SHA256":
		return fail(StageSignature, "SigV4a (AWS4-ECDSA-P256-SHA256) is not supported")
	}
	return fail(StageFormat, "unsupported signing algorithm "+strconv.Quote(truncate(alg)))
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
// The three parts may come in any order, each exactly once.
func parseAuthorization(v string) (*Auth, error) {
	alg, rest, ok := strings.Cut(v, " ")
	if !ok {
		return nil, fail(StageFormat, "Authorization header has no parameters")
	}
	if err := checkAlgorithm(alg); err != nil {
		return nil, err
	}
	a := &Auth{}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " ")
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fail(StageFormat, "malformed Authorization parameter")
		}
		if seen[k] {
			return nil, fail(StageFormat, "duplicate Authorization parameter "+strconv.Quote(truncate(k)))
		}
		seen[k] = true
		var err error
		switch k {
		case "Credential":
			err = a.setCredential(val)
		case "SignedHeaders":
			err = a.setSignedHeaders(val)
		case "Signature":
			err = a.setSignature(val)
		default:
			err = fail(StageFormat, "unknown Authorization parameter "+strconv.Quote(truncate(k)))
		}
		if err != nil {
			return nil, err
		}
	}
	if !seen["Credential"] || !seen["SignedHeaders"] || !seen["Signature"] {
		return nil, fail(StageFormat, "Authorization needs Credential, SignedHeaders and Signature")
	}
	return a, nil
}

func (a *Auth) setCredential(v string) error {
	parts := strings.Split(v, "/")
	if len(parts) != 5 {
		return fail(StageFormat, "credential must be AKID/date/region/service/aws4_request")
	}
	akid, date, region, service, term := parts[0], parts[1], parts[2], parts[3], parts[4]
	if len(akid) == 0 || len(akid) > 128 || !allBytes(akid, isAlnum) {
		return fail(StageFormat, "malformed access key id in credential scope")
	}
	if _, err := time.Parse("20060102", date); err != nil || len(date) != 8 {
		return fail(StageFormat, "malformed date in credential scope")
	}
	if !isScopeLabel(region) || !isScopeLabel(service) {
		return fail(StageFormat, "malformed region or service in credential scope")
	}
	if term != scopeTerminal {
		return fail(StageFormat, "credential scope must end in aws4_request")
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = akid, date, region, service
	return nil
}

func (a *Auth) setSignedHeaders(v string) error {
	names := strings.Split(v, ";")
	for i, n := range names {
		if n == "" || !allBytes(n, isLowerTokenByte) {
			return fail(StageFormat, "SignedHeaders entries must be lowercase header names")
		}
		if i > 0 && names[i-1] >= n {
			return fail(StageFormat, "SignedHeaders must be sorted and unique")
		}
	}
	if !contains(names, "host") {
		return fail(StageSignature, "host is not a signed header")
	}
	a.SignedHeaders = names
	return nil
}

func (a *Auth) setSignature(v string) error {
	if len(v) != 64 || !allBytes(v, isLowerHex) {
		return fail(StageFormat, "signature must be 64 lowercase hex digits")
	}
	a.Signature, _ = hex.DecodeString(v)
	return nil
}

func (a *Auth) setTimestamp(v string) error {
	t, err := time.Parse(amzDateLayout, v)
	if err != nil || len(v) != len(amzDateLayout) {
		return fail(StageDate, "X-Amz-Date must be YYYYMMDDTHHMMSSZ")
	}
	if v[:8] != a.Date {
		return fail(StageDate, "X-Amz-Date does not match the credential scope date")
	}
	a.Timestamp = t
	return nil
}

// checkSignedPresent requires every signed header to be present (host via
// r.Host) and a Host header, if in Headers, to agree with r.Host.
func checkSignedPresent(r SignedRequest, a *Auth) error {
	if r.Host == "" {
		return fail(StageFormat, "request has no host")
	}
	if hs := headerValues(r.Headers, "Host"); len(hs) > 1 || (len(hs) == 1 && hs[0] != r.Host) {
		return fail(StageFormat, "Host header disagrees with the request host")
	}
	for _, n := range a.SignedHeaders {
		if n != "host" && len(headerValues(r.Headers, n)) == 0 {
			return fail(StageSignature, "signed header "+strconv.Quote(n)+" is missing")
		}
	}
	return nil
}

// Verify recomputes the signature of r under secret and compares it in
// constant time, then checks the clock: header auth needs |now - t| <=
// maxSkew; presigned URLs need t <= now + maxSkew and now <= t + Expires.
// maxSkew <= 0 means DefaultMaxSkew. Scope policy (service, region, key id
// lookup, session token validity) is the caller's job.
func Verify(r SignedRequest, a *Auth, secret string, now time.Time, maxSkew time.Duration) error {
	if a == nil || len(a.Signature) != sha256.Size {
		return fail(StageFormat, "no parsed authorization")
	}
	if secret == "" {
		return fail(StagePolicy, "empty secret")
	}
	want, err := ComputeSignature(r, a, secret)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, a.Signature) {
		return fail(StageSignature, "signature mismatch")
	}
	return checkTime(a, now, maxSkew)
}

func checkTime(a *Auth, now time.Time, maxSkew time.Duration) error {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	if now.IsZero() {
		return fail(StagePolicy, "no current time")
	}
	if a.Timestamp.After(now.Add(maxSkew)) {
		return fail(StageDate, "signature not yet current")
	}
	if a.Presigned {
		if now.After(a.Timestamp.Add(a.Expires)) {
			return fail(StageDate, "presigned URL expired")
		}
		return nil
	}
	if now.Sub(a.Timestamp) > maxSkew {
		return fail(StageDate, "signature expired")
	}
	return nil
}

// ComputeSignature returns HMAC-SHA256(signing key, string to sign) for r
// as described by a (everything except a.Signature is used).
func ComputeSignature(r SignedRequest, a *Auth, secret string) ([]byte, error) {
	sts, err := StringToSign(r, a)
	if err != nil {
		return nil, err
	}
	return hmacSHA256(SigningKey(secret, a.Date, a.Region, a.Service), sts), nil
}

// StringToSign builds the SigV4 string to sign.
func StringToSign(r SignedRequest, a *Auth) (string, error) {
	creq, err := CanonicalRequest(r, a)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(creq))
	return Algorithm + "\n" + a.Timestamp.UTC().Format(amzDateLayout) + "\n" + a.Scope() + "\n" + hex.EncodeToString(h[:]), nil
}

// SigningKey derives kSigning from the secret access key and the scope.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminal)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
