package awsmeta

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ContainerOptions configures NewContainer.
type ContainerOptions struct {
	// Credentials is asked on every request (normally the agent's refreshing
	// cache). Required.
	Credentials aws.CredentialsProvider
	// AuthToken is the expected Authorization header value, or AuthTokenFile a file
	// holding it (re-read when it changes). At most one; with neither, NewContainer
	// refuses unless AllowNoAuth. Tokens must be 1..16384 bytes of printable ASCII
	// with no leading or trailing space and no CR/LF (no trailing newline).
	AuthToken     string
	AuthTokenFile string
	AllowNoAuth   bool
	// RoleARN, when set, is returned as "RoleArn" (informational; SDKs ignore it).
	RoleARN string
	// Now defaults to time.Now; Logger to discarding.
	Now    func() time.Time
	Logger *slog.Logger
}

// containerJSON is the container credential document.
type containerJSON struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string
	AccountID       string `json:"AccountId,omitempty"`
	RoleARN         string `json:"RoleArn,omitempty"`
}

// containerError is the only error shape aws-sdk-go-v2 decodes (and only with a
// Content-Type of exactly application/json).
type containerError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var roleARNRE = regexp.MustCompile(`^arn:[a-z-]+:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

// tokenSource yields the SHA-256 digest of the expected Authorization value.
type tokenSource interface {
	digest() ([sha256.Size]byte, error)
}

type staticToken [sha256.Size]byte

func (s staticToken) digest() ([sha256.Size]byte, error) { return s, nil }

type containerHandler struct {
	creds   aws.CredentialsProvider
	auth    tokenSource // nil: no authentication
	roleARN string
	now     func() time.Time
	log     *slog.Logger
}

// NewContainer returns a container credentials endpoint handler (the target of
// AWS_CONTAINER_CREDENTIALS_FULL_URI); every path is served.
func NewContainer(opts ContainerOptions) (http.Handler, error) {
	if opts.Credentials == nil {
		return nil, &OptionsError{Field: "Credentials", Reason: "required"}
	}
	if opts.RoleARN != "" && !roleARNRE.MatchString(opts.RoleARN) {
		return nil, &OptionsError{Field: "RoleARN", Reason: "not an IAM role ARN"}
	}
	h := &containerHandler{creds: opts.Credentials, roleARN: opts.RoleARN, now: opts.Now, log: opts.Logger}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.AuthToken != "" && opts.AuthTokenFile != "":
		return nil, &OptionsError{Field: "AuthToken", Reason: "AuthToken and AuthTokenFile are exclusive"}
	case opts.AuthToken != "":
		if err := checkAuthToken([]byte(opts.AuthToken)); err != nil {
			return nil, &OptionsError{Field: "AuthToken", Reason: "unusable value", Err: err}
		}
		h.auth = staticToken(sha256.Sum256([]byte(opts.AuthToken)))
	case opts.AuthTokenFile != "":
		f := &fileToken{path: opts.AuthTokenFile, log: h.log}
		if _, err := f.digest(); err != nil {
			return nil, &OptionsError{Field: "AuthTokenFile", Reason: "unusable file", Err: err}
		}
		h.auth = f
	case !opts.AllowNoAuth:
		return nil, &OptionsError{Field: "AuthToken", Reason: "an AuthToken or AuthTokenFile is required unless AllowNoAuth"}
	}
	return h, nil
}

func (h *containerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if forwarded(r) {
		h.fail(w, r, http.StatusForbidden, "AccessDenied", "forwarded requests are not accepted", nil)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		h.fail(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET is supported", nil)
		return
	}
	if h.auth != nil {
		vals := r.Header.Values("Authorization")
		if len(vals) != 1 || vals[0] == "" {
			h.fail(w, r, http.StatusUnauthorized, "Unauthorized", "missing authorization token", nil)
			return
		}
		want, err := h.auth.digest()
		if err != nil {
			h.fail(w, r, http.StatusInternalServerError, "InternalError", "authorization token unavailable", err)
			return
		}
		got := sha256.Sum256([]byte(vals[0]))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			h.fail(w, r, http.StatusForbidden, "AccessDenied", "invalid authorization token", nil)
			return
		}
	}
	c, err := fetchCredentials(r.Context(), h.creds, h.now())
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "InternalError", "credentials unavailable", err)
		return
	}
	h.log.DebugContext(r.Context(), "container: served credentials", "remote", r.RemoteAddr, "expiration", c.expiration)
	writeBody(w, http.StatusOK, "application/json", marshalJSON(containerJSON{
		AccessKeyID:     c.accessKeyID,
		SecretAccessKey: c.secretAccessKey,
		Token:           c.sessionToken,
		Expiration:      c.expiration.Format(expirationLayout),
		AccountID:       c.accountID,
		RoleARN:         h.roleARN,
	}, false))
}

// fail writes an error in the shape the SDKs decode; cause goes to the log only.
func (h *containerHandler) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string, cause error) {
	attrs := []any{"status", status, "code", code, "method", r.Method, "path", logPath(r.URL.Path), "remote", r.RemoteAddr}
	if cause != nil {
		h.log.ErrorContext(r.Context(), "container: request failed", append(attrs, "error", cause)...)
	} else {
		h.log.InfoContext(r.Context(), "container: request refused", attrs...)
	}
	writeBody(w, status, "application/json", marshalJSON(containerError{Code: code, Message: msg}, false))
}
