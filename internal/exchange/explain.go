package exchange

import (
	"context"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/iam"
)

// ExplainRequest asks what would happen to a credential offline.
type ExplainRequest struct {
	Audience       string // provider audience or resource name
	SubjectToken   string
	ServiceAccount string // optional: also explain impersonating this account
	Method         string // IAM Credentials method (default generateAccessToken)
}

// Explain runs the real pipeline in dry-run mode: every check, no token, no audit event.
// allowed reports the final outcome; the trace says why.
func (e *Engine) Explain(ctx context.Context, req ExplainRequest) (tr *Trace, allowed bool, derr *Error) {
	snap := e.snap.Load()
	aud := req.Audience
	if pn, err := iam.ParseProviderName(aud); err == nil {
		aud = pn.Audience()
	}
	tr = &Trace{}
	ev := &audit.Event{}
	sreq := STSRequest{GrantType: GrantTypeTokenExchange, Audience: aud, SubjectToken: req.SubjectToken,
		SubjectTokenType: TokenTypeJWT, Scope: iamScopes[:1]}
	meta := Meta{Dialect: "explain", Method: "token", DryRun: true}
	res, derr := e.exchangeSTS(ctx, snap, sreq, tr, ev, meta)
	if derr != nil || req.ServiceAccount == "" {
		return tr, derr == nil, derr
	}
	method := req.Method
	if method == "" {
		method = "generateAccessToken"
	}
	perm := methodPermission[method]
	sa := snap.ServiceAccount(req.ServiceAccount)
	if sa == nil || sa.Disabled {
		tr.fail("service_account", "check the email; it must be a configured, enabled service account", nil, "service account %q does not exist or is disabled", req.ServiceAccount)
		return tr, false, deny(CodePermissionDenied, "service_account_unknown", "", "unknown service account")
	}
	pn, _ := iam.ParseAudience(aud)
	caller := iam.Caller{Federated: &iam.Federated{Pool: pn.Pool, ProjectID: snap.Pool(pn.Pool).Project.ID, Subject: res.Attributes.Subject,
		Groups: res.Attributes.Groups, Attributes: res.Attributes.Custom}}
	if derr := authorizeChain(caller, res.Principal, []*ServiceAccount{sa}, perm, e.opts.Now(), tr); derr != nil {
		return tr, false, derr
	}
	return tr, true, nil
}
