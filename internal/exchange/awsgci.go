package exchange

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/awssession"
	"github.com/keylessdev/keyless/internal/credential/awsreq"
)

// CallerIdentityResult is an authenticated sts:GetCallerIdentity.
type CallerIdentityResult struct {
	Arn, Account, UserID string
	Session              awssession.Session
	DecisionID           string
}

// Public texts real STS uses for signature failures.
const (
	awsMsgInvalidToken = "The security token included in the request is invalid."
	awsMsgExpiredToken = "The security token included in the request is expired"
	awsMsgSigMismatch  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	awsMsgMissingAuth  = "Request is missing Authentication Token"
)

// GetCallerIdentity authenticates a SigV4-signed sts:GetCallerIdentity (header-signed
// or presigned) made with keyless-issued session credentials and returns who signed it.
func (e *Engine) GetCallerIdentity(ctx context.Context, r awsreq.SignedRequest, meta Meta) (*CallerIdentityResult, *Error) {
	started := e.opts.Now()
	tr := &Trace{}
	ev := &audit.Event{AWS: &audit.AWSRecord{EventName: "GetCallerIdentity", EventSource: "sts.amazonaws.com", ReadOnly: true,
		UserIdentity: audit.AWSUserIdentity{Type: "AssumedRole"}}}
	sess, derr := e.authenticateAWS(ctx, r, tr, ev, "")
	var res *CallerIdentityResult
	if derr == nil {
		res = &CallerIdentityResult{Arn: sess.ARN(), Account: sess.AccountID, UserID: sess.AssumedRoleID(), Session: *sess}
		ev.AWS.ResponseElements = &audit.AWSResponseElements{Account: res.Account, UserID: res.UserID, ARN: res.Arn}
	} else {
		ev.AWS.ErrorCode, ev.AWS.ErrorMessage = derr.AWSCode, derr.Public
	}
	if derr = e.finish(ctx, ev, tr, derr, started, meta); derr != nil {
		if derr.AWSCode == "" {
			derr.AWSCode = AWSInternalFailure
		}
		return nil, derr
	}
	res.DecisionID = ev.DecisionID
	return res, nil
}

// authenticateAWS verifies a SigV4 request signed with keyless-issued session
// credentials. service, when set, is the credential scope service required ("sts").
func (e *Engine) authenticateAWS(ctx context.Context, r awsreq.SignedRequest, tr *Trace, ev *audit.Event, _ string) (*awssession.Session, *Error) {
	auth, err := awsreq.ParseAuth(r)
	if err != nil {
		if !hasAnyAuth(r) {
			tr.fail("signature", "sign the request with SigV4", nil, "no authorization: %v", err)
			return nil, awsDeny(CodeUnauthenticated, AWSMissingAuthToken, "signature", awsMsgMissingAuth, err.Error())
		}
		tr.fail("signature", "sign the request with SigV4 (AWS4-HMAC-SHA256) and a credential scope for service sts", nil, "%v", err)
		return nil, awsDeny(CodeUnauthenticated, AWSIncompleteSignature, "signature", "The request signature is malformed", err.Error())
	}
	ev.AWS.UserIdentity.AccessKeyID = auth.AccessKeyID
	if auth.Service != "sts" {
		tr.fail("signature", "sign for service sts", nil, "credential scope service %q", auth.Service)
		return nil, awsDeny(CodeUnauthenticated, AWSSignatureDoesNotMatch, "signature", "Credential should be scoped to correct service: 'sts'.",
			fmt.Sprintf("credential scope service %q", auth.Service))
	}
	sess, secret, derr := e.openSession(ctx, auth, tr)
	if derr != nil {
		return nil, derr
	}
	fillAssumedRole(ev, sess)
	now := e.opts.Now()
	if err := awsreq.Verify(r, auth, secret, now, awsMaxSkew); err != nil {
		stage := awsreq.StageOf(err)
		tr.fail("signature", "sign with the secret access key issued with this access key id, with a correct clock", nil, "%v", err)
		msg := awsMsgSigMismatch
		if stage == awsreq.StageDate {
			msg = "Signature expired or not yet current: " + auth.Timestamp.UTC().Format("20060102T150405Z") + " is outside 15 minutes of " + now.UTC().Format("20060102T150405Z")
		}
		return nil, awsDeny(CodeUnauthenticated, AWSSignatureDoesNotMatch, "signature", msg, err.Error())
	}
	tr.ok("signature", "SigV4 signature of %s verified (scope %s)", auth.AccessKeyID, auth.Scope())
	return sess, nil
}

func hasAnyAuth(r awsreq.SignedRequest) bool {
	return r.Headers.Get("Authorization") != "" || containsParam(r.RawQuery, "X-Amz-Signature") || containsParam(r.RawQuery, "X-Amz-Credential")
}

func containsParam(raw, name string) bool {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}

// openSession opens keyless session credentials named by auth.
func (e *Engine) openSession(ctx context.Context, auth *awsreq.Auth, tr *Trace) (*awssession.Session, string, *Error) {
	if auth.SessionToken == "" {
		tr.fail("session", "keyless issues session credentials only: send X-Amz-Security-Token", nil, "no session token with access key %s", auth.AccessKeyID)
		return nil, "", awsDeny(CodeUnauthenticated, AWSInvalidClientTokenID, "session", awsMsgInvalidToken, "no session token")
	}
	sealer, err := e.sessionSealer(ctx)
	if err != nil {
		tr.fail("session", "", nil, "session keys: %v", err)
		return nil, "", awsDeny(CodeInternal, AWSInternalFailure, "session", "internal error", err.Error())
	}
	sess, secret, err := sealer.Open(auth.AccessKeyID, auth.SessionToken, e.opts.Now())
	if err != nil {
		tr.fail("session", "use credentials from a recent AssumeRoleWithWebIdentity answer of this keyless", nil, "%v", err)
		if errors.Is(err, awssession.ErrExpired) {
			return nil, "", awsDeny(CodeUnauthenticated, AWSExpiredToken, "session_expired", awsMsgExpiredToken, err.Error())
		}
		return nil, "", awsDeny(CodeUnauthenticated, AWSInvalidClientTokenID, "session", awsMsgInvalidToken, err.Error())
	}
	tr.ok("session", "session %s of %s, issued %s, expires %s", auth.AccessKeyID, sess.ARN(),
		sess.Issued.Format(time.RFC3339), sess.Expiry.Format(time.RFC3339))
	return &sess, secret, nil
}

// fillAssumedRole records the session behind AssumedRole credentials, CloudTrail style.
func fillAssumedRole(ev *audit.Event, s *awssession.Session) {
	u := &ev.AWS.UserIdentity
	u.Type, u.PrincipalID, u.ARN, u.AccountID = "AssumedRole", s.AssumedRoleID(), s.ARN(), s.AccountID
	path := s.RolePath
	if path == "" {
		path = "/"
	}
	u.SessionContext = &audit.AWSSessionContext{
		SessionIssuer: audit.AWSSessionIssuer{Type: "Role", PrincipalID: s.RoleID, AccountID: s.AccountID, UserName: s.RoleName,
			ARN: "arn:aws:iam::" + s.AccountID + ":role" + path + s.RoleName},
		Attributes: map[string]string{"creationDate": s.Issued.Format(time.RFC3339)},
	}
	if s.Provider != "" {
		u.SessionContext.WebIDFederationData = &audit.AWSWebIDFederationData{FederatedProvider: s.Provider}
	}
	ev.Principal = s.ARN()
	ev.Correlation = s.Correlation
	ev.AWS.RecipientAccountID = s.AccountID
}

// verifyAWSSubject verifies an aws4_request subject token (Google's serialized,
// signed GetCallerIdentity) for an aws provider and returns the assertion the
// provider's mapping reads (arn, account, userid) and when the credential expires.
//
// Credentials keyless issued are verified locally: the session token opens with the
// sealing keys and the SigV4 signature is recomputed with the derived secret. Any
// other credentials are verified by AWS: the request is forwarded, unchanged, to the
// signed STS host (after the host allowlist, binding and date checks), and the answer
// is parsed strictly.
func (e *Engine) verifyAWSSubject(ctx context.Context, prov *Provider, audience, token string, tr *Trace, ev *audit.Event) (map[string]any, time.Time, *Error) {
	now := e.opts.Now()
	g, err := awsreq.ParseSubjectToken(token)
	if err == nil {
		err = g.Check(awsreq.Policy{Audience: audience, AllowedHosts: e.opts.AWSAllowedHosts, Now: now, MaxSkew: awsMaxSkew})
	}
	if err != nil {
		stage := "aws_" + string(awsreq.StageOf(err))
		public := "the AWS signed request was rejected"
		var ae *awsreq.Error
		if errors.As(err, &ae) {
			public = ae.PublicMessage()
		}
		tr.fail("credential", awsSubjectFix(awsreq.StageOf(err), audience), nil, "%v", err)
		return nil, time.Time{}, deny(CodeInvalidGrant, stage, public, err.Error())
	}
	var ci *awsreq.CallerIdentity
	expiry := now.Add(e.opts.MaxTokenLifetime)
	if ours, sess, derr := e.keylessSession(ctx, g, now, tr); derr != nil {
		return nil, time.Time{}, derr
	} else if ours {
		ci = &awsreq.CallerIdentity{Arn: sess.ARN(), Account: sess.AccountID, UserID: sess.AssumedRoleID()}
		expiry = sess.Expiry
		ev.Correlation = sess.Correlation
		tr.ok("credential", "SigV4 signature verified locally: keyless session %s of %s (host %s, binding %s)",
			g.Auth.AccessKeyID, ci.Arn, g.URL.Host, audience)
	} else {
		if e.opts.AWSForwarder == nil {
			tr.fail("credential", "these credentials were not issued by this keyless and forwarding to AWS STS is off", nil,
				"access key %s is not a keyless session and no AWS forwarder is configured", g.Auth.AccessKeyID)
			return nil, time.Time{}, deny(CodeInvalidGrant, "aws_forward_disabled", "the AWS credentials could not be verified",
				"not a keyless session; AWS forwarding disabled")
		}
		ci, err = e.opts.AWSForwarder.Forward(ctx, g)
		if err != nil {
			tr.fail("credential", "AWS STS did not confirm the signed request; check the credentials and the clock, or retry if AWS was unreachable", nil, "%v", err)
			if errors.Is(err, awsreq.ErrUpstreamUnavailable) {
				return nil, time.Time{}, deny(CodeUnavailable, "aws_upstream", "AWS STS is temporarily unavailable", err.Error())
			}
			return nil, time.Time{}, deny(CodeInvalidGrant, "aws_"+string(awsreq.StageOf(err)), "AWS STS rejected the signed request", err.Error())
		}
		tr.ok("credential", "AWS STS %s confirmed the signature: %s", g.URL.Host, ci.Arn)
	}
	if ci.Account != prov.AWSAccountID {
		tr.fail("credential", "the provider trusts AWS account "+prov.AWSAccountID+" only", nil, "caller account %s", ci.Account)
		return nil, time.Time{}, deny(CodeInvalidGrant, "aws_account", "the AWS account is not trusted by this provider",
			fmt.Sprintf("caller %s is in account %s, the provider trusts %s", ci.Arn, ci.Account, prov.AWSAccountID))
	}
	return map[string]any{"arn": ci.Arn, "account": ci.Account, "userid": ci.UserID}, expiry, nil
}

// keylessSession reports whether the signed request carries keyless-issued session
// credentials and, if so, verifies its signature locally. Credentials in another
// format are not ours (ours=false, no error); credentials in keyless's format that do
// not open or verify are refused.
func (e *Engine) keylessSession(ctx context.Context, g *awsreq.GCIRequest, now time.Time, tr *Trace) (bool, *awssession.Session, *Error) {
	a := g.Auth
	if !awssession.ValidAccessKeyID(a.AccessKeyID) || a.SessionToken == "" {
		return false, nil, nil
	}
	sealer, err := e.sessionSealer(ctx)
	if err != nil {
		tr.fail("credential", "", nil, "session keys: %v", err)
		return false, nil, &Error{Code: CodeInternal, Stage: "session", Public: "internal error", Detail: err.Error()}
	}
	sess, secret, err := sealer.Open(a.AccessKeyID, a.SessionToken, now)
	switch {
	case errors.Is(err, awssession.ErrMalformed):
		return false, nil, nil // not a keyless session token: AWS decides
	case errors.Is(err, awssession.ErrExpired):
		tr.fail("credential", "the AWS session expired; assume the role again", nil, "%v", err)
		return false, nil, deny(CodeInvalidGrant, "aws_session_expired", "the AWS credentials have expired", err.Error())
	case err != nil:
		tr.fail("credential", "use credentials from a recent AssumeRoleWithWebIdentity answer of this keyless", nil, "%v", err)
		return false, nil, deny(CodeInvalidGrant, "aws_session", "the AWS credentials are invalid", err.Error())
	}
	if err := awsreq.Verify(g.SignedRequest(), a, secret, now, awsMaxSkew); err != nil {
		tr.fail("credential", "sign with the secret access key issued with this access key id", nil, "%v", err)
		return false, nil, deny(CodeInvalidGrant, "aws_signature", "the AWS signed request was rejected", err.Error())
	}
	return true, &sess, nil
}

func awsSubjectFix(stage awsreq.Stage, audience string) string {
	switch stage {
	case awsreq.StageBinding:
		return "the signed request's x-goog-cloud-target-resource header must be " + audience
	case awsreq.StageHost:
		return "sign a GetCallerIdentity request for https://sts.amazonaws.com or https://sts.REGION.amazonaws.com"
	case awsreq.StageDate:
		return "x-amz-date must be within 15 minutes of the server's clock; sign a fresh request"
	case awsreq.StageAction:
		return "the serialized request must be POST ?Action=GetCallerIdentity&Version=2011-06-15"
	}
	return "pass the credential configuration's serialized GetCallerIdentity request unchanged"
}
