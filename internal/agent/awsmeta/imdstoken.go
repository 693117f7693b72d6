package awsmeta

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Session token layout: version(1) || expiry unix nanoseconds (8, big endian) ||
// HMAC-SHA256(key, version || expiry) (32), base64url without padding.
const (
	tokenVersion    = 1
	tokenPayloadLen = 1 + 8
	tokenRawLen     = tokenPayloadLen + sha256.Size
	tokenKeyLen     = 32
)

var tokenEncoding = base64.RawURLEncoding

var tokenEncodedLen = tokenEncoding.EncodedLen(tokenRawLen)

// Reasons a session token is refused (logged, never sent).
var (
	errTokenMalformed = errors.New("malformed session token")
	errTokenBadMAC    = errors.New("session token not issued by this agent")
	errTokenExpired   = errors.New("session token expired")
	errTokenTooLong   = errors.New("session token lifetime exceeds the maximum")
)

// tokenMinter issues and checks stateless IMDSv2 session tokens.
type tokenMinter struct {
	key    [tokenKeyLen]byte
	maxTTL time.Duration
}

func (m *tokenMinter) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, m.key[:])
	h.Write(payload)
	return h.Sum(nil)
}

// mint returns a token valid until now+ttl.
func (m *tokenMinter) mint(now time.Time, ttl time.Duration) string {
	raw := make([]byte, tokenPayloadLen, tokenRawLen)
	raw[0] = tokenVersion
	binary.BigEndian.PutUint64(raw[1:], uint64(now.Add(ttl).UnixNano()))
	raw = append(raw, m.mac(raw)...)
	return tokenEncoding.EncodeToString(raw)
}

// check accepts a token minted by m that is unexpired at now.
func (m *tokenMinter) check(tok string, now time.Time) error {
	if len(tok) != tokenEncodedLen {
		return errTokenMalformed
	}
	raw, err := tokenEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) != tokenRawLen {
		return errTokenMalformed
	}
	payload, sum := raw[:tokenPayloadLen], raw[tokenPayloadLen:]
	if subtle.ConstantTimeCompare(sum, m.mac(payload)) != 1 || payload[0] != tokenVersion {
		return errTokenBadMAC
	}
	exp := int64(binary.BigEndian.Uint64(payload[1:]))
	left := exp - now.UnixNano()
	switch {
	case left <= 0:
		return errTokenExpired
	case left > int64(m.maxTTL):
		return errTokenTooLong
	}
	return nil
}
