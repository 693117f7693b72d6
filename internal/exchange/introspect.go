package exchange

import (
	"context"

	"github.com/keylessdev/keyless/internal/audit"
)

// TokenInfo is RFC 7662 introspection of a keyless access token.
type TokenInfo struct {
	Active            bool
	Username, Subject string
	Issuer, Scope     string
	ClientID          string
	Exp, Iat          int64
	DecisionID        string
}

// Introspect reports whether token is an active keyless access token. gcloud uses the
// username as the account name for federated credentials without impersonation.
func (e *Engine) Introspect(ctx context.Context, token string, meta Meta) TokenInfo {
	started := e.opts.Now()
	snap := e.snap.Load()
	tr := &Trace{}
	ev := &audit.Event{}
	if token != "" {
		ev.SubjectTokenSHA256 = audit.TokenHash(token)
	}
	b, derr := e.Authenticate(ctx, snap, token)
	info := TokenInfo{}
	if derr == nil {
		tr.ok("bearer", "active token of %s", b.Principal)
		ev.Principal = b.Principal
		info = TokenInfo{Active: true, Username: b.Principal, Subject: b.Claims.Sub, Issuer: b.Claims.Iss,
			Scope: b.Claims.Scope, Exp: b.Claims.Exp, Iat: b.Claims.Iat, ClientID: b.Claims.Keyless.Provider}
	} else {
		tr.fail("bearer", "", nil, "%s", derr.Detail)
	}
	// An inactive token is a normal answer, not a failure of the request.
	if err := e.finish(ctx, ev, tr, derr, started, meta); err != nil && err.Code == CodeInternal {
		return TokenInfo{DecisionID: ev.DecisionID}
	}
	info.DecisionID = ev.DecisionID
	return info
}
