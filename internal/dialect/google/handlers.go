package google

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/httpx"
)

// Handler serves the Google dialect over an Engine.
type Handler struct {
	Engine *exchange.Engine
}

// Register adds the dialect's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/token", h.token)
	mux.HandleFunc("POST /v1/introspect", h.introspect)
	mux.HandleFunc("POST /v1/projects/{project}/serviceAccounts/{rest}", h.iamCredentials)
	mux.HandleFunc("GET /v1/projects/{project}/serviceAccounts/{sa}/allowedLocations", allowedLocations)
	mux.HandleFunc("GET /v1/projects/{project}/locations/global/workloadIdentityPools/{pool}/allowedLocations", allowedLocations)
	mux.HandleFunc("GET /service_accounts/v1/metadata/jwk/{sa}", h.serviceAccountJWKS)
}

func meta(r *http.Request, dialect, method string) exchange.Meta {
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return exchange.Meta{Dialect: dialect, Method: method, CallerIP: httpx.ClientIP(r), UserAgent: ua}
}

// token is POST /v1/token (RFC 8693 token exchange).
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	m := meta(r, "google.sts", "token")
	body, err := httpx.ReadBody(r, httpx.MaxBodyBytes)
	if err != nil {
		status, detail := http.StatusBadRequest, "unreadable body"
		if errors.Is(err, httpx.ErrTooLarge) {
			status, detail = http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes", httpx.MaxBodyBytes)
		}
		derr := h.Engine.Reject(r.Context(), m, exchange.NewRequestError("request", "request body too large or unreadable", detail))
		writeOAuthError(w, status, derr)
		return
	}
	req, err := ParseSTSRequest(httpx.MediaType(r), body)
	if err != nil {
		derr := h.Engine.Reject(r.Context(), m, exchange.NewRequestError("request", err.Error(), err.Error()))
		writeOAuthError(w, http.StatusBadRequest, derr)
		return
	}
	res, derr := h.Engine.ExchangeSTS(r.Context(), req, m)
	if derr != nil {
		writeOAuthError(w, 0, derr)
		return
	}
	w.Header().Set(httpx.DecisionHeader, res.DecisionID)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token":      res.AccessToken,
		"issued_token_type": res.IssuedTokenType,
		"token_type":        res.TokenType,
		"expires_in":        res.ExpiresIn,
	})
}

// introspect is POST /v1/introspect, which gcloud calls for configs without impersonation.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	m := meta(r, "google.sts", "introspect")
	body, err := httpx.ReadBody(r, httpx.MaxBodyBytes)
	if err != nil {
		derr := h.Engine.Reject(r.Context(), m, exchange.NewRequestError("request", "request body too large or unreadable", err.Error()))
		writeOAuthError(w, http.StatusRequestEntityTooLarge, derr)
		return
	}
	var fields map[string]string
	switch httpx.MediaType(r) {
	case "application/json":
		fields, err = parseJSONObject(body)
	default:
		fields, err = parseForm(body)
	}
	if err != nil {
		derr := h.Engine.Reject(r.Context(), m, exchange.NewRequestError("request", err.Error(), err.Error()))
		writeOAuthError(w, http.StatusBadRequest, derr)
		return
	}
	info := h.Engine.Introspect(r.Context(), fields["token"], m)
	w.Header().Set(httpx.DecisionHeader, info.DecisionID)
	if !info.Active {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"active": true, "username": info.Username, "sub": info.Subject, "iss": info.Issuer,
		"scope": info.Scope, "client_id": info.ClientID,
		"exp": strconv.FormatInt(info.Exp, 10), "iat": strconv.FormatInt(info.Iat, 10),
	})
}

// writeOAuthError renders RFC 6749 §5.2 errors; the description names the failed stage
// and the decision id, never claim values.
func writeOAuthError(w http.ResponseWriter, status int, e *exchange.Error) {
	code := "invalid_request"
	switch e.Code {
	case exchange.CodeUnsupportedGrantType:
		code = "unsupported_grant_type"
	case exchange.CodeInvalidTarget:
		code = "invalid_target"
	case exchange.CodeInvalidGrant:
		code = "invalid_grant"
	case exchange.CodeUnauthorizedClient:
		code = "unauthorized_client"
	case exchange.CodeInternal:
		code, status = "server_error", http.StatusInternalServerError
	case exchange.CodeUnavailable:
		code, status = "temporarily_unavailable", http.StatusServiceUnavailable
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	desc := e.Public
	if e.DecisionID != "" {
		w.Header().Set(httpx.DecisionHeader, e.DecisionID)
		desc += " (decision " + e.DecisionID + ")"
	}
	httpx.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// iamCredentials is POST /v1/projects/{project}/serviceAccounts/{sa}:{method}. Go's
// ServeMux cannot match "{email}:method", so the method is split off the last ':'.
func (h *Handler) iamCredentials(w http.ResponseWriter, r *http.Request) {
	rest := r.PathValue("rest")
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		writeGoogleError(w, &exchange.Error{Code: exchange.CodeNotFound, Public: "Method not found."})
		return
	}
	sa, method := rest[:i], rest[i+1:]
	if _, ok := map[string]bool{"generateAccessToken": true, "generateIdToken": true, "signJwt": true, "signBlob": true}[method]; !ok {
		writeGoogleError(w, &exchange.Error{Code: exchange.CodeNotFound, Public: "Method not found."})
		return
	}
	m := meta(r, "google.iamcredentials", method)
	req, derr := parseIAMRequest(r, method)
	if derr != nil {
		writeGoogleError(w, h.Engine.Reject(r.Context(), m, derr))
		return
	}
	req.Name = "projects/" + r.PathValue("project") + "/serviceAccounts/" + sa
	req.Bearer = httpx.BearerToken(r)
	res, derr := h.Engine.Impersonate(r.Context(), req, m)
	if derr != nil {
		writeGoogleError(w, derr)
		return
	}
	w.Header().Set(httpx.DecisionHeader, res.DecisionID)
	var out map[string]any
	switch method {
	case "generateAccessToken":
		// Python parses expireTime with a fixed pattern: seconds precision, "Z" (rule 7).
		out = map[string]any{"accessToken": res.AccessToken, "expireTime": res.ExpireTime.UTC().Truncate(1e9).Format("2006-01-02T15:04:05Z")}
	case "generateIdToken":
		out = map[string]any{"token": res.IDToken}
	case "signJwt":
		out = map[string]any{"keyId": res.KeyID, "signedJwt": string(res.Signed)}
	case "signBlob":
		out = map[string]any{"keyId": res.KeyID, "signedBlob": base64.StdEncoding.EncodeToString(res.Signed)}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type iamBody struct {
	Delegates                  []string `json:"delegates"`
	Scope                      []string `json:"scope"`
	Lifetime                   string   `json:"lifetime"`
	Audience                   string   `json:"audience"`
	IncludeEmail               bool     `json:"includeEmail"`
	OrganizationNumberIncluded bool     `json:"organizationNumberIncluded"`
	Payload                    *string  `json:"payload"`
}

func parseIAMRequest(r *http.Request, method string) (exchange.ImpersonationRequest, *exchange.Error) {
	bad := func(public, detail string) (exchange.ImpersonationRequest, *exchange.Error) {
		e := exchange.NewRequestError("request", public, detail)
		e.Code = exchange.CodeInvalidArgument
		return exchange.ImpersonationRequest{}, e
	}
	body, err := httpx.ReadBody(r, httpx.MaxBodyBytes)
	if err != nil {
		return bad("Request payload size exceeds the limit.", err.Error())
	}
	var b iamBody
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			return bad("Invalid JSON payload received.", err.Error())
		}
	}
	req := exchange.ImpersonationRequest{Delegates: b.Delegates, Scope: b.Scope, Lifetime: b.Lifetime,
		Audience: b.Audience, IncludeEmail: b.IncludeEmail}
	if b.Payload != nil {
		switch method {
		case "signBlob":
			p, err := base64.StdEncoding.DecodeString(*b.Payload)
			if err != nil {
				return bad("Invalid value at 'payload' (TYPE_BYTES), Base64 decoding failed.", err.Error())
			}
			req.Payload = p
		default:
			req.Payload = []byte(*b.Payload)
		}
	}
	return req, nil
}

// writeGoogleError renders the google.rpc.Status JSON error shape.
func writeGoogleError(w http.ResponseWriter, e *exchange.Error) {
	status, name := http.StatusBadRequest, "INVALID_ARGUMENT"
	switch e.Code {
	case exchange.CodeUnauthenticated:
		status, name = http.StatusUnauthorized, "UNAUTHENTICATED"
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyless"`)
	case exchange.CodePermissionDenied:
		status, name = http.StatusForbidden, "PERMISSION_DENIED"
	case exchange.CodeNotFound:
		status, name = http.StatusNotFound, "NOT_FOUND"
	case exchange.CodeInternal:
		status, name = http.StatusInternalServerError, "INTERNAL"
	}
	msg := e.Public
	meta := map[string]string{}
	if e.DecisionID != "" {
		w.Header().Set(httpx.DecisionHeader, e.DecisionID)
		msg += " (decision " + e.DecisionID + ")"
		meta["decision_id"] = e.DecisionID
	}
	errObj := map[string]any{"code": status, "message": msg, "status": name}
	if e.Code == exchange.CodePermissionDenied && e.Permission != "" {
		meta["permission"] = e.Permission
		errObj["details"] = []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
			"domain": "iam.googleapis.com", "metadata": meta,
		}}
	} else if len(meta) > 0 {
		errObj["details"] = []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reasonFor(e),
			"domain": "keyless", "metadata": meta,
		}}
	}
	httpx.WriteJSON(w, status, map[string]any{"error": errObj})
}

func reasonFor(e *exchange.Error) string {
	if e.Stage == "" {
		return "INVALID_REQUEST"
	}
	return strings.ToUpper(e.Stage)
}

// allowedLocations serves the trust-boundary lookups newer libraries make: keyless
// places no regional restriction.
func allowedLocations(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"locations": []string{}, "encodedLocations": "0x0"})
}

// serviceAccountJWKS publishes a service account's public keys (those its signBlob and
// signJwt use) at Google's path; public, as Google's is.
func (h *Handler) serviceAccountJWKS(w http.ResponseWriter, r *http.Request) {
	jwks, ok := h.Engine.ServiceAccountJWKS(r.PathValue("sa"))
	if !ok {
		writeGoogleError(w, &exchange.Error{Code: exchange.CodeNotFound, Public: "Not found."})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(jwks)
}
