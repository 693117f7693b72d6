package aws

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIVersion is the only STS API version; Namespace is its XML namespace.
const (
	APIVersion = "2011-06-15"
	Namespace  = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Action names handled by keyless.
const (
	ActionAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
	ActionGetCallerIdentity         = "GetCallerIdentity"
)

// maxParams bounds the number of parameters in one request. ARWWI with ten
// policy ARNs plus a presigned signature needs about 25.
const maxParams = 100

// Error codes used by STS (reference §1.4, §1.5) and the AWS query common errors.
const (
	CodeInvalidIdentityToken       = "InvalidIdentityToken"
	CodeExpiredTokenException      = "ExpiredTokenException"
	CodeIDPRejectedClaim           = "IDPRejectedClaim"
	CodeIDPCommunicationError      = "IDPCommunicationError"
	CodeAccessDenied               = "AccessDenied"
	CodeValidationError            = "ValidationError"
	CodeInvalidParameterValue      = "InvalidParameterValue"
	CodeMalformedPolicyDocument    = "MalformedPolicyDocument"
	CodePackedPolicyTooLarge       = "PackedPolicyTooLarge"
	CodeRegionDisabledException    = "RegionDisabledException"
	CodeInvalidAction              = "InvalidAction"
	CodeInvalidClientTokenID       = "InvalidClientTokenId"
	CodeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
	CodeExpiredToken               = "ExpiredToken"
	CodeIncompleteSignature        = "IncompleteSignature"
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	CodeMissingAction              = "MissingAction"
	CodeMissingParameter           = "MissingParameter"
	CodeInvalidQueryParameter      = "InvalidQueryParameter"
	CodeMalformedQueryString       = "MalformedQueryString"
	CodeRequestExpired             = "RequestExpired"
	CodeThrottling                 = "Throttling"
	CodeInternalFailure            = "InternalFailure"
	CodeServiceUnavailable         = "ServiceUnavailable"
	// CodeMethodNotAllowed is not an AWS code; STS answers other methods with
	// an HTML 405 page. It is only used for methods other than GET and POST.
	CodeMethodNotAllowed = "MethodNotAllowed"
)

// Error is an STS error as it goes on the wire. Message is public: it is sent
// to unauthenticated callers and must not contain secrets or internal detail.
type Error struct {
	Code    string
	Message string
	Status  int  // HTTP status; 0 means 400 for Sender faults and 500 otherwise
	Sender  bool // <Type>Sender</Type> when true, Receiver otherwise
}

func (e Error) Error() string { return "aws sts " + e.Code + ": " + e.Message }

// Is reports whether target is an Error with the same Code, so callers can test
// errors.Is(err, aws.Error{Code: aws.CodeValidationError}).
func (e Error) Is(target error) bool {
	t, ok := target.(Error)
	return ok && t.Code == e.Code
}

// HTTPStatus returns the status to send, applying the defaults of Status.
func (e Error) HTTPStatus() int {
	switch {
	case e.Status != 0:
		return e.Status
	case e.Sender:
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// NewError builds an Error with the HTTP status and fault type STS uses for
// code. Unknown codes are treated as server faults (500, Receiver).
func NewError(code, message string) Error {
	status, sender := codeStatus(code)
	return Error{Code: code, Message: message, Status: status, Sender: sender}
}

func codeStatus(code string) (int, bool) {
	switch code {
	case CodeInvalidIdentityToken, CodeExpiredTokenException, CodeIDPCommunicationError,
		CodeValidationError, CodeInvalidParameterValue, CodeMalformedPolicyDocument,
		CodePackedPolicyTooLarge, CodeInvalidAction, CodeIncompleteSignature,
		CodeMissingAction, CodeMissingParameter, CodeInvalidQueryParameter,
		CodeRequestExpired, CodeThrottling:
		return http.StatusBadRequest, true
	case CodeIDPRejectedClaim, CodeAccessDenied, CodeRegionDisabledException,
		CodeInvalidClientTokenID, CodeSignatureDoesNotMatch, CodeExpiredToken,
		CodeMissingAuthenticationToken:
		return http.StatusForbidden, true
	case CodeMalformedQueryString:
		return http.StatusNotFound, true // sic: AWS common errors table
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed, true
	case CodeServiceUnavailable:
		return http.StatusServiceUnavailable, false
	default:
		return http.StatusInternalServerError, false
	}
}

// Request is a decoded STS query request. Params holds every parameter other
// than Action and Version, exactly one value per name.
type Request struct {
	Action, Version string
	Params          map[string]string
}

// ParseQuery decodes an STS query request. POST takes parameters from the form
// body (Content-Type application/x-www-form-urlencoded, optional charset=utf-8)
// and from the query string; GET only from the query string and must have no
// body. A name that occurs more than once is refused, as are empty names,
// invalid UTF-8 and more than 100 parameters. Action and Version are required
// and Version must be 2011-06-15. The caller bounds the body size.
func ParseQuery(method, contentType string, rawQuery string, body []byte) (Request, error) {
	var sources []string
	switch method {
	case http.MethodGet:
		if len(body) != 0 {
			return Request{}, NewError(CodeInvalidQueryParameter, "A GET request must not have a body.")
		}
	case http.MethodPost:
		if len(body) != 0 || contentType != "" {
			if err := checkFormContentType(contentType); err != nil {
				return Request{}, err
			}
		}
		sources = append(sources, string(body))
	default:
		return Request{}, NewError(CodeMethodNotAllowed, "Only GET and POST are supported.")
	}
	sources = append(sources, rawQuery)

	params := map[string]string{}
	for _, src := range sources {
		if err := parseInto(params, src); err != nil {
			return Request{}, err
		}
	}
	req := Request{Action: params["Action"], Version: params["Version"], Params: params}
	_, hasAction := params["Action"]
	_, hasVersion := params["Version"]
	delete(params, "Action")
	delete(params, "Version")
	switch {
	case !hasAction || req.Action == "":
		return Request{}, NewError(CodeMissingAction, "The request must contain the parameter Action.")
	case !validAction(req.Action):
		return Request{}, NewError(CodeInvalidAction, "The action or operation requested is invalid. Verify that the action is typed correctly.")
	case !hasVersion || req.Version == "":
		return Request{}, NewError(CodeMissingParameter, "The request must contain the parameter Version.")
	case req.Version != APIVersion:
		// Echo only a sanitized version string.
		v := req.Version
		if len(v) > 32 || !isPrintableASCII(v) {
			v = "(invalid)"
		}
		return Request{}, NewError(CodeInvalidAction, fmt.Sprintf("Could not find operation %s for version %s", req.Action, v))
	}
	return req, nil
}

// UnknownActionError is the InvalidAction error for a well-formed request whose
// action keyless does not implement.
func UnknownActionError(r Request) Error {
	return NewError(CodeInvalidAction, fmt.Sprintf("Could not find operation %s for version %s", r.Action, r.Version))
}

func checkFormContentType(ct string) error {
	mt, ps, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return NewError(CodeInvalidQueryParameter, "The request body must be sent as application/x-www-form-urlencoded.")
	}
	for k, v := range ps {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return NewError(CodeInvalidQueryParameter, "The request body must be sent as application/x-www-form-urlencoded with charset utf-8.")
		}
	}
	return nil
}

// parseInto decodes one form-encoded string into dst ('+' is a space, as in
// every form encoder the SDKs use). Go's url.ParseQuery is not used because it
// silently merges repeats; repeats are refused here.
func parseInto(dst map[string]string, s string) error {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		if strings.Contains(pair, ";") {
			return NewError(CodeMalformedQueryString, "The query string contains a syntax error.")
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(rawKey)
		val, err2 := url.QueryUnescape(rawVal)
		if err1 != nil || err2 != nil || !utf8.ValidString(key) || !utf8.ValidString(val) {
			return NewError(CodeMalformedQueryString, "The query string contains a syntax error.")
		}
		if key == "" {
			return NewError(CodeMalformedQueryString, "The query string contains a parameter without a name.")
		}
		if _, dup := dst[key]; dup {
			return NewError(CodeInvalidQueryParameter, fmt.Sprintf("The parameter %s is given more than once.", safeName(key)))
		}
		if len(dst) >= maxParams {
			return NewError(CodeInvalidQueryParameter, "The request has too many parameters.")
		}
		dst[key] = val
	}
	return nil
}

func validAction(a string) bool {
	if len(a) > 64 {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// safeName returns a parameter name fit to echo in a message.
func safeName(k string) string {
	if len(k) > 64 || !isPrintableASCII(k) {
		return "(invalid name)"
	}
	return k
}

// AssumeRoleWithWebIdentityParams are the decoded ARWWI parameters.
// DurationSeconds is 0 when the caller did not send it (the role default applies).
type AssumeRoleWithWebIdentityParams struct {
	RoleArn, RoleSessionName, WebIdentityToken, ProviderId, Policy string
	PolicyArns                                                     []string
	DurationSeconds                                                int
}

// Constraints of the STS service model for ARWWI.
const (
	MinDurationSeconds = 900
	MaxDurationSeconds = 43200
	maxPolicyArns      = 10
)

var (
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]*$`)
	roleNameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	accountRE     = regexp.MustCompile(`^[0-9]{12}$`)
	policyArnRE   = regexp.MustCompile(`^PolicyArns\.member\.([1-9][0-9]?)\.arn$`)
)

// violations collects model-constraint failures in the order STS reports them.
type violations []string

func (v *violations) add(value string, redact bool, member, constraint string) {
	if redact {
		*v = append(*v, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", member, constraint))
		return
	}
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

func (v *violations) null(member string) {
	*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

// length checks min..max characters.
func (v *violations) length(value string, redact bool, member string, minLen, maxLen int) bool {
	n := utf8.RuneCountInString(value)
	switch {
	case n < minLen:
		v.add(value, redact, member, fmt.Sprintf("Member must have length greater than or equal to %d", minLen))
	case n > maxLen:
		v.add(value, redact, member, fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	default:
		return true
	}
	return false
}

func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return NewError(CodeValidationError, "1 validation error detected: "+v[0])
	default:
		return NewError(CodeValidationError, fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; ")))
	}
}

// ParseAssumeRoleWithWebIdentity decodes and validates an ARWWI request with the
// STS model constraints. All constraint violations are reported together as one
// ValidationError; a RoleArn that satisfies the constraints but is not an IAM
// role ARN ("arn:aws:iam::<12 digits>:role/<path/>name") fails afterwards.
func ParseAssumeRoleWithWebIdentity(r Request) (AssumeRoleWithWebIdentityParams, error) {
	if r.Action != ActionAssumeRoleWithWebIdentity {
		return AssumeRoleWithWebIdentityParams{}, UnknownActionError(r)
	}
	var p AssumeRoleWithWebIdentityParams
	var v violations
	get := func(k string) (string, bool) { s, ok := r.Params[k]; return s, ok }

	if s, ok := get("RoleArn"); !ok {
		v.null("roleArn")
	} else if v.length(s, false, "roleArn", 20, 2048) {
		p.RoleArn = s
	}
	if s, ok := get("RoleSessionName"); !ok {
		v.null("roleSessionName")
	} else if v.length(s, false, "roleSessionName", 2, 64) {
		if sessionNameRE.MatchString(s) {
			p.RoleSessionName = s
		} else {
			v.add(s, false, "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
		}
	}
	if s, ok := get("WebIdentityToken"); !ok {
		v.null("webIdentityToken")
	} else if v.length(s, true, "webIdentityToken", 4, 20000) {
		p.WebIdentityToken = s
	}
	if s, ok := get("ProviderId"); ok && v.length(s, false, "providerId", 4, 2048) {
		p.ProviderId = s
	}
	p.PolicyArns = parsePolicyArns(r.Params, &v)
	if s, ok := get("Policy"); ok && v.length(s, false, "policy", 1, 2048) {
		if policyChars(s) {
			p.Policy = s
		} else {
			v.add(s, false, "policy", `Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	if s, ok := get("DurationSeconds"); ok {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || s[0] == '+':
			v.add(s, false, "durationSeconds", "Member must be an integer")
		case n < MinDurationSeconds:
			v.add(s, false, "durationSeconds", fmt.Sprintf("Member must have value greater than or equal to %d", MinDurationSeconds))
		case n > MaxDurationSeconds:
			v.add(s, false, "durationSeconds", fmt.Sprintf("Member must have value less than or equal to %d", MaxDurationSeconds))
		default:
			p.DurationSeconds = n
		}
	}
	if err := v.err(); err != nil {
		return AssumeRoleWithWebIdentityParams{}, err
	}
	if _, _, _, err := ParseRoleArn(p.RoleArn); err != nil {
		return AssumeRoleWithWebIdentityParams{}, err
	}
	return p, nil
}

// parsePolicyArns decodes PolicyArns.member.N.arn (N = 1..10, contiguous). A
// bare "PolicyArns=" is botocore's encoding of an empty list.
func parsePolicyArns(params map[string]string, v *violations) []string {
	byIndex := map[int]string{}
	for k, val := range params {
		if !strings.HasPrefix(k, "PolicyArns") {
			continue
		}
		if k == "PolicyArns" {
			if val != "" {
				v.add(val, false, "policyArns", "Member must be a list")
			}
			continue
		}
		m := policyArnRE.FindStringSubmatch(k)
		if m == nil {
			v.add(val, false, "policyArns", "Member must be encoded as PolicyArns.member.N.arn with N from 1 to 10")
			continue
		}
		n, _ := strconv.Atoi(m[1])
		byIndex[n] = val
	}
	if len(byIndex) == 0 {
		return nil
	}
	if len(byIndex) > maxPolicyArns {
		v.add(fmt.Sprintf("%d members", len(byIndex)), false, "policyArns", fmt.Sprintf("Member must have length less than or equal to %d", maxPolicyArns))
		return nil
	}
	out := make([]string, 0, len(byIndex))
	for i := 1; i <= len(byIndex); i++ {
		arn, ok := byIndex[i]
		if !ok {
			v.add(fmt.Sprintf("PolicyArns.member.%d.arn", i), false, "policyArns", "Member indexes must be contiguous from 1")
			return nil
		}
		member := fmt.Sprintf("policyArns.%d.member.arn", i)
		if !v.length(arn, false, member, 20, 2048) {
			continue
		}
		if !isPolicyArn(arn) {
			v.add(arn, false, member, "Member must be an IAM policy ARN")
			continue
		}
		out = append(out, arn)
	}
	return out
}

func isPolicyArn(s string) bool {
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return false
	}
	acct, res, ok := strings.Cut(rest, ":")
	if !ok || (acct != "aws" && !accountRE.MatchString(acct)) {
		return false
	}
	name, ok := strings.CutPrefix(res, "policy/")
	return ok && name != "" && !strings.HasSuffix(name, "/") && isPrintableASCII(name)
}

func policyChars(s string) bool {
	for _, r := range s {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xff) {
			return false
		}
	}
	return true
}

// ParseRoleArn splits "arn:aws:iam::ACCOUNT:role/PATH/NAME" into its account,
// path ("/" when absent, otherwise "/…/") and role name. It follows the IAM
// rules: 12-digit account, path of printable ASCII up to 512 characters, name
// 1..64 of [\w+=,.@-]. Failures are ValidationError "Request ARN is invalid".
func ParseRoleArn(arn string) (account, path, name string, err error) {
	bad := NewError(CodeValidationError, "Request ARN is invalid")
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", "", "", bad
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok || !accountRE.MatchString(account) {
		return "", "", "", bad
	}
	res, ok = strings.CutPrefix(res, "role/")
	if !ok {
		return "", "", "", bad
	}
	i := strings.LastIndexByte(res, '/')
	path, name = "/", res
	if i >= 0 {
		path, name = "/"+res[:i+1], res[i+1:]
	}
	if !roleNameRE.MatchString(name) || len(path) > 512 || !isPrintableASCII(path) || strings.Contains(path, "//") {
		return "", "", "", bad
	}
	return account, path, name, nil
}

// Credentials are temporary AWS credentials.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// AssumeRoleWithWebIdentityResult is the ARWWI result. SourceIdentity and
// PackedPolicySize are written only when set.
type AssumeRoleWithWebIdentityResult struct {
	Credentials                                                                         Credentials
	SubjectFromWebIdentityToken, Audience, Provider, AssumedRoleID, Arn, SourceIdentity string
	PackedPolicySize                                                                    *int
}

// CallerIdentity is the GetCallerIdentity result. Account is a string: leading
// zeros are significant.
type CallerIdentity struct {
	UserID, Account, Arn string
}

// ExpirationLayout is how Expiration is written: UTC, whole seconds.
const ExpirationLayout = "2006-01-02T15:04:05Z"

// FormatExpiration renders t in UTC truncated to the second, as STS does.
func FormatExpiration(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(ExpirationLayout)
}

// ParseExpiration parses an Expiration the way the SDKs do: RFC 3339 with
// optional fractional seconds.
func ParseExpiration(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("aws: invalid Expiration %q: %w", s, err)
	}
	return t.UTC(), nil
}

// WriteAssumeRoleWithWebIdentity writes the 200 ARWWI response. A result that
// SDKs would misread (a credential part, Expiration or Arn missing) is not
// sent; an InternalFailure is written instead. Element order follows the AWS
// API reference examples; the SDK parsers do not depend on it.
func WriteAssumeRoleWithWebIdentity(w http.ResponseWriter, res AssumeRoleWithWebIdentityResult, requestID string) {
	c := res.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" || c.Expiration.IsZero() || res.Arn == "" {
		WriteError(w, NewError(CodeInternalFailure, internalFailureMsg), requestID)
		return
	}
	writeXML(w, http.StatusOK, appendARWWI(make([]byte, 0, arwwiSize(res, requestID)), res, requestID), requestID)
}

// WriteGetCallerIdentity writes the 200 GetCallerIdentity response. An identity
// with an empty field is not sent; an InternalFailure is written instead.
func WriteGetCallerIdentity(w http.ResponseWriter, id CallerIdentity, requestID string) {
	if id.UserID == "" || id.Account == "" || id.Arn == "" {
		WriteError(w, NewError(CodeInternalFailure, internalFailureMsg), requestID)
		return
	}
	writeXML(w, http.StatusOK, appendGCI(make([]byte, 0, gciSize(id, requestID)), id, requestID), requestID)
}

// WriteError writes e as an STS ErrorResponse with its HTTP status.
func WriteError(w http.ResponseWriter, e Error, requestID string) {
	writeXML(w, e.HTTPStatus(), appendErrorDoc(make([]byte, 0, errorSize(e, requestID)), e, requestID), requestID)
}

func writeXML(w http.ResponseWriter, status int, body []byte, requestID string) {
	// One backing array for the four values (cap 1 each, so a later Add
	// reallocates instead of writing into a neighbour). The keys are set
	// verbatim: the first three are canonical already, and AWS spells the
	// last this way (net/http would canonicalize it to X-Amzn-Requestid;
	// header names are case-insensitive).
	v := [...]string{"text/xml", strconv.Itoa(len(body)), "no-store", requestID}
	vals := v[:]
	h := w.Header()
	h["Content-Type"] = vals[0:1:1]
	h["Content-Length"] = vals[1:2:2]
	h["Cache-Control"] = vals[2:3:3]
	h["x-amzn-RequestId"] = vals[3:4:4]
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
