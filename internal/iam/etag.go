package iam

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

const (
	etagBytes      = 12
	maxEtagEncoded = 128
)

// NewEtag returns a fresh policy etag: standard base64 of 12 bytes read from
// rand (crypto/rand.Reader in production).
func NewEtag(rand io.Reader) (string, error) {
	var b [etagBytes]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("iam: etag randomness: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// DecodeEtag decodes an etag written with either base64 alphabet, padded or
// not. gcloud base64-decodes the etags it receives and re-encodes them
// URL-safe, so "BwX+/w8=" comes back as "BwX-_w8=".
func DecodeEtag(s string) ([]byte, error) {
	if s == "" || len(s) > maxEtagEncoded {
		return nil, fmt.Errorf("%w: length %d", ErrInvalidEtag, len(s))
	}
	t := strings.TrimRight(s, "=")
	if pad := len(s) - len(t); pad > 0 && (pad > 2 || len(s)%4 != 0) {
		return nil, fmt.Errorf("%w: bad padding", ErrInvalidEtag)
	}
	// Map the URL-safe alphabet onto the standard one, and refuse anything
	// else up front: the base64 decoder would silently skip '\r' and '\n'.
	buf := make([]byte, len(t))
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '-':
			buf[i] = '+'
		case c == '_':
			buf[i] = '/'
		case c == '+' || c == '/' || isDigit(c) || isLower(c) || ('A' <= c && c <= 'Z'):
			buf[i] = c
		default:
			return nil, fmt.Errorf("%w: not base64", ErrInvalidEtag)
		}
	}
	b := make([]byte, base64.RawStdEncoding.DecodedLen(len(buf)))
	n, err := base64.RawStdEncoding.Strict().Decode(b, buf)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("%w: not base64", ErrInvalidEtag)
	}
	return b[:n], nil
}

// EtagEqual reports whether two etags carry the same bytes, whatever base64
// alphabet and padding each uses. An empty or undecodable etag equals
// nothing (callers decide separately what an absent etag means).
func EtagEqual(a, b string) bool {
	da, err := DecodeEtag(a)
	if err != nil {
		return false
	}
	db, err := DecodeEtag(b)
	if err != nil {
		return false
	}
	return bytes.Equal(da, db)
}
