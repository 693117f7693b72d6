package credcfg

// Options are the arguments of `create-cred-config`. Field names follow
// gcloud's flags (`gcloud iam workload-identity-pools create-cred-config`);
// the Flag* constants name the flag each field comes from. Zero values mean
// "flag not given".
type Options struct {
	// Audience is the provider: either its resource name
	// "projects/N/locations/global/workloadIdentityPools/P/providers/X" (what
	// gcloud takes) or the STS audience "//iam.googleapis.com/projects/N/..."
	// (also "https://iam.googleapis.com/..."). The file always carries
	// "//iam.googleapis.com/" + the resource name.
	Audience string

	// ServiceAccount, when set, makes the config impersonate this service
	// account; without it the config carries token_info_url instead.
	ServiceAccount string
	// ServiceAccountTokenLifetimeSeconds is 0 (not set: one hour) or
	// 600..43200. It needs ServiceAccount.
	ServiceAccountTokenLifetimeSeconds int

	// SubjectTokenType overrides the subject token type of file, URL and
	// executable sources (default urn:ietf:params:oauth:token-type:jwt). AWS,
	// Azure and X.509 sources have a fixed type.
	SubjectTokenType string

	// Exactly one credential source: CredentialSourceFile,
	// CredentialSourceURL, ExecutableCommand, AWS, Azure or CredentialCertPath.
	CredentialSourceFile string
	CredentialSourceURL  string
	// CredentialSourceHeaders are sent with CredentialSourceURL, in this
	// order (gcloud keeps the command-line order). A repeated name keeps its
	// first position and takes its last value, as gcloud does. See
	// ParseHeaders for gcloud's flag syntax.
	CredentialSourceHeaders []Header
	// CredentialSourceType is "text" or "json" (case-insensitive) for file
	// and URL sources; "" writes no format (clients assume text).
	CredentialSourceType string
	// CredentialSourceFieldName is the JSON field holding the token; needed
	// by, and only allowed with, CredentialSourceType "json".
	CredentialSourceFieldName string

	// ExecutableCommand is the command line clients run (absolute program
	// path, arguments split on whitespace, no shell).
	ExecutableCommand string
	// ExecutableTimeoutMillis is 0 (not set: 30000) or 5000..120000.
	ExecutableTimeoutMillis int
	// ExecutableOutputFile is the absolute path of the executable's cache file.
	ExecutableOutputFile string

	// AWS selects the AWS (IMDS) source; EnableIMDSv2 adds the IMDSv2
	// session token URL and needs AWS.
	AWS          bool
	EnableIMDSv2 bool

	// Azure selects the Azure IMDS source. AppIDURI replaces the default
	// resource (https://iam.googleapis.com/ + provider resource name).
	Azure    bool
	AppIDURI string

	// X.509 source (mTLS to sts.mtls.*). CredentialCertPrivateKeyPath is
	// required with CredentialCertPath. The certificate paths go into a
	// second file (see CertificateConfig) written at
	// CredentialCertConfigurationOutputFile, or at gcloud's default location
	// when that is empty (the credential config then says
	// use_default_certificate_config).
	CredentialCertPath                    string
	CredentialCertPrivateKeyPath          string
	CredentialCertConfigurationOutputFile string
	CredentialCertTrustChainPath          string

	// UniverseDomain is gcloud's hidden --universe-domain (or the
	// core/universe_domain property); "" means googleapis.com. It sets
	// universe_domain and the host of the default STS and IAM Credentials
	// URLs (sts.DOMAIN, iamcredentials.DOMAIN).
	UniverseDomain string

	// Keyless extensions (no gcloud equivalent). Each must be an absolute
	// https URL, or http on a loopback host, without query, fragment or
	// credentials.
	//
	// TokenURL replaces token_url (default https://sts.googleapis.com/v1/token).
	TokenURL string
	// TokenInfoURL replaces token_info_url, written only without
	// ServiceAccount. When TokenURL is set and ends in "/token", the
	// default is TokenURL with "/introspect" in place of "/token", so the
	// STS token is never sent to Google's introspection endpoint.
	TokenInfoURL string
	// IAMCredentialsURL is the base of service_account_impersonation_url
	// (default https://iamcredentials.googleapis.com); the path
	// /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken is appended.
	IAMCredentialsURL string
	// KeylessServer is a shorthand for TokenURL = SERVER/v1/token,
	// TokenInfoURL = SERVER/v1/introspect and IAMCredentialsURL = SERVER.
	// It cannot be combined with those three.
	KeylessServer string
}

// Header is one --credential-source-headers entry.
type Header struct {
	Name, Value string
}

// Flag names, used in error messages. gcloud's flags keep gcloud's names;
// the last four are keyless's own.
const (
	FlagAudience                              = "PROVIDER_RESOURCE"
	FlagServiceAccount                        = "--service-account"
	FlagServiceAccountTokenLifetimeSeconds    = "--service-account-token-lifetime-seconds"
	FlagSubjectTokenType                      = "--subject-token-type"
	FlagCredentialSourceFile                  = "--credential-source-file"
	FlagCredentialSourceURL                   = "--credential-source-url"
	FlagCredentialSourceHeaders               = "--credential-source-headers"
	FlagCredentialSourceType                  = "--credential-source-type"
	FlagCredentialSourceFieldName             = "--credential-source-field-name"
	FlagExecutableCommand                     = "--executable-command"
	FlagExecutableTimeoutMillis               = "--executable-timeout-millis"
	FlagExecutableOutputFile                  = "--executable-output-file"
	FlagAWS                                   = "--aws"
	FlagEnableIMDSv2                          = "--enable-imdsv2"
	FlagAzure                                 = "--azure"
	FlagAppIDURI                              = "--app-id-uri"
	FlagCredentialCertPath                    = "--credential-cert-path"
	FlagCredentialCertPrivateKeyPath          = "--credential-cert-private-key-path"
	FlagCredentialCertConfigurationOutputFile = "--credential-cert-configuration-output-file"
	FlagCredentialCertTrustChainPath          = "--credential-cert-trust-chain-path"
	FlagUniverseDomain                        = "--universe-domain"
	FlagTokenURL                              = "--token-url"
	FlagTokenInfoURL                          = "--token-info-url"
	FlagIAMCredentialsURL                     = "--iam-credentials-url"
	FlagKeylessServer                         = "--keyless-server"
)

// Subject token types.
const (
	TokenTypeJWT     = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeSAML2   = "urn:ietf:params:oauth:token-type:saml2"
	TokenTypeAWS4    = "urn:ietf:params:aws:token-type:aws4_request"
	TokenTypeMTLS    = "urn:ietf:params:oauth:token-type:mtls"
)

// Defaults and bounds, as gcloud 528 applies them.
const (
	DefaultUniverseDomain        = "googleapis.com"
	DefaultExecutableTimeoutMs   = 30000
	MinExecutableTimeoutMs       = 5000
	MaxExecutableTimeoutMs       = 120000
	MinTokenLifetimeSeconds      = 600
	MaxTokenLifetimeSeconds      = 43200
	audienceHostPrefix           = "//iam.googleapis.com/"
	httpsAudienceHostPrefix      = "https://iam.googleapis.com/"
	azureResourcePrefix          = "https://iam.googleapis.com/"
	azureIMDSTokenURL            = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
	awsRegionURL                 = "http://169.254.169.254/latest/meta-data/placement/availability-zone"
	awsCredentialsURL            = "http://169.254.169.254/latest/meta-data/iam/security-credentials"
	awsRegionalVerificationURL   = "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
	awsIMDSv2SessionTokenURL     = "http://169.254.169.254/latest/api/token"
	impersonationPathFormat      = "/v1/projects/-/serviceAccounts/%s:generateAccessToken"
	maxImpersonationURLLen       = 256 // Node's google-auth-library refuses longer URLs
	maxValueLen                  = 4096
	maxHeaders                   = 64
	certificateConfigDefaultName = "certificate_config.json"
	gcloudConfigDirUnderHome     = ".config/gcloud"
)
