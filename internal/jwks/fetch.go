package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const userAgent = "keyless-jwks/1"

// newClient returns the HTTP client used for every fetch. Its redirect policy follows at
// most maxRedirects redirects, each to the same scheme and host:port as the original
// request and each passing the URL policy.
func newClient(rt http.RoundTripper, urls urlPolicy) *http.Client {
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrRedirect, maxRedirects)
			}
			if orig := via[0].URL; !sameOrigin(orig, req.URL) {
				return fmt.Errorf("%w: from %s://%s to %s://%s", ErrRedirect, orig.Scheme, orig.Host, req.URL.Scheme, req.URL.Host)
			}
			if err := urls.checkParsed(req.URL); err != nil {
				return fmt.Errorf("%w: target refused: %w", ErrRedirect, err)
			}
			return nil
		},
	}
}

// response is a successful (200, size-checked) fetch.
type response struct {
	body   []byte
	header http.Header
}

// get fetches u with a deadline of timeout, independent of ctx's cancellation (the
// result is shared by every caller waiting on the same refresh) but keeping its values.
func (c *Cache) get(ctx context.Context, client *http.Client, issuer string, stage Stage, u *url.URL, accept string) (*response, *FetchError) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()

	fail := func(sentinel, cause error, format string, args ...any) (*response, *FetchError) {
		return nil, newFetchError(issuer, stage, sentinel, cause, fmt.Sprintf(format, args...))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(ErrInvalidURL, nil, "building request for %q: %v", u.Redacted(), err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", userAgent)

	resp, err := client.Do(req)
	if err != nil {
		return fail(classify(err), err, "GET %s: %v", u.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()

	limit := c.opts.MaxBodyBytes
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt+1))
		return fail(ErrHTTPStatus, nil, "GET %s: status %d, body %q", u.Redacted(), resp.StatusCode, excerpt(head))
	}
	if resp.ContentLength > limit {
		return fail(ErrTooLarge, nil, "GET %s: Content-Length %d exceeds %d bytes", u.Redacted(), resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && ctx.Err() != nil {
		// On cancellation net/http can end a truncated chunked body with a clean EOF;
		// never trust a body that was still being read at the deadline.
		err = context.Cause(ctx)
	}
	if err != nil {
		return fail(classify(err), err, "GET %s: reading body: %v", u.Redacted(), err)
	}
	if int64(len(body)) > limit {
		return fail(ErrTooLarge, nil, "GET %s: body exceeds %d bytes", u.Redacted(), limit)
	}
	return &response{body: body, header: resp.Header}, nil
}

// classify maps a transport or body-read error to its sentinel.
func classify(err error) error {
	for _, s := range []error{ErrRedirect, ErrBlockedAddress, ErrInsecureURL, ErrInvalidURL} {
		if errors.Is(err, s) {
			return s
		}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ErrTimeout
	}
	return ErrUnavailable
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// freshness returns how long a JWKS response may be cached: Cache-Control max-age minus
// Age, clamped to [MinMaxAge, MaxMaxAge], or def when there is no single valid max-age.
// Other directives (no-cache, no-store, private) are ignored: keys are always cached.
func freshness(h http.Header, def time.Duration) time.Duration {
	maxAge, found := int64(-1), false
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "max-age") {
				continue
			}
			n, ok := parseSeconds(strings.Trim(strings.TrimSpace(val), `"`))
			if !ok || (found && n != maxAge) {
				return def // invalid or conflicting max-age
			}
			maxAge, found = n, true
		}
	}
	if !found {
		return def
	}
	if age, ok := parseSeconds(strings.TrimSpace(h.Get("Age"))); ok {
		maxAge -= min(age, maxAge)
	}
	return min(max(time.Duration(maxAge)*time.Second, MinMaxAge), MaxMaxAge)
}

// parseSeconds parses a delta-seconds value (RFC 9111 §1.2.2): digits only; values too
// large for the clamp are capped rather than rejected.
func parseSeconds(s string) (int64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > int64(MaxMaxAge/time.Second) {
		return int64(MaxMaxAge / time.Second), true
	}
	return n, true
}
