package gcemeta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// DefaultScope is what /scopes answers for an account configured without scopes.
const DefaultScope = "https://www.googleapis.com/auth/cloud-platform"

// Tokens is what the agent's cache provides for one service account.
// Implementations must be safe for concurrent use, and their errors must not
// contain token material: the handler logs them.
type Tokens interface {
	// AccessToken returns an OAuth access token for scopes (never empty: the
	// account's configured scopes when the caller asked for none) and its expiry.
	AccessToken(ctx context.Context, scopes []string) (token string, expiry time.Time, err error)
	// IDToken returns a signed JWT for audience. format is "standard" or "full";
	// includeLicenses is only ever true with "full".
	IDToken(ctx context.Context, audience string, format string, includeLicenses bool) (string, error)
}

// Account is one service account served by the metadata server.
type Account struct {
	Email  string
	Scopes []string // what /scopes answers; default [DefaultScope]
	Tokens Tokens
}

// Options configures [NewHandler].
type Options struct {
	// ProjectID and NumericProjectID answer project/project-id and
	// project/numeric-project-id; each is 404 when empty. gcloud treats the
	// server as present only when numeric-project-id is all digits.
	ProjectID, NumericProjectID string
	// Accounts[0] is "default"; every account is also reachable by its email.
	Accounts []Account
	// Zone answers instance/zone (read by gcloud and Go's metadata.Zone), in
	// the server's form "projects/NUM/zones/ZONE"; 404 when empty.
	Zone string
	// Hostname and InstanceID answer instance/hostname and instance/id (read
	// by Go's metadata.Hostname and InstanceID); 404 when empty.
	Hostname, InstanceID string
	Now                  func() time.Time // default time.Now
	Logger               *slog.Logger     // default discards
}

var (
	// ErrInvalidOptions is wrapped by every error [NewHandler] returns.
	ErrInvalidOptions = errors.New("gcemeta: invalid options")
	// ErrPermissionDenied may be wrapped by a [Tokens] error to make the
	// handler answer 403 instead of 500, so that SDKs fail at once rather
	// than retry a request that cannot succeed.
	ErrPermissionDenied = errors.New("gcemeta: permission denied")
)

// Limits on configured and requested values.
const (
	maxValueLen    = 1024
	maxScopes      = 64
	maxAudienceLen = 2048
	maxURLLen      = 8192
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
}

// validate checks opts and returns a normalized copy that shares no mutable
// state with the caller.
func (opts Options) validate() (Options, error) {
	out := opts
	if opts.ProjectID != "" && !isToken(opts.ProjectID) {
		return out, invalid("ProjectID %q: want printable characters without spaces or slashes", opts.ProjectID)
	}
	if opts.NumericProjectID != "" && !isDigits(opts.NumericProjectID) {
		return out, invalid("NumericProjectID %q: want decimal digits", opts.NumericProjectID)
	}
	if opts.InstanceID != "" && !isDigits(opts.InstanceID) {
		return out, invalid("InstanceID %q: want decimal digits", opts.InstanceID)
	}
	if opts.Hostname != "" && !isToken(opts.Hostname) {
		return out, invalid("Hostname %q: want printable characters without spaces or slashes", opts.Hostname)
	}
	if opts.Zone != "" {
		if err := validateZone(opts.Zone); err != nil {
			return out, err
		}
	}
	if len(opts.Accounts) == 0 {
		return out, invalid("Accounts: at least one service account is required (Accounts[0] is the default)")
	}
	out.Accounts = make([]Account, len(opts.Accounts))
	seen := make(map[string]int, len(opts.Accounts))
	for i, a := range opts.Accounts {
		if err := validateEmail(a.Email); err != nil {
			return out, invalid("Accounts[%d]: %v", i, err)
		}
		key := strings.ToLower(a.Email)
		if j, dup := seen[key]; dup {
			return out, invalid("Accounts[%d]: email %q repeats Accounts[%d]", i, a.Email, j)
		}
		seen[key] = i
		if a.Tokens == nil {
			return out, invalid("Accounts[%d] %q: Tokens is nil", i, a.Email)
		}
		scopes := slices.Clone(a.Scopes)
		if len(scopes) == 0 {
			scopes = []string{DefaultScope}
		}
		if len(scopes) > maxScopes {
			return out, invalid("Accounts[%d] %q: %d scopes, at most %d", i, a.Email, len(scopes), maxScopes)
		}
		for _, s := range scopes {
			if !isScope(s) {
				return out, invalid("Accounts[%d] %q: scope %q: want printable characters without spaces or commas", i, a.Email, s)
			}
		}
		out.Accounts[i] = Account{Email: a.Email, Scopes: scopes, Tokens: a.Tokens}
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}

func validateZone(z string) error {
	rest, ok := strings.CutPrefix(z, "projects/")
	if !ok {
		return invalid("Zone %q: want projects/NUM/zones/ZONE", z)
	}
	num, zone, ok := strings.Cut(rest, "/zones/")
	if !ok || !isDigits(num) || zone == "" || !isToken(zone) {
		return invalid("Zone %q: want projects/NUM/zones/ZONE", z)
	}
	return nil
}

func validateEmail(e string) error {
	local, domain, ok := strings.Cut(e, "@")
	switch {
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@"):
		return fmt.Errorf("email %q: want NAME@DOMAIN", e)
	case !isToken(e):
		return fmt.Errorf("email %q: want printable characters without spaces or slashes", e)
	case strings.ContainsAny(e, "?#%&"):
		return fmt.Errorf("email %q: contains a URL delimiter", e)
	}
	return nil
}

// isToken reports whether s is a non-empty, bounded run of printable ASCII
// without spaces or slashes: safe in a path segment, a listing line and a log.
func isToken(s string) bool {
	if s == "" || len(s) > maxValueLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '/' {
			return false
		}
	}
	return true
}

func isScope(s string) bool {
	if s == "" || len(s) > maxValueLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
