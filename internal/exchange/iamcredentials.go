package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/iam"
	"github.com/keylessdev/keyless/internal/jose"
	"github.com/keylessdev/keyless/internal/signing"
)

// Scopes that let an access token call IAM Credentials (Python asks for auth/iam,
// Go and Node for auth/cloud-platform).
var iamScopes = []string{"https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/iam"}

// Bearer is an authenticated caller of IAM Credentials.
type Bearer struct {
	Caller    iam.Caller
	Principal string // principal://… or the service account email
	Claims    AccessClaims
}

// actor returns the act claim that names this bearer (and whoever it acted for).
func (b *Bearer) actor() *Actor {
	return &Actor{Sub: b.Principal, Act: b.Claims.Act}
}

// Authenticate verifies a keyless access token presented as a Bearer. Only keyless access
// tokens (typ at+jwt) are bearers: ID tokens and foreign tokens are refused.
func (e *Engine) Authenticate(ctx context.Context, snap *Snapshot, token string) (*Bearer, *Error) {
	fail := func(detail string) (*Bearer, *Error) {
		return nil, deny(CodeUnauthenticated, "bearer", "request had invalid authentication credentials", detail)
	}
	if token == "" {
		return fail("no bearer token")
	}
	tok, err := jose.ParseCompact(token, MaxSubjectTokenBytes)
	if err != nil {
		return fail("bearer is not a compact JWS: " + err.Error())
	}
	if tok.Header.Typ != "at+jwt" {
		return fail(fmt.Sprintf("bearer has typ %q, only keyless access tokens (at+jwt) are accepted", tok.Header.Typ))
	}
	if _, err := tok.Verify(e.opts.Signer.PublicKeys(), []string{signing.ES256, signing.RS256, signing.EdDSA}); err != nil {
		return fail("bearer signature: " + err.Error())
	}
	var c AccessClaims
	if err := json.Unmarshal(tok.RawClaims, &c); err != nil || c.Keyless == nil {
		return fail("bearer claims are not keyless access token claims")
	}
	now := e.opts.Now().Unix()
	switch {
	case c.Iss != snap.Issuer:
		return fail(fmt.Sprintf("bearer iss %q is not this server's issuer", c.Iss))
	case now >= c.Exp:
		return fail("bearer expired")
	case now+60 < c.Nbf:
		return fail("bearer not yet valid")
	}
	b := &Bearer{Claims: c, Principal: c.Sub}
	switch c.Keyless.Kind {
	case KindFederated:
		pn, err := iam.ParseProviderName(c.Keyless.Provider)
		if err != nil {
			return fail("bearer provider: " + err.Error())
		}
		prov := snap.Provider(pn)
		if prov == nil || prov.Disabled || prov.Pool.Disabled {
			return fail("the bearer's provider no longer exists or is disabled")
		}
		subject := strings.TrimPrefix(c.Sub, "principal://iam.googleapis.com/"+pn.Pool.String()+"/subject/")
		if subject == c.Sub {
			return fail("bearer subject is not a principal of its pool")
		}
		b.Caller = iam.Caller{Federated: &iam.Federated{Pool: pn.Pool, ProjectID: prov.Pool.Project.ID, Subject: subject,
			Groups: c.Keyless.Groups, Attributes: c.Keyless.Attributes}}
	case KindServiceAccount:
		sa := snap.ServiceAccount(c.Email)
		if sa == nil || sa.Disabled {
			return fail("the bearer's service account no longer exists or is disabled")
		}
		b.Caller = iam.Caller{ServiceAccount: sa.Email}
		b.Principal = sa.Email
	default:
		return fail(fmt.Sprintf("bearer kind %q cannot call IAM Credentials", c.Keyless.Kind))
	}
	return b, nil
}

// ImpersonationRequest is common to the four IAM Credentials methods.
type ImpersonationRequest struct {
	Bearer    string   // the raw bearer token
	Name      string   // projects/-/serviceAccounts/EMAIL_OR_ID (already URL-unescaped)
	Delegates []string // projects/-/serviceAccounts/EMAIL
	// generateAccessToken
	Scope    []string
	Lifetime string // protobuf Duration, e.g. "3600s"
	// generateIdToken
	Audience     string
	IncludeEmail bool
	// signJwt / signBlob
	Payload []byte
}

// ImpersonationResult is the outcome of an IAM Credentials call.
type ImpersonationResult struct {
	AccessToken string
	ExpireTime  time.Time
	IDToken     string
	KeyID       string
	Signed      []byte // signBlob signature or signJwt compact JWT
	DecisionID  string
	Trace       *Trace
}

var methodPermission = map[string]string{
	"generateAccessToken": iam.PermGetAccessToken,
	"generateIdToken":     iam.PermGetOpenIDToken,
	"signJwt":             iam.PermSignJwt,
	"signBlob":            iam.PermSignBlob,
}

// Impersonate runs an IAM Credentials method (meta.Method names it).
func (e *Engine) Impersonate(ctx context.Context, req ImpersonationRequest, meta Meta) (*ImpersonationResult, *Error) {
	started := e.opts.Now()
	snap := e.snap.Load()
	tr := &Trace{}
	ev := &audit.Event{}
	res, derr := e.impersonate(ctx, snap, req, tr, ev, meta)
	if derr = e.finish(ctx, ev, tr, derr, started, meta); derr != nil {
		return nil, derr
	}
	res.DecisionID, res.Trace = ev.DecisionID, tr
	return res, nil
}

func (e *Engine) impersonate(ctx context.Context, snap *Snapshot, req ImpersonationRequest, tr *Trace, ev *audit.Event, meta Meta) (*ImpersonationResult, *Error) {
	perm, ok := methodPermission[meta.Method]
	if !ok {
		return nil, deny(CodeInvalidArgument, "request", "unknown method", "unknown method "+meta.Method)
	}
	b, derr := e.Authenticate(ctx, snap, req.Bearer)
	if derr != nil {
		tr.fail("bearer", "send a keyless access token from /v1/token or generateAccessToken", nil, "%s", derr.Detail)
		return nil, derr
	}
	ev.Principal = b.Principal
	ev.Provider = b.Claims.Keyless.Provider
	ev.Attributes = b.Claims.Keyless.Attributes
	ev.Correlation = b.Claims.Keyless.Correlation
	tr.ok("bearer", "caller %s", b.Principal)
	if !hasAny(strings.Fields(b.Claims.Scope), iamScopes) && b.Claims.Keyless.Kind == KindFederated {
		tr.fail("scope", "request scope https://www.googleapis.com/auth/cloud-platform in the STS exchange", nil, "token scope %q", b.Claims.Scope)
		return nil, &Error{Code: CodePermissionDenied, Stage: "scope", Public: "Request had insufficient authentication scopes.",
			Detail: fmt.Sprintf("federated token scope %q lacks cloud-platform or iam", b.Claims.Scope), Permission: perm}
	}

	// Resolve the target and the delegation chain.
	ref, err := iam.ParseServiceAccountResource(req.Name)
	target := ref.Email + ref.UniqueID
	if err != nil {
		tr.fail("request", "", nil, "name %q: %v", req.Name, err)
		return nil, deny(CodeInvalidArgument, "request", "invalid service account resource name", err.Error())
	}
	notFound := func(who string) *Error {
		// Google answers "-" lookups of unknown accounts with 403, so existence is not revealed.
		return &Error{Code: CodePermissionDenied, Stage: "service_account_unknown",
			Public: fmt.Sprintf("Permission '%s' denied on resource (or it may not exist).", perm),
			Detail: fmt.Sprintf("service account %q does not exist or is disabled", who), Permission: perm}
	}
	sa := snap.ServiceAccount(target)
	if sa == nil || sa.Disabled {
		tr.fail("service_account", "check the email in the impersonation URL", nil, "service account %q does not exist or is disabled", target)
		return nil, notFound(target)
	}
	ev.ServiceAccount = sa.Email
	chain := make([]*ServiceAccount, 0, len(req.Delegates)+1)
	for _, d := range req.Delegates {
		dref, err := iam.ParseServiceAccountResource(d)
		de := dref.Email + dref.UniqueID
		if err != nil {
			tr.fail("request", "", nil, "delegate %q: %v", d, err)
			return nil, deny(CodeInvalidArgument, "request", "invalid delegate resource name", err.Error())
		}
		dsa := snap.ServiceAccount(de)
		if dsa == nil || dsa.Disabled {
			tr.fail("delegates", "", nil, "delegate %q does not exist or is disabled", de)
			return nil, notFound(de)
		}
		chain = append(chain, dsa)
		ev.Delegates = append(ev.Delegates, dsa.Email)
	}
	chain = append(chain, sa)

	// Method arguments.
	now := e.opts.Now()
	lifetime := e.opts.MaxTokenLifetime
	switch meta.Method {
	case "generateAccessToken":
		if len(req.Scope) == 0 {
			tr.fail("request", "", nil, "scope is empty")
			return nil, deny(CodeInvalidArgument, "request", "Scope required.", "scope is empty")
		}
		if req.Lifetime != "" {
			d, err := parseProtoDuration(req.Lifetime)
			if err != nil || d <= 0 || d > e.opts.MaxTokenLifetime {
				tr.fail("request", fmt.Sprintf("lifetime must be between 1s and %s", e.opts.MaxTokenLifetime), nil, "lifetime %q", req.Lifetime)
				return nil, deny(CodeInvalidArgument, "lifetime",
					fmt.Sprintf("The lifetime must be between 1s and %ds.", int(e.opts.MaxTokenLifetime/time.Second)),
					fmt.Sprintf("lifetime %q out of range", req.Lifetime))
			}
			lifetime = d
		}
	case "generateIdToken":
		if req.Audience == "" {
			tr.fail("request", "", nil, "audience is empty")
			return nil, deny(CodeInvalidArgument, "request", "Audience required.", "audience is empty")
		}
	case "signJwt", "signBlob":
		if len(req.Payload) == 0 {
			tr.fail("request", "", nil, "payload is empty")
			return nil, deny(CodeInvalidArgument, "request", "Payload required.", "payload is empty")
		}
	}

	if derr := authorizeChain(b.Caller, b.Principal, chain, perm, now, tr); derr != nil {
		return nil, derr
	}

	res := &ImpersonationResult{}
	if meta.DryRun {
		tr.ok("mint", "dry run: %s would succeed", meta.Method)
		return res, nil
	}
	ev.DecisionID = audit.NewDecisionID(now, e.opts.Rand)
	act := b.actor()
	for _, d := range chain[:len(chain)-1] {
		act = &Actor{Sub: d.Email, Act: act}
	}
	var mintErr error
	switch meta.Method {
	case "generateAccessToken":
		lifetime = lifetime.Truncate(time.Second)
		c := AccessClaims{Iss: snap.Issuer, Sub: sa.UniqueID, Aud: snap.Issuer, Email: sa.Email,
			Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(lifetime).Unix(), Jti: e.newJTI(),
			Scope: strings.Join(req.Scope, " "), Act: act,
			Keyless: &KeylessClaims{Kind: KindServiceAccount, Correlation: ev.Correlation, DecisionID: ev.DecisionID}}
		res.AccessToken, _, mintErr = e.opts.Signer.Sign(ctx, e.opts.SigningAlg, signing.TypAccessToken, c)
		res.ExpireTime = time.Unix(c.Exp, 0).UTC()
		ev.IssuedJTI, ev.IssuedTokenSHA256 = c.Jti, audit.TokenHash(res.AccessToken)
	case "generateIdToken":
		c := IDClaims{Iss: snap.Issuer, Sub: sa.UniqueID, Aud: req.Audience, Azp: sa.UniqueID,
			Iat: now.Unix(), Exp: now.Add(time.Hour).Unix(), Jti: e.newJTI(), Act: act}
		if req.IncludeEmail {
			t := true
			c.Email, c.EmailVerified = sa.Email, &t
		}
		res.IDToken, _, mintErr = e.opts.Signer.Sign(ctx, e.opts.SigningAlg, signing.TypIDToken, c)
		res.ExpireTime = time.Unix(c.Exp, 0).UTC()
		ev.IssuedJTI, ev.IssuedTokenSHA256 = c.Jti, audit.TokenHash(res.IDToken)
	case "signJwt":
		payload, err := signJwtPayload(req.Payload, now)
		if err != nil {
			tr.fail("request", "", nil, "payload: %v", err)
			return nil, deny(CodeInvalidArgument, "payload", "Payload must be a JSON object of claims with a valid exp.", err.Error())
		}
		var tok string
		// The account's own key, never the issuer's: a signJwt payload may claim any iss,
		// and must not verify against keyless's JWKS.
		tok, res.KeyID, mintErr = e.opts.Signer.SignAs(ctx, sa.UniqueID, signing.RS256, signing.TypIDToken, payload)
		res.Signed = []byte(tok)
		ev.IssuedTokenSHA256 = audit.TokenHash(tok)
	case "signBlob":
		res.Signed, res.KeyID, mintErr = e.opts.Signer.SignBytesAs(ctx, sa.UniqueID, signing.RS256, req.Payload)
	}
	if mintErr != nil {
		tr.fail("mint", "", nil, "signing failed: %v", mintErr)
		return nil, &Error{Code: CodeInternal, Stage: "mint", Public: "internal error", Detail: mintErr.Error()}
	}
	if !res.ExpireTime.IsZero() {
		exp := res.ExpireTime
		ev.Expiry = &exp
	}
	tr.ok("mint", "%s for %s as %s", meta.Method, sa.Email, b.Principal)
	return res, nil
}

// signJwtPayload validates signJwt claims: a JSON object; exp defaults to now+1h and
// may be at most 12 h ahead, as Google enforces.
func signJwtPayload(p []byte, now time.Time) (map[string]any, error) {
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(p)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	switch exp := claims["exp"].(type) {
	case nil:
		claims["exp"] = now.Add(time.Hour).Unix()
	case json.Number:
		v, err := exp.Int64()
		if err != nil {
			return nil, fmt.Errorf("exp is not an integer")
		}
		if v > now.Add(12*time.Hour).Unix() {
			return nil, fmt.Errorf("exp is more than 12 hours in the future")
		}
	default:
		return nil, fmt.Errorf("exp is not a number")
	}
	return claims, nil
}

// parseProtoDuration parses a google.protobuf.Duration JSON string ("3600s", "1.5s").
func parseProtoDuration(s string) (time.Duration, error) {
	if !strings.HasSuffix(s, "s") {
		return 0, fmt.Errorf("duration %q must end in s", s)
	}
	return time.ParseDuration(s)
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// authorizeChain checks each hop: caller -> delegates... -> target. Every hop but the
// last needs implicitDelegation on the next account; the last needs perm.
func authorizeChain(caller iam.Caller, who string, chain []*ServiceAccount, perm string, now time.Time, tr *Trace) *Error {
	for i, hop := range chain {
		need := perm
		if i < len(chain)-1 {
			need = iam.PermImplicitDelegation
		}
		d := hop.Policy.Explain(caller, need, now)
		if !d.Allowed {
			tr.fail("authorize", fmt.Sprintf("grant %s a role with %s on %s (e.g. roles/iam.workloadIdentityUser to a principalSet matching it)", who, need, hop.Email), d.Trace,
				"no binding on %s grants %s to %s", hop.Email, need, who)
			return &Error{Code: CodePermissionDenied, Stage: "no_binding",
				Public: fmt.Sprintf("Permission '%s' denied on resource (or it may not exist).", need),
				Detail: fmt.Sprintf("no binding on %s grants %s to %s", hop.Email, need, who), Permission: need}
		}
		tr.okData("authorize", d.Trace, "%s has %s on %s via binding %d (%s)", who, need, hop.Email, d.Binding, d.Member)
		caller = iam.Caller{ServiceAccount: hop.Email}
		who = hop.Email
	}
	return nil
}
