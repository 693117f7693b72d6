package exchange

// Claims of the tokens keyless mints. Access tokens (federated and service account) carry
// the JWS header typ "at+jwt"; ID tokens carry "JWT", so one can never stand in for the
// other.

// Token kinds carried in the "keyless.kind" claim.
const (
	KindFederated      = "federated"
	KindServiceAccount = "service_account"
)

// Actor is an RFC 8693 "act" claim: who acted, nested for delegation chains.
type Actor struct {
	Sub string `json:"sub"`
	Act *Actor `json:"act,omitempty"`
}

// KeylessClaims are keyless's private claims on access tokens.
type KeylessClaims struct {
	Kind        string              `json:"kind"`
	Provider    string              `json:"provider,omitempty"`
	Pool        string              `json:"pool,omitempty"`
	Groups      []string            `json:"groups,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
	Correlation map[string]string   `json:"corr,omitempty"`
	DecisionID  string              `json:"decision,omitempty"`
}

// AccessClaims are the claims of keyless access tokens.
type AccessClaims struct {
	Iss     string         `json:"iss"`
	Sub     string         `json:"sub"`
	Aud     string         `json:"aud"`
	Iat     int64          `json:"iat"`
	Nbf     int64          `json:"nbf"`
	Exp     int64          `json:"exp"`
	Jti     string         `json:"jti"`
	Scope   string         `json:"scope,omitempty"`
	Email   string         `json:"email,omitempty"`
	Act     *Actor         `json:"act,omitempty"`
	Keyless *KeylessClaims `json:"keyless"`
}

// IDClaims are the claims of ID tokens from generateIdToken (Google's shape plus act).
type IDClaims struct {
	Iss           string `json:"iss"`
	Sub           string `json:"sub"`
	Aud           string `json:"aud"`
	Azp           string `json:"azp"`
	Iat           int64  `json:"iat"`
	Exp           int64  `json:"exp"`
	Jti           string `json:"jti"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Act           *Actor `json:"act,omitempty"`
}
