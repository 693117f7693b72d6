package audit

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// crockford is Crockford's base32 alphabet (no I, L, O, U).
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// DecisionIDLen is the length of a decision id.
const DecisionIDLen = 26

const maxIDMillis = 1<<48 - 1

// ErrInvalidDecisionID reports a string that is not a canonical decision id.
var ErrInvalidDecisionID = errors.New("audit: invalid decision id")

// NewDecisionID returns a ULID-shaped id: 48 bits of Unix milliseconds then
// 80 bits read from rand, as 26 upper-case Crockford base32 characters. Ids
// from different milliseconds sort lexicographically by time. Times before
// 1970 or after year 10889 are clamped to the representable range.
//
// rand must not fail (crypto/rand.Reader never does); if it does,
// NewDecisionID panics rather than issue a guessable or duplicate id.
func NewDecisionID(now time.Time, rand io.Reader) string {
	ms := min(max(now.UnixMilli(), 0), maxIDMillis)
	var b [16]byte
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	if _, err := io.ReadFull(rand, b[6:]); err != nil {
		panic(fmt.Sprintf("audit: reading randomness for a decision id: %v", err))
	}
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	var out [DecisionIDLen]byte
	for i := DecisionIDLen - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ParseDecisionID checks that s is a canonical decision id (as produced by
// NewDecisionID) and returns the millisecond time it encodes, in UTC.
func ParseDecisionID(s string) (time.Time, error) {
	if len(s) != DecisionIDLen {
		return time.Time{}, fmt.Errorf("%w: %d characters, want %d", ErrInvalidDecisionID, len(s), DecisionIDLen)
	}
	var ms int64
	for i := range 10 {
		v := decodeChar(s[i])
		if v < 0 || (i == 0 && v > 7) {
			return time.Time{}, fmt.Errorf("%w: bad character at %d", ErrInvalidDecisionID, i)
		}
		ms = ms<<5 | int64(v)
	}
	for i := 10; i < DecisionIDLen; i++ {
		if decodeChar(s[i]) < 0 {
			return time.Time{}, fmt.Errorf("%w: bad character at %d", ErrInvalidDecisionID, i)
		}
	}
	return time.UnixMilli(ms).UTC(), nil
}

func decodeChar(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		// Index in the alphabet; I, L, O and U are not canonical.
		for i := 10; i < len(crockford); i++ {
			if crockford[i] == c {
				return i
			}
		}
	}
	return -1
}
