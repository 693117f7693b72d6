package exchange

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/celpolicy"
	"github.com/keylessdev/keyless/internal/credential/oidc"
	"github.com/keylessdev/keyless/internal/iam"
	"github.com/keylessdev/keyless/internal/signing"
)

// RFC 8693 and Google STS constants.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAWS4Request   = "urn:ietf:params:aws:token-type:aws4_request"
	TokenTypeSAML2         = "urn:ietf:params:oauth:token-type:saml2"
	TokenTypeMTLS          = "urn:ietf:params:oauth:token-type:mtls"

	// MaxSubjectTokenBytes bounds subject tokens (SPEC §5.1).
	MaxSubjectTokenBytes = 16 << 10
)

// STSRequest is a parsed token-exchange request (any encoding).
type STSRequest struct {
	GrantType          string
	Audience           string
	Scope              []string
	RequestedTokenType string
	SubjectToken       string
	SubjectTokenType   string
	Options            string
}

// STSResult is a successful exchange.
type STSResult struct {
	AccessToken     string
	IssuedTokenType string
	TokenType       string
	ExpiresIn       int64
	DecisionID      string
	Principal       string
	Trace           *Trace
	// Attributes and Subject are exposed for explain.
	Attributes *celpolicy.Attributes
}

// ExchangeSTS runs the Google STS token exchange.
func (e *Engine) ExchangeSTS(ctx context.Context, req STSRequest, meta Meta) (*STSResult, *Error) {
	started := e.opts.Now()
	snap := e.snap.Load()
	tr := &Trace{}
	ev := &audit.Event{}
	if req.SubjectToken != "" {
		ev.SubjectTokenSHA256 = audit.TokenHash(req.SubjectToken)
	}
	res, derr := e.exchangeSTS(ctx, snap, req, tr, ev, meta)
	if derr = e.finish(ctx, ev, tr, derr, started, meta); derr != nil {
		return nil, derr
	}
	res.DecisionID, res.Trace = ev.DecisionID, tr
	return res, nil
}

func (e *Engine) exchangeSTS(ctx context.Context, snap *Snapshot, req STSRequest, tr *Trace, ev *audit.Event, meta Meta) (*STSResult, *Error) {
	// 0. Request shape.
	switch req.GrantType {
	case GrantTypeTokenExchange:
	case "":
		tr.fail("request", "send grant_type="+GrantTypeTokenExchange, nil, "grant_type is missing")
		return nil, deny(CodeInvalidRequest, "request", "grant_type is required", "grant_type is missing")
	default:
		tr.fail("request", "send grant_type="+GrantTypeTokenExchange, nil, "unsupported grant_type %q", req.GrantType)
		return nil, deny(CodeUnsupportedGrantType, "grant_type", "only the token-exchange grant type is supported",
			fmt.Sprintf("unsupported grant_type %q", req.GrantType))
	}
	if req.RequestedTokenType != "" && req.RequestedTokenType != TokenTypeAccessToken {
		tr.fail("request", "request requested_token_type="+TokenTypeAccessToken, nil, "unsupported requested_token_type %q", req.RequestedTokenType)
		return nil, deny(CodeInvalidRequest, "requested_token_type", "requested_token_type must be "+TokenTypeAccessToken,
			fmt.Sprintf("unsupported requested_token_type %q", req.RequestedTokenType))
	}
	switch req.SubjectTokenType {
	case TokenTypeJWT, TokenTypeIDToken, TokenTypeAWS4Request:
	case "":
		tr.fail("request", "", nil, "subject_token_type is missing")
		return nil, deny(CodeInvalidRequest, "request", "subject_token_type is required", "subject_token_type is missing")
	default:
		tr.fail("request", "", nil, "unsupported subject_token_type %q", req.SubjectTokenType)
		return nil, deny(CodeInvalidRequest, "subject_token_type", "unsupported subject_token_type",
			fmt.Sprintf("unsupported subject_token_type %q", req.SubjectTokenType))
	}
	token := strings.TrimSpace(req.SubjectToken)
	if token == "" {
		tr.fail("request", "", nil, "subject_token is missing")
		return nil, deny(CodeInvalidRequest, "request", "subject_token is required", "subject_token is missing")
	}
	if len(token) > MaxSubjectTokenBytes {
		tr.fail("request", "", nil, "subject_token is %d bytes, the limit is %d", len(token), MaxSubjectTokenBytes)
		return nil, deny(CodeInvalidRequest, "subject_token_size", "subject_token is too large",
			fmt.Sprintf("subject_token is %d bytes, the limit is %d", len(token), MaxSubjectTokenBytes))
	}

	// 1. Target provider.
	if req.Audience == "" {
		tr.fail("provider", "set audience to //iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER", nil, "audience is missing")
		return nil, deny(CodeInvalidTarget, "provider", "audience is required", "audience is missing")
	}
	pname, err := iam.ParseAudience(req.Audience)
	if err != nil {
		tr.fail("provider", "audience must be the provider's full resource name with the project number", nil, "audience %q: %v", req.Audience, err)
		return nil, deny(CodeInvalidRequest, "audience_format",
			`invalid value for "audience": it must be the full resource name of the provider, naming the project by number`,
			fmt.Sprintf("audience %q: %v", req.Audience, err))
	}
	ev.Provider = pname.String()
	prov := snap.Provider(pname)
	if prov == nil {
		fix := "check the provider id and that the audience names the project by number"
		if snap.Pool(pname.Pool) == nil {
			fix = "no pool " + pname.Pool.String() + " is configured"
		}
		tr.fail("provider", fix, nil, "no provider %s", pname)
		return nil, deny(CodeInvalidTarget, "provider_unknown", "the audience does not name an enabled provider",
			fmt.Sprintf("no provider %s", pname))
	}
	if prov.Pool.Disabled || prov.Disabled {
		what := "provider"
		if prov.Pool.Disabled {
			what = "pool"
		}
		tr.fail("provider", "enable the "+what, nil, "%s is disabled", what)
		return nil, deny(CodeInvalidTarget, "provider_disabled", "the audience does not name an enabled provider",
			fmt.Sprintf("%s of %s is disabled", what, pname))
	}
	var claims map[string]any
	var credExpiry time.Time
	if prov.Kind == "aws" || req.SubjectTokenType == TokenTypeAWS4Request {
		if prov.Kind != "aws" || req.SubjectTokenType != TokenTypeAWS4Request {
			tr.fail("provider", "use subject_token_type jwt/id_token for OIDC providers and aws4_request for AWS providers", nil,
				"subject_token_type %s does not fit %s provider", req.SubjectTokenType, prov.Kind)
			return nil, deny(CodeInvalidRequest, "subject_token_type", "subject_token_type does not fit the provider",
				fmt.Sprintf("subject_token_type %s does not fit %s provider %s", req.SubjectTokenType, prov.Kind, pname))
		}
		tr.ok("provider", "%s (aws, account %s)", pname, prov.AWSAccountID)
		var derr *Error
		if claims, credExpiry, derr = e.verifyAWSSubject(ctx, prov, req.Audience, token, tr, ev); derr != nil {
			return nil, derr
		}
	} else {
		tr.ok("provider", "%s (oidc, issuer %s)", pname, prov.Policy.Issuer)

		// 2. Verify the credential.
		if prov.Keys == nil {
			tr.fail("credential", "configure oidc.jwksJson or make the issuer reachable", nil, "no key source for issuer")
			return nil, deny(CodeInvalidGrant, "key_fetch", "the credential's issuer keys are unavailable", "no key source")
		}
		v, err := oidc.Verify(ctx, prov.Policy, prov.Keys, token, e.opts.Now())
		if err != nil {
			var oe *oidc.Error
			stage, public := "credential", "the credential was rejected"
			if errors.As(err, &oe) {
				stage, public = string(oe.Stage), oe.PublicMessage()
			}
			tr.fail("credential", credentialFix(stage, prov), nil, "%v", err)
			return nil, deny(CodeInvalidGrant, stage, public, err.Error())
		}
		ev.Correlation = correlation(v.Claims)
		tr.ok("credential", "signature verified with key %q (%s); iss %q matches; aud %q accepted; exp %s",
			v.Key.KID, v.Header.Alg, v.Issuer, matchedAudience(v.Audience, prov.Policy.Audiences), v.Expiry.UTC().Format(time.RFC3339))
		claims, credExpiry = v.Claims, v.Expiry
	}

	// 3. Attribute mapping.
	attrs, atrace, err := prov.Mapping.Evaluate(claims)
	if err != nil {
		tr.fail("attribute_mapping", "fix attributeMapping so every expression yields a string (or list of strings) for this credential", atrace, "%v", err)
		return nil, deny(CodeInvalidGrant, "attribute_mapping", "the credential could not be mapped by the provider's attribute mapping", err.Error())
	}
	principal := iam.PrincipalURI(prov.Pool.Name, attrs.Subject)
	ev.Principal, ev.Attributes = principal, attrs.Custom
	tr.okData("attribute_mapping", atrace, "google.subject=%q", attrs.Subject)

	// 4. Attribute condition.
	if prov.Condition != nil {
		cr, err := prov.Condition.Evaluate(claims, attrs)
		if err != nil {
			tr.fail("attribute_condition", "make the condition total: guard optional claims with has()", cr.Clauses, "condition error: %v", err)
			return nil, deny(CodeUnauthorizedClient, "attribute_condition", "the credential was rejected by the attribute condition",
				fmt.Sprintf("condition error: %v", err))
		}
		if !cr.Allowed {
			tr.fail("attribute_condition", "the credential's claims do not satisfy the clause; change the workload or the condition", cr.Clauses, "clause %q is false", cr.FailedClause)
			return nil, deny(CodeUnauthorizedClient, "attribute_condition", "the credential was rejected by the attribute condition",
				fmt.Sprintf("attribute condition clause %q is false", cr.FailedClause))
		}
		tr.okData("attribute_condition", cr.Clauses, "condition is true")
	} else {
		tr.ok("attribute_condition", "no attribute condition (every credential of this issuer is accepted; keyless lint flags this)")
	}
	if e.opts.Observer != nil && !meta.DryRun {
		e.opts.Observer.Subject(ev.Provider, attrs.Subject)
	}

	// 5. Mint the federated token.
	now := e.opts.Now()
	// Google's defaults: an OIDC credential's remaining lifetime capped at one hour; 15
	// minutes for AWS providers; the pool's sessionDuration overrides both.
	lifetime := e.opts.MaxTokenLifetime
	if prov.Kind == "aws" {
		lifetime = min(lifetime, awsFederatedLifetime)
	}
	if prov.Pool.SessionDuration > 0 {
		lifetime = prov.Pool.SessionDuration
	} else if rem := credExpiry.Sub(now); rem < lifetime {
		lifetime = max(rem, time.Second)
	}
	lifetime = lifetime.Truncate(time.Second)
	res := &STSResult{IssuedTokenType: TokenTypeAccessToken, TokenType: "Bearer", ExpiresIn: int64(lifetime / time.Second),
		Principal: principal, Attributes: attrs}
	if meta.DryRun {
		tr.ok("mint", "dry run: a federated token for %s would be issued for %s", principal, lifetime)
		return res, nil
	}
	ev.DecisionID = audit.NewDecisionID(now, e.opts.Rand)
	ev.Correlation = withChain(ev.Correlation, ev.DecisionID)
	at := AccessClaims{
		Iss: snap.Issuer, Sub: principal, Aud: req.Audience,
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(lifetime).Unix(), Jti: e.newJTI(),
		Scope: strings.Join(req.Scope, " "),
		Keyless: &KeylessClaims{Kind: KindFederated, Provider: pname.String(), Pool: prov.Pool.Name.String(),
			Groups: attrs.Groups, Attributes: attrs.Custom, Correlation: ev.Correlation, DecisionID: ev.DecisionID},
	}
	tok, _, err := e.opts.Signer.Sign(ctx, e.opts.SigningAlg, signing.TypAccessToken, at)
	if err != nil {
		tr.fail("mint", "", nil, "signing failed: %v", err)
		return nil, &Error{Code: CodeInternal, Stage: "mint", Public: "internal error", Detail: err.Error()}
	}
	exp := time.Unix(at.Exp, 0).UTC()
	ev.IssuedTokenSHA256, ev.IssuedJTI, ev.Expiry = audit.TokenHash(tok), at.Jti, &exp
	tr.ok("mint", "federated token for %s, %s, jti %s", principal, lifetime, at.Jti)
	res.AccessToken = tok
	return res, nil
}

// credentialFix suggests what to change for a credential failure stage.
func credentialFix(stage string, p *Provider) string {
	switch stage {
	case "audience":
		if p.DefaultAudiences {
			return "the token's aud must be " + p.Name.HTTPSAudience() + " (or the // form); mint the token with that audience or set oidc.allowedAudiences"
		}
		return fmt.Sprintf("the token's aud must be one of %v (oidc.allowedAudiences)", p.Policy.Audiences)
	case "issuer":
		return "the token's iss must equal oidc.issuerUri " + p.Policy.Issuer + " exactly (trailing slash included)"
	case "expired":
		return "the credential expired; fetch a fresh token from the workload's platform"
	case "signature", "key_fetch":
		return "check that the issuer's JWKS (discovery or oidc.jwksJson) holds the key that signed the token"
	case "lifetime":
		return "tokens valid for more than 48 hours are refused; mint shorter-lived tokens"
	}
	return ""
}

// correlation picks the credential claims that let audit follow a workload across
// exchanges: jti, GitHub run ids, Kubernetes pod uid.
func correlation(claims map[string]any) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"jti", "run_id", "run_attempt", "repository", "workflow_ref"} {
		if s, ok := claims[k].(string); ok && s != "" && len(s) <= 256 {
			out[k] = s
		}
	}
	if k8s, ok := claims["kubernetes.io"].(map[string]any); ok {
		if pod, ok := k8s["pod"].(map[string]any); ok {
			if uid, ok := pod["uid"].(string); ok && len(uid) <= 64 {
				out["pod_uid"] = uid
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// matchedAudience names the token audience that the provider accepted (for the trace).
func matchedAudience(have, allowed []string) string {
	for _, h := range have {
		if slices.Contains(allowed, h) {
			return h
		}
	}
	return ""
}
