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
	t = strings.Map(func(r rune) rune {
		switch r {
		case '-':
			return '+'
		case '_':
			return '/'
		}
		return r
	}, t)
	b, err := base64.RawStdEncoding.Strict().DecodeString(t)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrInvalidEtag)
	}
	return b, nil
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
