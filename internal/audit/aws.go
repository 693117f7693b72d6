package audit

import "encoding/json"

// AWSRecord is the CloudTrail-shaped part of an AWS dialect event
// (shared/reference/aws-azure-protocol.md §5): the same field names and nesting as a
// CloudTrail record, so tooling written for CloudTrail reads it. Secrets never appear:
// credentials carry the access key id and expiration only.
type AWSRecord struct {
	EventName           string                `json:"eventName"`   // AssumeRoleWithWebIdentity, GetCallerIdentity
	EventSource         string                `json:"eventSource"` // sts.amazonaws.com
	UserIdentity        AWSUserIdentity       `json:"userIdentity"`
	RequestParameters   *AWSRequestParameters `json:"requestParameters,omitempty"`
	ResponseElements    *AWSResponseElements  `json:"responseElements,omitempty"`
	AdditionalEventData map[string]string     `json:"additionalEventData,omitempty"`
	Resources           []AWSResource         `json:"resources,omitempty"`
	RecipientAccountID  string                `json:"recipientAccountId,omitempty"`
	ReadOnly            bool                  `json:"readOnly"`
	ErrorCode           string                `json:"errorCode,omitempty"`
	ErrorMessage        string                `json:"errorMessage,omitempty"`
}

// AWSUserIdentity is CloudTrail's userIdentity: WebIdentityUser for
// AssumeRoleWithWebIdentity, AssumedRole for calls made with session credentials.
type AWSUserIdentity struct {
	Type             string             `json:"type"`
	PrincipalID      string             `json:"principalId,omitempty"`
	UserName         string             `json:"userName,omitempty"`
	IdentityProvider string             `json:"identityProvider,omitempty"`
	ARN              string             `json:"arn,omitempty"`
	AccountID        string             `json:"accountId,omitempty"`
	AccessKeyID      string             `json:"accessKeyId,omitempty"`
	SessionContext   *AWSSessionContext `json:"sessionContext,omitempty"`
}

// AWSSessionContext describes the role session behind AssumedRole credentials.
type AWSSessionContext struct {
	SessionIssuer       AWSSessionIssuer        `json:"sessionIssuer"`
	WebIDFederationData *AWSWebIDFederationData `json:"webIdFederationData,omitempty"`
	Attributes          map[string]string       `json:"attributes,omitempty"` // creationDate
}

// AWSSessionIssuer is the role a session was issued for.
type AWSSessionIssuer struct {
	Type        string `json:"type"` // Role
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// AWSWebIDFederationData names the identity provider a session came from.
type AWSWebIDFederationData struct {
	FederatedProvider string            `json:"federatedProvider"`
	Attributes        map[string]string `json:"attributes,omitempty"`
}

// AWSRequestParameters are the audited request parameters (never the token).
type AWSRequestParameters struct {
	RoleArn           string            `json:"roleArn,omitempty"`
	RoleSessionName   string            `json:"roleSessionName,omitempty"`
	DurationSeconds   int               `json:"durationSeconds,omitempty"`
	SourceIdentity    string            `json:"sourceIdentity,omitempty"`
	PrincipalTags     map[string]string `json:"principalTags,omitempty"`
	TransitiveTagKeys []string          `json:"transitiveTagKeys,omitempty"`
}

// AWSResponseElements are the audited response fields.
type AWSResponseElements struct {
	Credentials                 *AWSCredentials     `json:"credentials,omitempty"`
	SubjectFromWebIdentityToken string              `json:"subjectFromWebIdentityToken,omitempty"`
	AssumedRoleUser             *AWSAssumedRoleUser `json:"assumedRoleUser,omitempty"`
	Provider                    string              `json:"provider,omitempty"`
	Audience                    string              `json:"audience,omitempty"`
	SourceIdentity              string              `json:"sourceIdentity,omitempty"`
	// GetCallerIdentity
	Account string `json:"account,omitempty"`
	UserID  string `json:"userId,omitempty"`
	ARN     string `json:"arn,omitempty"`
}

// AWSCredentials records issued credentials without their secrets.
type AWSCredentials struct {
	AccessKeyID string `json:"accessKeyId"`
	Expiration  string `json:"expiration"`
}

// AWSAssumedRoleUser is the session's identity.
type AWSAssumedRoleUser struct {
	AssumedRoleID string `json:"assumedRoleId"`
	ARN           string `json:"arn"`
}

// AWSResource is a resource the call touched (the role).
type AWSResource struct {
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

// redactAWS applies the JWT redactor to every string of r (they come from token
// claims), returning r itself when nothing changed. The common case, nothing to
// redact, only scans the strings; a record that needs redaction is rewritten through
// its JSON form.
func redactAWS(r *AWSRecord) *AWSRecord {
	clean := true
	r.eachString(func(s string) {
		if clean && redactJWTs(s) != s {
			clean = false
		}
	})
	if clean {
		return r
	}
	b, err := json.Marshal(r)
	if err != nil {
		return r
	}
	red := redactJWTs(string(b))
	if red == string(b) {
		return r
	}
	var out AWSRecord
	if json.Unmarshal([]byte(red), &out) != nil {
		return &AWSRecord{EventName: r.EventName, EventSource: r.EventSource, UserIdentity: AWSUserIdentity{Type: r.UserIdentity.Type}}
	}
	return &out
}

// eachString calls f with every string of r, keys of maps included.
func (r *AWSRecord) eachString(f func(string)) {
	all := func(ss ...string) {
		for _, s := range ss {
			f(s)
		}
	}
	each := func(m map[string]string) {
		for k, v := range m {
			f(k)
			f(v)
		}
	}
	all(r.EventName, r.EventSource, r.RecipientAccountID, r.ErrorCode, r.ErrorMessage)
	u := &r.UserIdentity
	all(u.Type, u.PrincipalID, u.UserName, u.IdentityProvider, u.ARN, u.AccountID, u.AccessKeyID)
	if sc := u.SessionContext; sc != nil {
		i := &sc.SessionIssuer
		all(i.Type, i.PrincipalID, i.ARN, i.AccountID, i.UserName)
		each(sc.Attributes)
		if w := sc.WebIDFederationData; w != nil {
			f(w.FederatedProvider)
			each(w.Attributes)
		}
	}
	if p := r.RequestParameters; p != nil {
		all(p.RoleArn, p.RoleSessionName, p.SourceIdentity)
		each(p.PrincipalTags)
		all(p.TransitiveTagKeys...)
	}
	if e := r.ResponseElements; e != nil {
		all(e.SubjectFromWebIdentityToken, e.Provider, e.Audience, e.SourceIdentity, e.Account, e.UserID, e.ARN)
		if c := e.Credentials; c != nil {
			all(c.AccessKeyID, c.Expiration)
		}
		if a := e.AssumedRoleUser; a != nil {
			all(a.AssumedRoleID, a.ARN)
		}
	}
	each(r.AdditionalEventData)
	for _, x := range r.Resources {
		all(x.AccountID, x.Type, x.ARN)
	}
}
