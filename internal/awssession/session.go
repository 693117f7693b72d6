package awssession

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits enforced by Issue (AWS limits where AWS has one).
const (
	// MaxDuration is the longest session Issue accepts (AWS: 43200 s).
	MaxDuration = 12 * time.Hour
	// MaxTags is the most session tags (AWS: 50).
	MaxTags = 50
	// MaxTagKeyLen and MaxTagValueLen bound each tag (AWS: 128 / 256).
	MaxTagKeyLen   = 128
	MaxTagValueLen = 256
	// MaxFieldLen bounds the free-text fields (Subject, Provider, Audience, DecisionID).
	MaxFieldLen = 512
	// MaxCorrelation bounds Correlation: entries, key and value lengths.
	MaxCorrelation         = 8
	MaxCorrelationKeyLen   = 32
	MaxCorrelationValueLen = 256
)

// Session is what a session token carries.
type Session struct {
	AccountID   string // 12 digits
	RoleName    string
	RolePath    string // "/" or "/a/b/"; "" means "/"
	SessionName string // RoleSessionName
	RoleID      string // AROA… unique id of the role

	Issued, Expiry time.Time // whole seconds, UTC after a round trip

	SourceIdentity string // optional

	Subject  string // web identity token subject
	Provider string // identity provider (ARN or issuer)
	Audience string // web identity token audience

	DecisionID string            // correlates with the audit event
	Tags       map[string]string // session tags, optional
	// Correlation carries the audit correlation keys of the credential the session
	// was issued for (jti, run_id, ...), so later exchanges can repeat them.
	Correlation map[string]string
}

// ARN returns the assumed-role ARN. The role path is not part of it.
func (s Session) ARN() string {
	return "arn:aws:sts::" + s.AccountID + ":assumed-role/" + s.RoleName + "/" + s.SessionName
}

// AssumedRoleID returns "<RoleID>:<SessionName>" (AssumedRoleId and the
// GetCallerIdentity UserId).
func (s Session) AssumedRoleID() string { return s.RoleID + ":" + s.SessionName }

// validate checks s for sealing.
func (s Session) validate() *Error {
	bad := func(d string) *Error { return fail(ErrInvalidSession, d) }
	if len(s.AccountID) != 12 || !allBytes(s.AccountID, isDigit) {
		return bad("account id must be 12 digits")
	}
	if !isNameLike(s.RoleName, 1, 64) {
		return bad("role name must be 1..64 characters of [\\w+=,.@-]")
	}
	if s.RolePath != "" && !validRolePath(s.RolePath) {
		return bad("role path must be \"/\" or \"/…/\" of printable ASCII, at most 512 characters")
	}
	if !isNameLike(s.SessionName, 2, 64) {
		return bad("session name must be 2..64 characters of [\\w+=,.@-]")
	}
	if len(s.RoleID) < 5 || len(s.RoleID) > 128 || s.RoleID[:4] != "AROA" || !allBytes(s.RoleID, isUpperAlnum) {
		return bad("role id must be AROA followed by uppercase letters or digits")
	}
	if s.SourceIdentity != "" && !isNameLike(s.SourceIdentity, 2, 64) {
		return bad("source identity must be 2..64 characters of [\\w+=,.@-]")
	}
	if s.Issued.IsZero() || s.Expiry.IsZero() {
		return bad("issue and expiry times are required")
	}
	iss, exp := s.Issued.Truncate(time.Second), s.Expiry.Truncate(time.Second)
	if !exp.After(iss) {
		return bad("expiry must be after issue time")
	}
	if exp.Sub(iss) > MaxDuration {
		return bad("session longer than " + MaxDuration.String())
	}
	for name, v := range map[string]string{"subject": s.Subject, "provider": s.Provider, "audience": s.Audience, "decision id": s.DecisionID} {
		if len(v) > MaxFieldLen || !utf8.ValidString(v) {
			return bad(name + " must be valid UTF-8 of at most " + strconv.Itoa(MaxFieldLen) + " bytes")
		}
	}
	if len(s.Tags) > MaxTags {
		return bad("more than " + strconv.Itoa(MaxTags) + " session tags")
	}
	for k, v := range s.Tags {
		if k == "" || len(k) > MaxTagKeyLen || len(v) > MaxTagValueLen || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return bad("session tag key must be 1..128 and value at most 256 bytes of UTF-8")
		}
	}
	if len(s.Correlation) > MaxCorrelation {
		return bad("more than " + strconv.Itoa(MaxCorrelation) + " correlation entries")
	}
	for k, v := range s.Correlation {
		if k == "" || len(k) > MaxCorrelationKeyLen || len(v) > MaxCorrelationValueLen || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return bad("correlation key must be 1..32 and value at most 256 bytes of UTF-8")
		}
	}
	return nil
}

func validRolePath(p string) bool {
	if len(p) > 512 || p[0] != '/' || p[len(p)-1] != '/' {
		return false
	}
	return allBytes(p, func(c byte) bool { return c >= 0x21 && c <= 0x7e })
}

func isNameLike(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	return allBytes(s, func(c byte) bool {
		return isUpperAlnum(c) || (c >= 'a' && c <= 'z') || c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-'
	})
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isUpperAlnum(c byte) bool { return isDigit(c) || (c >= 'A' && c <= 'Z') }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
