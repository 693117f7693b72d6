package awsmeta

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// IMDSOptions configures NewIMDS.
type IMDSOptions struct {
	// RoleName is what /latest/meta-data/iam/security-credentials/ lists; an IAM
	// role name ([\w+=,.@-]{1,64}). Required.
	RoleName string
	// Credentials is asked on every credential request (normally the agent's
	// refreshing cache). Required.
	Credentials aws.CredentialsProvider
	// Region and AvailabilityZone are served under /latest/meta-data/placement/.
	// AvailabilityZone defaults to Region+"a" and must start with Region (clients
	// derive the region by dropping its last character). Both empty: 404.
	Region, AvailabilityZone string
	// InstanceID is served at /latest/meta-data/instance-id when set.
	InstanceID string
	// Now defaults to time.Now; Rand (session token key) to crypto/rand.Reader.
	Now  func() time.Time
	Rand io.Reader
	// MaxTokenTTL caps session token lifetimes: 1s..6h in whole seconds, default 6h
	// (EC2's maximum). Longer requests inside EC2's 1..21600 range are granted
	// MaxTokenTTL and the granted value is echoed.
	MaxTokenTTL time.Duration
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// IMDS protocol constants.
const (
	imdsTokenPath      = "/latest/api/token"
	imdsTTLHeader      = "X-aws-ec2-metadata-token-ttl-seconds"
	imdsTokenHeader    = "X-aws-ec2-metadata-token"
	imdsCredsPrefix    = "/latest/meta-data/iam/security-credentials/"
	imdsIdentityDoc    = "/latest/dynamic/instance-identity/document"
	imdsMaxTTLSeconds  = 21600
	imdsContentType    = "text/plain"
	identityDocVersion = "2017-09-30"
)

var (
	roleNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	regionRE     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	instanceIDRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

type imdsHandler struct {
	role   string
	creds  aws.CredentialsProvider
	static map[string][]byte // token-protected GET paths with fixed answers
	tokens tokenMinter
	now    func() time.Time
	log    *slog.Logger
}

// NewIMDS returns an IMDSv2-only instance metadata handler serving one role's
// credentials and the instance placement.
func NewIMDS(opts IMDSOptions) (http.Handler, error) {
	if !roleNameRE.MatchString(opts.RoleName) {
		return nil, &OptionsError{Field: "RoleName", Reason: `must match [\w+=,.@-]{1,64}`}
	}
	if opts.Credentials == nil {
		return nil, &OptionsError{Field: "Credentials", Reason: "required"}
	}
	az := opts.AvailabilityZone
	if opts.Region != "" {
		if len(opts.Region) > 64 || !regionRE.MatchString(opts.Region) {
			return nil, &OptionsError{Field: "Region", Reason: "not a region name"}
		}
		if az == "" {
			az = opts.Region + "a"
		}
		if len(az) > 64 || !regionRE.MatchString(az) || len(az) <= len(opts.Region) || !strings.HasPrefix(az, opts.Region) {
			return nil, &OptionsError{Field: "AvailabilityZone", Reason: "must be the region name followed by a zone suffix"}
		}
	} else if az != "" {
		return nil, &OptionsError{Field: "AvailabilityZone", Reason: "set without Region"}
	}
	if opts.InstanceID != "" && !instanceIDRE.MatchString(opts.InstanceID) {
		return nil, &OptionsError{Field: "InstanceID", Reason: "must match [A-Za-z0-9-]{1,64}"}
	}
	maxTTL := opts.MaxTokenTTL
	if maxTTL == 0 {
		maxTTL = imdsMaxTTLSeconds * time.Second
	}
	if maxTTL < time.Second || maxTTL > imdsMaxTTLSeconds*time.Second || maxTTL%time.Second != 0 {
		return nil, &OptionsError{Field: "MaxTokenTTL", Reason: "must be whole seconds in 1s..6h"}
	}
	h := &imdsHandler{
		role:   opts.RoleName,
		creds:  opts.Credentials,
		static: map[string][]byte{},
		now:    opts.Now,
		log:    opts.Logger,
	}
	h.tokens.maxTTL = maxTTL
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, h.tokens.key[:]); err != nil {
		return nil, &OptionsError{Field: "Rand", Reason: "cannot draw the session token key", Err: err}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}

	// The role list, with and without the trailing slash (google externalaccount
	// asks without it). No trailing newline: aws-sdk-go-v2 reads lines.
	h.static[strings.TrimSuffix(imdsCredsPrefix, "/")] = []byte(opts.RoleName)
	h.static[imdsCredsPrefix] = []byte(opts.RoleName)
	addBoth := func(p, v string) {
		h.static[p] = []byte(v)
		h.static[p+"/"] = []byte(v)
	}
	if opts.Region != "" {
		addBoth("/latest/meta-data/placement/region", opts.Region)
		// botocore asks with the trailing slash, google externalaccount without.
		addBoth("/latest/meta-data/placement/availability-zone", az)
	}
	if opts.InstanceID != "" {
		addBoth("/latest/meta-data/instance-id", opts.InstanceID)
	}
	if opts.Region != "" || opts.InstanceID != "" {
		// Read by aws-sdk-go-v2 with config.WithEC2IMDSRegion.
		h.static[imdsIdentityDoc] = marshalJSON(identityDocument{
			AvailabilityZone: az,
			InstanceID:       opts.InstanceID,
			Region:           opts.Region,
			Version:          identityDocVersion,
		}, true)
	}
	return h, nil
}

// identityDocument is the subset of EC2's instance identity document we know.
type identityDocument struct {
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	InstanceID       string `json:"instanceId,omitempty"`
	Region           string `json:"region,omitempty"`
	Version          string `json:"version"`
}

// imdsCredentials is EC2's credential document; field order as EC2 writes it.
type imdsCredentials struct {
	Code            string
	LastUpdated     string
	Type            string
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string
}

func (h *imdsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if forwarded(r) {
		h.refuse(w, r, http.StatusForbidden, "forwarded request")
		return
	}
	if r.URL.Path == imdsTokenPath {
		h.serveToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		h.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	// IMDSv2 only: authenticate before looking at the path.
	vals := r.Header.Values(imdsTokenHeader)
	if len(vals) != 1 {
		h.refuse(w, r, http.StatusUnauthorized, "missing session token")
		return
	}
	if err := h.tokens.check(vals[0], h.now()); err != nil {
		h.refuse(w, r, http.StatusUnauthorized, err.Error())
		return
	}
	if body, ok := h.static[r.URL.Path]; ok {
		writeBody(w, http.StatusOK, imdsContentType, body)
		return
	}
	if r.URL.Path == imdsCredsPrefix+h.role {
		h.serveCredentials(w, r)
		return
	}
	h.refuse(w, r, http.StatusNotFound, "no such path")
}

func (h *imdsHandler) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		h.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	vals := r.Header.Values(imdsTTLHeader)
	if len(vals) != 1 {
		h.refuse(w, r, http.StatusBadRequest, "missing or repeated TTL header")
		return
	}
	secs, ok := parseTTL(vals[0])
	if !ok {
		h.refuse(w, r, http.StatusBadRequest, "invalid TTL")
		return
	}
	ttl := min(time.Duration(secs)*time.Second, h.tokens.maxTTL)
	tok := h.tokens.mint(h.now(), ttl)
	// EC2's spelling; aws-sdk-go-v2 cannot use a token without this header.
	w.Header()[imdsTTLHeader] = []string{strconv.Itoa(int(ttl / time.Second))}
	writeBody(w, http.StatusOK, imdsContentType, []byte(tok))
}

// parseTTL accepts 1..21600 written as plain decimal digits.
func parseTTL(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 1 && n <= imdsMaxTTLSeconds
}

func (h *imdsHandler) serveCredentials(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	c, err := fetchCredentials(r.Context(), h.creds, now)
	if err != nil {
		h.log.ErrorContext(r.Context(), "imds: cannot serve credentials", "error", err, "remote", r.RemoteAddr)
		writeBody(w, http.StatusInternalServerError, imdsContentType, []byte(http.StatusText(http.StatusInternalServerError)))
		return
	}
	body := marshalJSON(imdsCredentials{
		Code:            "Success",
		LastUpdated:     now.UTC().Format(expirationLayout),
		Type:            "AWS-HMAC",
		AccessKeyID:     c.accessKeyID,
		SecretAccessKey: c.secretAccessKey,
		Token:           c.sessionToken,
		Expiration:      c.expiration.Format(expirationLayout),
	}, true)
	h.log.DebugContext(r.Context(), "imds: served credentials", "role", h.role, "remote", r.RemoteAddr,
		"expiration", c.expiration)
	writeBody(w, http.StatusOK, imdsContentType, body)
}

func (h *imdsHandler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.log.InfoContext(r.Context(), "imds: request refused", "status", status, "reason", reason,
		"method", r.Method, "path", logPath(r.URL.Path), "remote", r.RemoteAddr)
	writeBody(w, status, imdsContentType, []byte(http.StatusText(status)))
}
