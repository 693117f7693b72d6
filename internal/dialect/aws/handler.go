package aws

import (
	"errors"
	"net/http"

	"github.com/keylessdev/keyless/internal/credential/awsreq"
	"github.com/keylessdev/keyless/internal/exchange"
	"github.com/keylessdev/keyless/internal/httpx"
)

// Handler serves the AWS STS query API at "/" (POST form bodies and presigned GETs),
// the way SDKs reach it through AWS_ENDPOINT_URL_STS.
type Handler struct {
	Engine *exchange.Engine
}

// Register adds the dialect's routes to mux. STS lives at the root path; the root
// answers nothing else.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /{$}", h.ServeHTTP)
	mux.HandleFunc("GET /{$}", h.ServeHTTP)
}

func meta(r *http.Request, method string) exchange.Meta {
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return exchange.Meta{Dialect: "aws.sts", Method: method, CallerIP: httpx.ClientIP(r), UserAgent: ua, Secure: r.TLS != nil}
}

// ServeHTTP decodes the query request and dispatches on Action. Every request,
// malformed ones included, yields one audit event; the decision id is the request id.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadBody(r, httpx.MaxBodyBytes)
	if err != nil {
		e := NewError(CodeInvalidQueryParameter, "The request body is unreadable or too large.")
		if errors.Is(err, httpx.ErrTooLarge) {
			e.Status = http.StatusRequestEntityTooLarge
		}
		h.reject(w, r, "unknown", e)
		return
	}
	req, err := ParseQuery(r.Method, r.Header.Get("Content-Type"), r.URL.RawQuery, body)
	if err != nil {
		h.reject(w, r, "unknown", asError(err))
		return
	}
	switch req.Action {
	case ActionAssumeRoleWithWebIdentity:
		h.assumeRole(w, r, req)
	case ActionGetCallerIdentity:
		if hasNonAuthParams(req.Params) {
			h.reject(w, r, req.Action, NewError(CodeInvalidParameterValue, "GetCallerIdentity takes no parameters."))
			return
		}
		h.callerIdentity(w, r, body)
	default:
		h.reject(w, r, safeAction(req.Action), UnknownActionError(req))
	}
}

func (h *Handler) assumeRole(w http.ResponseWriter, r *http.Request, req Request) {
	m := meta(r, ActionAssumeRoleWithWebIdentity)
	p, err := ParseAssumeRoleWithWebIdentity(req)
	if err != nil {
		h.reject(w, r, m.Method, asError(err))
		return
	}
	res, derr := h.Engine.AssumeRoleWithWebIdentity(r.Context(), exchange.AssumeRoleRequest{
		RoleArn: p.RoleArn, RoleSessionName: p.RoleSessionName, WebIdentityToken: p.WebIdentityToken,
		DurationSeconds: p.DurationSeconds, Policy: p.Policy, PolicyArns: p.PolicyArns, ProviderID: p.ProviderId,
	}, m)
	if derr != nil {
		writeEngineError(w, derr)
		return
	}
	w.Header().Set(httpx.DecisionHeader, res.DecisionID)
	WriteAssumeRoleWithWebIdentity(w, AssumeRoleWithWebIdentityResult{
		Credentials: Credentials{AccessKeyID: res.Credentials.AccessKeyID, SecretAccessKey: res.Credentials.SecretAccessKey,
			SessionToken: res.Credentials.SessionToken, Expiration: res.Credentials.Expiration},
		SubjectFromWebIdentityToken: res.SubjectFromWebIdentityToken,
		Audience:                    res.Audience,
		Provider:                    res.Provider,
		AssumedRoleID:               res.Session.AssumedRoleID(),
		Arn:                         res.Session.ARN(),
		SourceIdentity:              res.SourceIdentity,
	}, res.DecisionID)
}

func (h *Handler) callerIdentity(w http.ResponseWriter, r *http.Request, body []byte) {
	m := meta(r, ActionGetCallerIdentity)
	sr := awsreq.SignedRequest{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Headers: r.Header, Body: body}
	if r.URL.RawPath == "" && r.URL.Path == "" {
		sr.Path = "/"
	}
	res, derr := h.Engine.GetCallerIdentity(r.Context(), sr, m)
	if derr != nil {
		writeEngineError(w, derr)
		return
	}
	w.Header().Set(httpx.DecisionHeader, res.DecisionID)
	WriteGetCallerIdentity(w, CallerIdentity{UserID: res.UserID, Account: res.Account, Arn: res.Arn}, res.DecisionID)
}

// reject audits a request refused before the engine and writes the STS error.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, method string, e Error) {
	derr := h.Engine.Reject(r.Context(), meta(r, method), exchange.NewRequestError("request", e.Message, e.Code+": "+e.Message))
	id := derr.DecisionID
	if id != "" {
		w.Header().Set(httpx.DecisionHeader, id)
		e.Message += " (keyless decision " + id + ")"
	}
	WriteError(w, e, id)
}

// writeEngineError maps an engine decision to the STS error, with the decision id
// as the request id and at the end of the message.
func writeEngineError(w http.ResponseWriter, derr *exchange.Error) {
	code := derr.AWSCode
	if code == "" {
		code = CodeInternalFailure
	}
	e := NewError(code, derr.Public)
	if derr.DecisionID != "" {
		w.Header().Set(httpx.DecisionHeader, derr.DecisionID)
		e.Message += " (keyless decision " + derr.DecisionID + ")"
	}
	WriteError(w, e, derr.DecisionID)
}

func asError(err error) Error {
	var e Error
	if errors.As(err, &e) {
		return e
	}
	return NewError(CodeInvalidParameterValue, "The request is invalid.")
}

// safeAction bounds an unknown action name used as the audit method.
func safeAction(a string) string {
	if len(a) > 64 {
		return "unknown"
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "unknown"
		}
	}
	return a
}

// hasNonAuthParams reports parameters other than a presigned URL's X-Amz-* ones.
func hasNonAuthParams(p map[string]string) bool {
	for k := range p {
		if len(k) < 6 || k[:6] != "X-Amz-" {
			return true
		}
	}
	return false
}
