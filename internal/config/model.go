package config

import "encoding/json"

// Config is keyless's declarative configuration (SPEC §3). Field names follow the
// clouds' own REST resources (camelCase), so `export` output reads like the APIs.
type Config struct {
	Issuer    string     `json:"issuer,omitempty"`
	OrgPolicy *OrgPolicy `json:"orgPolicy,omitempty"`
	Google    *Google    `json:"google,omitempty"`
	AWS       *AWS       `json:"aws,omitempty"`
	Azure     *Azure     `json:"azure,omitempty"`
	Server    *Server    `json:"server,omitempty"`
}

// OrgPolicy mirrors the iam.workloadIdentityPoolProviders constraint. When present it must
// list at least one issuer, and every Google OIDC provider's issuerUri must be listed.
type OrgPolicy struct {
	AllowedIssuers []string `json:"allowedIssuers,omitempty"`
}

// Server holds runtime settings that belong with the federation they serve.
type Server struct {
	// SigningAlg is the default algorithm for minted tokens: ES256 (default), RS256 or EdDSA.
	SigningAlg string `json:"signingAlg,omitempty"`
	// AccessTokenLifetime caps tokens minted by STS and generateAccessToken ("3600s", the
	// default; 60s to 43200s).
	AccessTokenLifetime string `json:"accessTokenLifetime,omitempty"`
	// AllowPrivateIssuers lets JWKS discovery reach loopback/private addresses. Tests and
	// air-gapped labs only.
	AllowPrivateIssuers bool `json:"allowPrivateIssuers,omitempty"`
	// AllowInsecureHTTPIssuers permits http:// issuers on loopback only (development).
	AllowInsecureHTTPIssuers bool `json:"allowInsecureHTTPIssuers,omitempty"`
	// IssuerCAFile is a PEM bundle trusted in addition to the system roots for issuer HTTPS.
	IssuerCAFile string `json:"issuerCAFile,omitempty"`
	// AWSForwardingDisabled stops keyless from forwarding aws4_request subject tokens
	// signed with credentials it did not issue to AWS STS (air-gapped deployments); such
	// tokens are then refused. Keyless-issued AWS credentials are verified locally either way.
	AWSForwardingDisabled bool `json:"awsForwardingDisabled,omitempty"`
	// AWSSTSHosts adds STS host names a serialized request may name and keyless may forward
	// to (FIPS, China or VPC endpoint names), beyond sts.amazonaws.com and
	// sts.REGION.amazonaws.com.
	AWSSTSHosts []string `json:"awsStsHosts,omitempty"`
}

// Google is the Google Cloud dialect's resources.
type Google struct {
	Projects []Project `json:"projects,omitempty"`
}

// Project is a Google project: an id and its 12-digit number.
type Project struct {
	ProjectID             string                 `json:"projectId"`
	ProjectNumber         string                 `json:"projectNumber"`
	WorkloadIdentityPools []WorkloadIdentityPool `json:"workloadIdentityPools,omitempty"`
	ServiceAccounts       []ServiceAccount       `json:"serviceAccounts,omitempty"`
}

// WorkloadIdentityPool follows iam.v1 WorkloadIdentityPool.
type WorkloadIdentityPool struct {
	WorkloadIdentityPoolID string `json:"workloadIdentityPoolId"`
	DisplayName            string `json:"displayName,omitempty"`
	Description            string `json:"description,omitempty"`
	Disabled               bool   `json:"disabled,omitempty"`
	// SessionDuration overrides the federated token lifetime, "120s" to "43200s".
	SessionDuration string     `json:"sessionDuration,omitempty"`
	Providers       []Provider `json:"providers,omitempty"`
}

// Provider follows iam.v1 WorkloadIdentityPoolProvider.
type Provider struct {
	WorkloadIdentityPoolProviderID string            `json:"workloadIdentityPoolProviderId"`
	DisplayName                    string            `json:"displayName,omitempty"`
	Description                    string            `json:"description,omitempty"`
	Disabled                       bool              `json:"disabled,omitempty"`
	AttributeMapping               map[string]string `json:"attributeMapping,omitempty"`
	AttributeCondition             string            `json:"attributeCondition,omitempty"`
	OIDC                           *OIDC             `json:"oidc,omitempty"`
	AWS                            *AWSProvider      `json:"aws,omitempty"`
}

// OIDC is an OIDC provider's trust settings.
type OIDC struct {
	IssuerURI        string   `json:"issuerUri"`
	AllowedAudiences []string `json:"allowedAudiences,omitempty"`
	// JWKSJSON pins the issuer's keys instead of discovery (a JSON JWKS document).
	JWKSJSON string `json:"jwksJson,omitempty"`
}

// AWSProvider trusts an AWS account's identities (signed GetCallerIdentity).
type AWSProvider struct {
	AccountID string `json:"accountId"`
}

// ServiceAccount follows iam.v1 ServiceAccount plus its IAM policy.
type ServiceAccount struct {
	AccountID   string     `json:"accountId"`
	DisplayName string     `json:"displayName,omitempty"`
	Description string     `json:"description,omitempty"`
	Disabled    bool       `json:"disabled,omitempty"`
	UniqueID    string     `json:"uniqueId,omitempty"`
	IAMPolicy   *IAMPolicy `json:"iamPolicy,omitempty"`
}

// IAMPolicy follows google.iam.v1.Policy.
type IAMPolicy struct {
	Version  int       `json:"version,omitempty"`
	Etag     string    `json:"etag,omitempty"`
	Bindings []Binding `json:"bindings,omitempty"`
}

// Binding is one role granted to members, optionally under a condition.
type Binding struct {
	Role      string   `json:"role"`
	Members   []string `json:"members"`
	Condition *Expr    `json:"condition,omitempty"`
}

// Expr is a google.type.Expr (IAM condition).
type Expr struct {
	Expression  string `json:"expression"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Location    string `json:"location,omitempty"`
}

// AWS is the AWS dialect's resources (served by a later issue; parsed and kept now).
type AWS struct {
	Accounts []AWSAccount `json:"accounts,omitempty"`
}

// AWSAccount holds IAM OIDC providers and roles.
type AWSAccount struct {
	AccountID              string                  `json:"accountId"`
	OpenIDConnectProviders []OpenIDConnectProvider `json:"openIDConnectProviders,omitempty"`
	Roles                  []Role                  `json:"roles,omitempty"`
}

// OpenIDConnectProvider follows the AWS IAM API resource.
type OpenIDConnectProvider struct {
	URL            string   `json:"url"`
	ClientIDList   []string `json:"clientIDList,omitempty"`
	ThumbprintList []string `json:"thumbprintList,omitempty"`
	JWKSJSON       string   `json:"jwksJson,omitempty"`
}

// Role follows the AWS IAM API resource.
type Role struct {
	RoleName           string `json:"roleName"`
	Path               string `json:"path,omitempty"`
	MaxSessionDuration int    `json:"maxSessionDuration,omitempty"`
	// AssumeRolePolicyDocument is the trust policy as a JSON object. In YAML it is written as
	// a mapping or as a string holding JSON; either way it is stored as compact JSON.
	AssumeRolePolicyDocument json.RawMessage `json:"assumeRolePolicyDocument,omitempty"`
}

// Azure is the Azure dialect's resources (served by a later issue; parsed and kept now).
type Azure struct {
	Tenants []AzureTenant `json:"tenants,omitempty"`
}

// AzureTenant holds applications with federated identity credentials.
type AzureTenant struct {
	TenantID     string             `json:"tenantId"`
	Applications []AzureApplication `json:"applications,omitempty"`
}

// AzureApplication is an app registration (client id) and its federated credentials.
type AzureApplication struct {
	ClientID                     string                        `json:"clientId"`
	DisplayName                  string                        `json:"displayName,omitempty"`
	FederatedIdentityCredentials []FederatedIdentityCredential `json:"federatedIdentityCredentials,omitempty"`
}

// FederatedIdentityCredential follows Microsoft Graph's resource.
type FederatedIdentityCredential struct {
	Name    string `json:"name"`
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	// Audiences holds exactly one value, or none for DefaultAzureAudience.
	Audiences []string `json:"audiences,omitempty"`
}
