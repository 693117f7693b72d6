package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/awspolicy"
	"github.com/keylessdev/keyless/internal/awssession"
	"github.com/keylessdev/keyless/internal/credential/oidc"
	"github.com/keylessdev/keyless/internal/jose"
)

// AWS STS error codes the engine decides (the AWS dialect writes them).
const (
	AWSInvalidIdentityToken   = "InvalidIdentityToken"
	AWSExpiredTokenException  = "ExpiredTokenException"
	AWSIDPCommunicationError  = "IDPCommunicationError"
	AWSAccessDenied           = "AccessDenied"
	AWSValidationError        = "ValidationError"
	AWSInvalidParameterValue  = "InvalidParameterValue"
	AWSInvalidClientTokenID   = "InvalidClientTokenId"
	AWSSignatureDoesNotMatch  = "SignatureDoesNotMatch"
	AWSExpiredToken           = "ExpiredToken"
	AWSIncompleteSignature    = "IncompleteSignature"
	AWSMissingAuthToken       = "MissingAuthenticationToken"
	AWSInternalFailure        = "InternalFailure"
	awsNotAuthorizedAssume    = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	awsDefaultSessionDuration = time.Hour
	// awsFederatedLifetime is Google's default federated token lifetime for AWS providers.
	awsFederatedLifetime = 15 * time.Minute
	// awsMaxWebIdentityToken is STS's limit on WebIdentityToken (characters).
	awsMaxWebIdentityToken = 20000
	// awsMaxSkew is SigV4's clock window.
	awsMaxSkew = 15 * time.Minute
)

// Claims AWS reads from web identity tokens (aws-azure-protocol.md §3.3).
const (
	claimSourceIdentity = "https://aws.amazon.com/source_identity"
	claimSessionTags    = "https://aws.amazon.com/tags"
)

// githubConditionClaims are the GitHub Actions claims STS exposes as condition keys
// (token.actions.githubusercontent.com:<claim>) since 2026.
var githubConditionClaims = []string{"actor", "actor_id", "job_workflow_ref", "repository", "repository_id",
	"workflow", "ref", "environment", "enterprise_id"}

// AssumeRoleRequest is a decoded sts:AssumeRoleWithWebIdentity call.
type AssumeRoleRequest struct {
	RoleArn, RoleSessionName, WebIdentityToken string
	// DurationSeconds is 0 when not sent (one hour).
	DurationSeconds int
	// Session policies and OAuth2 provider ids; keyless refuses them (it does not
	// evaluate permission policies, so a scope-down would be a silent no-op).
	Policy     string
	PolicyArns []string
	ProviderID string
}

// AssumeRoleResult is an allowed AssumeRoleWithWebIdentity.
type AssumeRoleResult struct {
	Credentials                 awssession.Credentials
	Session                     awssession.Session
	SubjectFromWebIdentityToken string
	Audience                    string
	Provider                    string // the IAM OIDC provider ARN
	SourceIdentity              string
	DecisionID                  string
	Trace                       *Trace
	// Policy is the trust-policy decision (for explain).
	Policy *awspolicy.Decision
}

// awsDeny builds an AWS-coded denial.
func awsDeny(code Code, awsCode, stage, public, detail string) *Error {
	return &Error{Code: code, AWSCode: awsCode, Stage: stage, Public: public, Detail: detail}
}

// AssumeRoleWithWebIdentity runs sts:AssumeRoleWithWebIdentity: it finds the IAM OIDC
// provider of the role's account for the token's issuer, verifies the token with that
// provider's keys and client ids, evaluates the role's trust policy and issues sealed
// session credentials.
func (e *Engine) AssumeRoleWithWebIdentity(ctx context.Context, req AssumeRoleRequest, meta Meta) (*AssumeRoleResult, *Error) {
	started := e.opts.Now()
	snap := e.snap.Load()
	tr := &Trace{}
	ev := &audit.Event{AWS: &audit.AWSRecord{
		EventName: "AssumeRoleWithWebIdentity", EventSource: "sts.amazonaws.com", ReadOnly: true,
		UserIdentity: audit.AWSUserIdentity{Type: "WebIdentityUser"},
		RequestParameters: &audit.AWSRequestParameters{RoleArn: req.RoleArn, RoleSessionName: req.RoleSessionName,
			DurationSeconds: req.DurationSeconds},
	}}
	if req.WebIdentityToken != "" {
		ev.SubjectTokenSHA256 = audit.TokenHash(req.WebIdentityToken)
	}
	res, derr := e.assumeRole(ctx, snap, req, tr, ev, meta)
	if derr != nil {
		if derr.AWSCode == "" {
			derr.AWSCode = AWSInternalFailure
		}
		ev.AWS.ErrorCode, ev.AWS.ErrorMessage = derr.AWSCode, derr.Public
	}
	if derr = e.finish(ctx, ev, tr, derr, started, meta); derr != nil {
		if derr.AWSCode == "" {
			derr.AWSCode = AWSInternalFailure
		}
		return nil, derr
	}
	res.DecisionID, res.Trace = ev.DecisionID, tr
	return res, nil
}

func (e *Engine) assumeRole(ctx context.Context, snap *Snapshot, req AssumeRoleRequest, tr *Trace, ev *audit.Event, meta Meta) (*AssumeRoleResult, *Error) {
	// 0. Request shape (the dialect enforces the STS model; these are keyless's limits).
	switch {
	case req.Policy != "" || len(req.PolicyArns) > 0:
		tr.fail("request", "omit Policy and PolicyArns: keyless grants what the role's configuration says and does not evaluate session policies", nil,
			"session policies were passed")
		return nil, awsDeny(CodeInvalidRequest, AWSInvalidParameterValue, "session_policy",
			"keyless does not support session policies (Policy, PolicyArns)", "session policies were passed")
	case req.ProviderID != "":
		tr.fail("request", "omit ProviderId: keyless accepts OIDC ID tokens, whose issuer names the provider", nil, "ProviderId %q was passed", clip(req.ProviderID))
		return nil, awsDeny(CodeInvalidRequest, AWSInvalidParameterValue, "provider_id",
			"ProviderId is only for OAuth 2.0 access tokens, which keyless does not accept", "ProviderId was passed")
	}
	account, err := roleAccount(req.RoleArn)
	if err != nil {
		tr.fail("request", "RoleArn must be arn:aws:iam::ACCOUNT:role/PATH/NAME", nil, "%v", err)
		return nil, awsDeny(CodeInvalidRequest, AWSInvalidParameterValue, "request", "Invalid RoleArn", err.Error())
	}
	ev.AWS.RecipientAccountID = account
	ev.AWS.Resources = []audit.AWSResource{{AccountID: account, Type: "AWS::IAM::Role", ARN: req.RoleArn}}

	// 1. The IAM OIDC provider: the token's issuer, looked up in the role's account.
	// The issuer is read before verification only to choose the provider's keys; it is
	// trusted after the signature verifies against them and iss matches exactly.
	parsed, iss, err := peekIssuer(req.WebIdentityToken)
	if err != nil {
		tr.fail("provider", "send an OIDC ID token (a compact JWS with an iss claim)", nil, "%v", err)
		return nil, awsDeny(CodeInvalidGrant, AWSInvalidIdentityToken, "format", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)", err.Error())
	}
	prov := snap.awsProviderForIssuer(account, iss)
	if prov == nil {
		tr.fail("provider", fmt.Sprintf("add an openIDConnectProviders entry with url %q to aws account %s (the match is exact: scheme, host, path, trailing slash)", iss, account), nil,
			"no OpenID Connect provider for issuer %q in account %s", clip(iss), account)
		return nil, awsDeny(CodeInvalidGrant, AWSInvalidIdentityToken, "provider_unknown",
			"No OpenIDConnect provider found in your account for "+clip(iss), fmt.Sprintf("no provider for issuer %q in account %s", clip(iss), account))
	}
	ev.Provider = prov.ARN
	ev.AWS.UserIdentity.IdentityProvider = prov.ARN
	tr.ok("provider", "%s (issuer %s, client ids %v)", prov.ARN, prov.URL, prov.ClientIDs)

	// 2. Verify the token.
	if prov.Keys == nil {
		tr.fail("credential", "configure jwksJson on the provider or make the issuer reachable", nil, "no key source for issuer")
		return nil, awsDeny(CodeUnavailable, AWSIDPCommunicationError, "key_fetch",
			"Couldn't retrieve verification key from your identity provider", "no key source")
	}
	v, err := oidc.VerifyParsed(ctx, prov.Policy, prov.Keys, parsed, e.opts.Now())
	if err != nil {
		stage := string(oidc.StageOf(err))
		tr.fail("credential", awsCredentialFix(stage, prov), nil, "%v", err)
		switch oidc.Stage(stage) {
		case oidc.StageExpired:
			return nil, awsDeny(CodeInvalidGrant, AWSExpiredTokenException, stage, "Token expired", err.Error())
		case oidc.StageKeyFetch:
			return nil, awsDeny(CodeUnavailable, AWSIDPCommunicationError, stage,
				"Couldn't retrieve verification key from your identity provider", err.Error())
		case oidc.StageAudience:
			return nil, awsDeny(CodeInvalidGrant, AWSInvalidIdentityToken, stage, "Incorrect token audience", err.Error())
		}
		public := "The web identity token was rejected"
		var oe *oidc.Error
		if errors.As(err, &oe) {
			public = oe.PublicMessage()
		}
		return nil, awsDeny(CodeInvalidGrant, AWSInvalidIdentityToken, stage, public, err.Error())
	}
	aud := matchedAudience(v.Audience, prov.ClientIDs)
	ev.Correlation = correlation(v.Claims)
	ev.AWS.UserIdentity.UserName = v.Subject
	ev.AWS.UserIdentity.PrincipalID = prov.ARN + ":" + aud + ":" + v.Subject
	tr.ok("credential", "signature verified with key %q (%s); iss %q matches; aud %q is a client id; exp %s",
		v.Key.KID, v.Header.Alg, v.Issuer, aud, v.Expiry.UTC().Format(time.RFC3339))

	// 3. Session attributes the token asks for.
	sourceIdentity, tags, transitive, serr := sessionClaims(v.Claims)
	if serr != "" {
		tr.fail("session_claims", "fix the token's "+claimSourceIdentity+" / "+claimSessionTags+" claims", nil, "%s", serr)
		return nil, awsDeny(CodeInvalidGrant, AWSInvalidIdentityToken, "session_claims", "The web identity token's session claims are invalid", serr)
	}
	ev.AWS.RequestParameters.SourceIdentity = sourceIdentity
	ev.AWS.RequestParameters.PrincipalTags, ev.AWS.RequestParameters.TransitiveTagKeys = tags, transitive

	// 4. The role and its trust policy. An unknown role answers like a denial, as AWS
	// does, so the API does not reveal which roles exist.
	role := snap.AWSRole(req.RoleArn)
	if role == nil {
		tr.fail("trust_policy", "no role "+req.RoleArn+" is configured (check the account, path and name)", nil, "no role %s", req.RoleArn)
		return nil, awsDeny(CodePermissionDenied, AWSAccessDenied, "role_unknown", awsNotAuthorizedAssume, "no role "+req.RoleArn)
	}
	now := e.opts.Now()
	keys := awsConditionKeys(prov, v, req.RoleSessionName, sourceIdentity, tags, transitive, now, meta)
	actions := []string{awspolicy.ActionAssumeRoleWithWebIdentity}
	if len(tags) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if sourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	var decisions []awspolicy.Decision
	for _, act := range actions {
		d := role.Trust.Evaluate(awspolicy.Request{Action: act, Federated: prov.ARN, Context: keys})
		decisions = append(decisions, d)
		if !d.Allowed {
			tr.fail("trust_policy", trustFix(act, d), policyTrace(act, keys, actions, decisions), "%s: %s", act, d.Reason)
			return nil, awsDeny(CodePermissionDenied, AWSAccessDenied, "trust_policy", awsNotAuthorizedAssume,
				fmt.Sprintf("trust policy of %s denies %s: %s", role.ARN, act, d.Reason))
		}
	}
	tr.okData("trust_policy", policyTrace("", keys, actions, decisions), "trust policy of %s allows %s", role.ARN, strings.Join(actions, ", "))
	if e.opts.Observer != nil && !meta.DryRun {
		e.opts.Observer.Subject(prov.ARN, v.Subject)
	}

	// 5. Duration.
	dur := awsDefaultSessionDuration
	if req.DurationSeconds != 0 {
		dur = time.Duration(req.DurationSeconds) * time.Second
	}
	if dur > role.MaxSessionDuration {
		tr.fail("duration", fmt.Sprintf("request at most %d seconds or raise the role's maxSessionDuration", int(role.MaxSessionDuration/time.Second)), nil,
			"DurationSeconds %d exceeds the role's MaxSessionDuration %d", req.DurationSeconds, int(role.MaxSessionDuration/time.Second))
		return nil, awsDeny(CodeInvalidRequest, AWSValidationError, "duration",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
			fmt.Sprintf("DurationSeconds %d > MaxSessionDuration %d", req.DurationSeconds, int(role.MaxSessionDuration/time.Second)))
	}
	if dur > awssession.MaxDuration {
		dur = awssession.MaxDuration
	}
	tr.ok("duration", "%s (role maximum %s)", dur, role.MaxSessionDuration)

	// 6. Issue.
	res := &AssumeRoleResult{SubjectFromWebIdentityToken: v.Subject, Audience: aud, Provider: prov.ARN,
		SourceIdentity: sourceIdentity, Policy: &decisions[0]}
	sess := awssession.Session{AccountID: role.AccountID, RoleName: role.Name, RolePath: role.Path,
		SessionName: req.RoleSessionName, RoleID: role.RoleID, Issued: now, Expiry: now.Add(dur),
		SourceIdentity: sourceIdentity, Subject: clipField(v.Subject), Provider: prov.ARN, Audience: clipField(aud), Tags: tags}
	res.Session = sess
	if meta.DryRun {
		tr.ok("mint", "dry run: credentials for %s would be issued for %s", sess.ARN(), dur)
		return res, nil
	}
	ev.DecisionID = audit.NewDecisionID(now, e.opts.Rand)
	ev.Correlation = withChain(ev.Correlation, ev.DecisionID)
	sess.DecisionID, sess.Correlation = ev.DecisionID, boundCorrelation(ev.Correlation)
	sealer, err := e.sessionSealer(ctx)
	if err != nil {
		tr.fail("mint", "", nil, "session keys: %v", err)
		return nil, awsDeny(CodeInternal, AWSInternalFailure, "mint", "internal error", err.Error())
	}
	creds, err := sealer.Issue(sess, e.opts.Rand)
	if err != nil {
		tr.fail("mint", "", nil, "issuing the session: %v", err)
		return nil, awsDeny(CodeInternal, AWSInternalFailure, "mint", "internal error", err.Error())
	}
	res.Credentials, res.Session = creds, sess
	ev.Principal = sess.ARN()
	ev.IssuedTokenSHA256, ev.IssuedJTI, ev.Expiry = audit.TokenHash(creds.SessionToken), creds.AccessKeyID, &creds.Expiration
	ev.AWS.ResponseElements = &audit.AWSResponseElements{
		Credentials:                 &audit.AWSCredentials{AccessKeyID: creds.AccessKeyID, Expiration: creds.Expiration.Format(time.RFC3339)},
		SubjectFromWebIdentityToken: v.Subject,
		AssumedRoleUser:             &audit.AWSAssumedRoleUser{AssumedRoleID: sess.AssumedRoleID(), ARN: sess.ARN()},
		Provider:                    prov.ARN, Audience: aud, SourceIdentity: sourceIdentity,
	}
	tr.ok("mint", "credentials %s for %s until %s", creds.AccessKeyID, sess.ARN(), creds.Expiration.Format(time.RFC3339))
	return res, nil
}

// roleAccount returns the account of an IAM role ARN.
func roleAccount(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "iam" || parts[3] != "" ||
		len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" || !strings.HasPrefix(parts[5], "role/") {
		return "", fmt.Errorf("%q is not an IAM role ARN", clip(arn))
	}
	return parts[4], nil
}

// peekIssuer parses a web identity token (once: the verifier reuses the result) and
// reads its unverified iss, only to choose the provider whose keys will verify it.
func peekIssuer(token string) (*jose.Token, string, error) {
	t, err := jose.ParseCompact(strings.TrimSpace(token), awsMaxWebIdentityToken)
	if err != nil {
		return nil, "", fmt.Errorf("web identity token: %v", err)
	}
	iss, _ := t.Claims["iss"].(string)
	if iss == "" {
		return nil, "", errors.New("web identity token has no iss claim")
	}
	return t, iss, nil
}

// sessionClaims reads the source identity and session tags claims.
func sessionClaims(claims map[string]any) (sourceIdentity string, tags map[string]string, transitive []string, problem string) {
	if raw, ok := claims[claimSourceIdentity]; ok {
		s, ok := raw.(string)
		if !ok || !awsNameLike(s, 2, 64) {
			return "", nil, nil, "source identity must be 2..64 characters of [\\w+=,.@-]"
		}
		sourceIdentity = s
	}
	raw, ok := claims[claimSessionTags]
	if !ok {
		return sourceIdentity, nil, nil, ""
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return "", nil, nil, "session tags claim must be an object"
	}
	pt, _ := obj["principal_tags"].(map[string]any)
	if len(pt) > awssession.MaxTags {
		return "", nil, nil, fmt.Sprintf("more than %d session tags", awssession.MaxTags)
	}
	tags = map[string]string{}
	for k, v := range pt {
		// AWS: each tag value is a single-element array of strings.
		arr, ok := v.([]any)
		if !ok || len(arr) != 1 {
			return "", nil, nil, fmt.Sprintf("session tag %q must be an array with one string", clip(k))
		}
		s, ok := arr[0].(string)
		if !ok || k == "" || len(k) > awssession.MaxTagKeyLen || len(s) > awssession.MaxTagValueLen {
			return "", nil, nil, fmt.Sprintf("session tag %q: key 1..128 and value ≤ 256 characters", clip(k))
		}
		tags[k] = s
	}
	if tk, ok := obj["transitive_tag_keys"]; ok {
		arr, ok := tk.([]any)
		if !ok {
			return "", nil, nil, "transitive_tag_keys must be an array of strings"
		}
		for _, x := range arr {
			s, ok := x.(string)
			if _, tagged := tags[s]; !ok || !tagged {
				return "", nil, nil, "transitive_tag_keys must name principal tags"
			}
			transitive = append(transitive, s)
		}
	}
	if len(tags) == 0 {
		tags = nil
	}
	return sourceIdentity, tags, transitive, ""
}

// awsConditionKeys builds the condition context STS evaluates a trust policy with
// (aws-azure-protocol.md §3.3).
func awsConditionKeys(p *AWSOIDCProvider, v *oidc.Verified, sessionName, sourceIdentity string, tags map[string]string,
	transitive []string, now time.Time, meta Meta) map[string][]string {
	k := map[string][]string{}
	pre := p.KeyPrefix + ":"
	aud := v.Audience
	if azp, ok := v.Claims["azp"].(string); ok && azp != "" && p.KeyPrefix == "accounts.google.com" {
		k[pre+"oaud"] = aud
		aud = []string{azp}
	}
	k[pre+"aud"] = aud
	if v.Subject != "" {
		k[pre+"sub"] = []string{v.Subject}
	}
	if amr := stringsClaim(v.Claims["amr"]); len(amr) > 0 {
		k[pre+"amr"] = amr
	}
	if p.KeyPrefix == "token.actions.githubusercontent.com" {
		for _, c := range githubConditionClaims {
			if s := scalarClaim(v.Claims[c]); s != "" {
				k[pre+c] = []string{s}
			}
		}
	}
	k["aws:FederatedProvider"] = []string{p.ARN}
	k["sts:RoleSessionName"] = []string{sessionName}
	k["aws:CurrentTime"] = []string{now.UTC().Format(time.RFC3339)}
	k["aws:EpochTime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	k["aws:SecureTransport"] = []string{strconv.FormatBool(meta.Secure)}
	if ip, err := netip.ParseAddr(meta.CallerIP); err == nil {
		k["aws:SourceIp"] = []string{ip.String()}
	}
	if sourceIdentity != "" {
		k["sts:SourceIdentity"] = []string{sourceIdentity}
	}
	if len(tags) > 0 {
		keys := make([]string, 0, len(tags))
		for tk, tv := range tags {
			k["aws:RequestTag/"+tk] = []string{tv}
			keys = append(keys, tk)
		}
		k["aws:TagKeys"] = keys
	}
	if len(transitive) > 0 {
		k["sts:TransitiveTagKeys"] = transitive
	}
	return k
}

func stringsClaim(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func scalarClaim(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case fmt.Stringer: // json.Number
		return x.String()
	}
	return ""
}

// policyTrace is the trust-policy data recorded in the trace: the condition keys and
// each action's statement-by-statement evaluation.
func policyTrace(failedAction string, keys map[string][]string, actions []string, ds []awspolicy.Decision) map[string]any {
	out := map[string]any{"conditionKeys": keys, "actions": actions[:len(ds)], "decisions": ds}
	if failedAction != "" {
		out["deniedAction"] = failedAction
	}
	return out
}

func trustFix(action string, d awspolicy.Decision) string {
	for _, st := range d.Statements {
		if st.Effect == awspolicy.Deny && st.Matched {
			return "an explicit Deny (" + st.Name() + ") matches; explicit denies win over any Allow"
		}
	}
	switch action {
	case "sts:TagSession":
		return "the token carries session tags: the trust policy must also allow sts:TagSession"
	case "sts:SetSourceIdentity":
		return "the token carries a source identity: the trust policy must also allow sts:SetSourceIdentity"
	}
	return "no Allow statement matches; compare the request's condition keys with the statement's conditions"
}

func awsCredentialFix(stage string, p *AWSOIDCProvider) string {
	switch stage {
	case "audience":
		return fmt.Sprintf("the token's aud must be one of the provider's clientIDList %v", p.ClientIDs)
	case "issuer":
		return "the token's iss must equal the provider url " + p.URL + " exactly"
	case "expired":
		return "the token expired; AWS SDKs re-read the token file, so check that the platform rotates it"
	case "signature", "key_fetch":
		return "check that the issuer's JWKS (discovery or jwksJson) holds the key that signed the token"
	}
	return ""
}

func awsNameLike(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0) {
			return false
		}
	}
	return true
}

// clip bounds attacker-supplied text quoted in messages.
func clip(s string) string {
	const n = 256
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func clipField(s string) string {
	if len(s) <= awssession.MaxFieldLen {
		return s
	}
	return clip(s)
}

// withChain adds the "chain" correlation key (the decision id of the first exchange
// of a credential chain) when absent.
func withChain(c map[string]string, decisionID string) map[string]string {
	if _, ok := c["chain"]; ok {
		return c
	}
	out := make(map[string]string, len(c)+1)
	for k, v := range c {
		out[k] = v
	}
	out["chain"] = decisionID
	return out
}

// boundCorrelation keeps what fits a session token.
func boundCorrelation(c map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range c {
		if len(out) == awssession.MaxCorrelation {
			break
		}
		if len(k) <= awssession.MaxCorrelationKeyLen && len(v) <= awssession.MaxCorrelationValueLen && utf8.ValidString(v) {
			out[k] = v
		}
	}
	return out
}

// ExplainAssumeRole runs AssumeRoleWithWebIdentity as a dry run (no credentials, no
// audit event) and returns its trace.
func (e *Engine) ExplainAssumeRole(ctx context.Context, roleArn, webIdentityToken, sessionName string) (tr *Trace, allowed bool, derr *Error) {
	if sessionName == "" {
		sessionName = "keyless-explain"
	}
	tr = &Trace{}
	ev := &audit.Event{AWS: &audit.AWSRecord{RequestParameters: &audit.AWSRequestParameters{}}}
	_, derr = e.assumeRole(ctx, e.snap.Load(), AssumeRoleRequest{RoleArn: roleArn, RoleSessionName: sessionName,
		WebIdentityToken: strings.TrimSpace(webIdentityToken)}, tr, ev, Meta{Dialect: "explain", Method: "AssumeRoleWithWebIdentity", DryRun: true})
	return tr, derr == nil, derr
}
