// Package httpx holds the small HTTP pieces every dialect shares: bounded body reads,
// caller metadata, and JSON responses.
package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
)

// MaxBodyBytes is the request body limit for token endpoints (SPEC §5.1).
const MaxBodyBytes = 64 << 10

// ErrTooLarge is returned by ReadBody when the body exceeds the limit.
var ErrTooLarge = errors.New("request body too large")

// ReadBody reads at most limit bytes of the body; more is ErrTooLarge.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, ErrTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// MediaType returns the request's media type without parameters, lowercased.
func MediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	}
	return mt
}

// ClientIP is the peer address (proxies are not trusted for this field).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// IsLoopback reports whether the request came from a loopback peer.
func IsLoopback(r *http.Request) bool {
	ip := net.ParseIP(ClientIP(r))
	return ip != nil && ip.IsLoopback()
}

// WriteJSON writes v as JSON with status; token responses are never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// BearerToken extracts a Bearer token from the Authorization header ("" when absent).
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// DecisionHeader carries the decision id on every token-endpoint response.
const DecisionHeader = "X-Keyless-Decision-Id"
