package gcemeta

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	flavorHeader = "Metadata-Flavor"
	flavorValue  = "Google"

	// contentText is what the real server labels text answers with; Python
	// only cares that it is not application/json.
	contentText = "application/text"
	contentJSON = "application/json"
	contentHTML = "text/html; charset=UTF-8"
	contentErr  = "text/plain; charset=utf-8"

	basePath = "/computeMetadata"
)

type handler struct {
	root *entry // /computeMetadata/
	now  func() time.Time
	log  *slog.Logger
}

// NewHandler returns the metadata server for opts. Errors wrap
// [ErrInvalidOptions] and name the offending field.
func NewHandler(opts Options) (http.Handler, error) {
	o, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return &handler{root: buildTree(o), now: o.Now, log: o.Logger}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set(flavorHeader, flavorValue)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")

	if _, relayed := r.Header["X-Forwarded-For"]; relayed {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "gce metadata: refused a request relayed by a proxy (X-Forwarded-For)",
			slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr))
		writeHTMLError(w, http.StatusForbidden, "Your client does not have permission to get URL <code>"+
			html.EscapeString(r.URL.Path)+"</code> from this server. Request had an X-Forwarded-For header.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		writePlain(w, http.StatusMethodNotAllowed, "Method not allowed: the metadata server only answers GET.")
		return
	}
	if len(r.URL.Path)+len(r.URL.RawQuery) > maxURLLen {
		writePlain(w, http.StatusRequestURITooLong, "The request URL is too long.")
		return
	}
	if r.URL.Path == "/" {
		// Go's OnGCE probe sends no flavor header; the root lists nothing secret.
		write(w, contentText, "computeMetadata/\n")
		return
	}
	if v := r.Header.Values(flavorHeader); len(v) != 1 || v[0] != flavorValue {
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "gce metadata: refused a request without Metadata-Flavor: Google",
			slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr))
		writeHTMLError(w, http.StatusForbidden, "Your client does not have permission to get URL <code>"+
			html.EscapeString(r.URL.Path)+"</code> from this server. Missing Metadata-Flavor:Google header.")
		return
	}

	e, canonical, trailing := h.resolve(r.URL.Path)
	switch {
	case e == nil, e.kind != kindDir && trailing:
		writeNotFound(w, r)
		return
	case e.kind == kindDir && !trailing:
		loc := canonical + "/"
		if r.URL.RawQuery != "" {
			loc += "?" + escapeQuery(r.URL.RawQuery)
		}
		hdr.Set("Location", loc)
		writePlain(w, http.StatusMovedPermanently, "Moved Permanently: "+loc)
		return
	}

	q := parseQuery(r.URL.RawQuery)
	if wait, err := parseBool(q["wait_for_change"]); err != nil || wait {
		writePlain(w, http.StatusBadRequest, "wait_for_change is not supported: these metadata values never change.")
		return
	}
	alt := q["alt"]
	if alt != "" && alt != "json" && alt != "text" {
		writePlain(w, http.StatusBadRequest, "Invalid alt parameter: want json or text.")
		return
	}
	recursive, err := parseBool(q["recursive"])
	if err != nil {
		writePlain(w, http.StatusBadRequest, "Invalid recursive parameter: want true or false.")
		return
	}

	switch e.kind {
	case kindToken:
		h.serveToken(w, r, e.account, q)
	case kindIdentity:
		h.serveIdentity(w, r, e.account, q)
	default:
		serveStatic(w, e, alt, recursive)
	}
}

// resolve walks path to an entry. canonical is the entry's path without a
// trailing slash, built from configured names only (never from the request).
func (h *handler) resolve(path string) (e *entry, canonical string, trailing bool) {
	if path == basePath {
		return h.root, basePath, false
	}
	rest, ok := strings.CutPrefix(path, basePath+"/")
	if !ok {
		return nil, "", false
	}
	trailing = rest == "" || strings.HasSuffix(rest, "/")
	rest = strings.TrimSuffix(rest, "/")
	e, canonical = h.root, basePath
	if rest == "" {
		return e, canonical, trailing
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if e = e.child(seg); e == nil {
			return nil, "", false
		}
		canonical += "/" + e.name
	}
	return e, canonical, trailing
}

func serveStatic(w http.ResponseWriter, e *entry, alt string, recursive bool) {
	switch {
	case e.kind == kindDir && recursive && alt != "text":
		writeJSON(w, e.jsonValue())
	case e.kind == kindDir && recursive:
		var b strings.Builder
		e.flatText("", &b)
		write(w, contentText, b.String())
	case e.kind == kindDir && alt == "json":
		writeJSON(w, e.listing())
	case e.kind == kindDir:
		write(w, contentText, lines(e.listing()))
	case alt == "json":
		writeJSON(w, e.jsonValue())
	default:
		write(w, contentText, e.leafText())
	}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func (h *handler) serveToken(w http.ResponseWriter, r *http.Request, a *Account, q map[string]string) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writePlain(w, http.StatusMethodNotAllowed, "Method not allowed: tokens are only served to GET.")
		return
	}
	scopes, err := parseScopes(q["scopes"])
	if err != nil {
		writePlain(w, http.StatusBadRequest, "Invalid scopes parameter: "+err.Error()+".")
		return
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(a.Scopes)
	}
	tok, expiry, err := a.Tokens.AccessToken(r.Context(), scopes)
	if err != nil {
		h.tokenFailure(w, r, a, "an access token", err)
		return
	}
	// Whole seconds left, rounded down so that clients never overestimate.
	secs := int64(expiry.Sub(h.now()) / time.Second)
	if tok == "" || secs < 1 {
		h.tokenFailure(w, r, a, "an access token", fmt.Errorf("token source returned an empty or expired token (expires_in %d)", secs))
		return
	}
	body, err := json.Marshal(tokenResponse{AccessToken: tok, ExpiresIn: secs, TokenType: "Bearer"})
	if err != nil { // unreachable: strings and an integer always marshal
		h.tokenFailure(w, r, a, "an access token", err)
		return
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "gce metadata: served an access token",
		slog.String("account", a.Email), slog.Any("scopes", scopes), slog.Int64("expires_in", secs))
	write(w, contentJSON, string(body))
}

func (h *handler) serveIdentity(w http.ResponseWriter, r *http.Request, a *Account, q map[string]string) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writePlain(w, http.StatusMethodNotAllowed, "Method not allowed: tokens are only served to GET.")
		return
	}
	aud := q["audience"]
	switch {
	case aud == "":
		writePlain(w, http.StatusBadRequest, "non-empty audience parameter required")
		return
	case len(aud) > maxAudienceLen || strings.ContainsFunc(aud, func(r rune) bool { return r < ' ' || r == 0x7f }):
		writePlain(w, http.StatusBadRequest, "Invalid audience parameter: too long or contains control characters.")
		return
	}
	format := q["format"]
	if format == "" {
		format = "standard"
	}
	if format != "standard" && format != "full" {
		writePlain(w, http.StatusBadRequest, "Invalid format parameter: want standard or full.")
		return
	}
	licenses, err := parseBool(q["licenses"])
	if err != nil {
		writePlain(w, http.StatusBadRequest, "Invalid licenses parameter: want TRUE or FALSE.")
		return
	}
	tok, err := a.Tokens.IDToken(r.Context(), aud, format, licenses && format == "full")
	if err == nil && tok == "" {
		err = errors.New("token source returned an empty ID token")
	}
	if err != nil {
		h.tokenFailure(w, r, a, "an ID token", err)
		return
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "gce metadata: served an ID token",
		slog.String("account", a.Email), slog.String("audience", aud), slog.String("format", format))
	write(w, contentText, tok)
}

// tokenFailure answers a failed token fetch without revealing its cause.
func (h *handler) tokenFailure(w http.ResponseWriter, r *http.Request, a *Account, what string, err error) {
	attrs := []slog.Attr{slog.String("account", a.Email), slog.String("path", r.URL.Path), slog.String("err", err.Error())}
	switch {
	case errors.Is(err, ErrPermissionDenied):
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "gce metadata: denied "+what, attrs...)
		writePlain(w, http.StatusForbidden, "Permission denied: the keyless agent may not obtain "+what+
			" for service account "+a.Email+"; see the agent's log.")
	case r.Context().Err() != nil:
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "gce metadata: client went away while fetching "+what, attrs...)
		writePlain(w, http.StatusServiceUnavailable, "The request was cancelled.")
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "gce metadata: could not obtain "+what, attrs...)
		writePlain(w, http.StatusInternalServerError, "Unable to obtain "+what+" for service account "+a.Email+
			"; see the keyless agent's log.")
	}
}

func write(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil { // unreachable: the tree holds strings, numbers and maps
		writePlain(w, http.StatusInternalServerError, "Internal error.")
		return
	}
	write(w, contentJSON, string(body))
}

func writePlain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", contentErr)
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

func writeNotFound(w http.ResponseWriter, r *http.Request) {
	writeHTMLError(w, http.StatusNotFound, "The requested URL <code>"+html.EscapeString(r.URL.Path)+
		"</code> was not found on this server.")
}

// writeHTMLError answers in the shape of Google's front-end error pages, which
// the real server uses for 403 and 404. msgHTML must already be escaped.
func writeHTMLError(w http.ResponseWriter, code int, msgHTML string) {
	w.Header().Set("Content-Type", contentHTML)
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=en>\n<meta charset=utf-8>\n<title>Error %d (%s)!!1</title>\n"+
		"<p><b>%d.</b> <ins>That’s an error.</ins>\n<p>%s <ins>That’s all we know.</ins>\n",
		code, http.StatusText(code), code, msgHTML)
}
