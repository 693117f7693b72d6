package awsmeta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// expirationLayout is the only form botocore parses ("%Y-%m-%dT%H:%M:%SZ").
const expirationLayout = "2006-01-02T15:04:05Z"

// staticLifetime is the expiration advertised for credentials that cannot expire.
const staticLifetime = time.Hour

// served is a validated credential set ready to render.
type served struct {
	accessKeyID, secretAccessKey, sessionToken, accountID string
	expiration                                            time.Time // UTC, whole seconds
}

// fetchCredentials asks the provider and checks that the answer is usable.
func fetchCredentials(ctx context.Context, p aws.CredentialsProvider, now time.Time) (served, error) {
	c, err := p.Retrieve(ctx)
	if err != nil {
		return served{}, fmt.Errorf("%w: %w", ErrCredentialsUnavailable, err)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return served{}, fmt.Errorf("%w: provider %q returned an empty key", ErrCredentialsUnavailable, c.Source)
	}
	exp := now.Add(staticLifetime)
	if c.CanExpire {
		exp = c.Expires
		if !exp.After(now) {
			return served{}, fmt.Errorf("%w: provider %q returned credentials that expired at %s",
				ErrCredentialsExpired, c.Source, exp.UTC().Format(time.RFC3339))
		}
	}
	// Round down: a client must never believe a key lives longer than it does.
	return served{
		accessKeyID:     c.AccessKeyID,
		secretAccessKey: c.SecretAccessKey,
		sessionToken:    c.SessionToken,
		accountID:       c.AccountID,
		expiration:      exp.UTC().Truncate(time.Second),
	}, nil
}

// marshalJSON encodes v without HTML escaping (the values are keys, not markup).
func marshalJSON(v any, indent bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		// Only strings are encoded; this cannot fail.
		panic(fmt.Sprintf("awsmeta: encode: %v", err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// writeBody writes a complete response with the given content type.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// forwarded reports whether a proxy relayed the request.
func forwarded(r *http.Request) bool {
	return len(r.Header.Values("X-Forwarded-For")) > 0 || len(r.Header.Values("Forwarded")) > 0
}

// logPath bounds an attacker-chosen path before it goes to a log.
func logPath(p string) string {
	const max = 200
	if len(p) > max {
		return p[:max] + "…"
	}
	return p
}
