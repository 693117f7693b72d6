package agent

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/config"
)

// Config is the agent's configuration file (keyless agent --config FILE).
type Config struct {
	Google *GoogleConfig `json:"google,omitempty"`
	AWS    *AWSConfig    `json:"aws,omitempty"`
	Serve  ServeConfig   `json:"serve"`
	Files  *FilesConfig  `json:"files,omitempty"`
}

// GoogleConfig is the Google pipeline: an external_account credential configuration
// (any credential source; keyless or the real Google STS, same protocol).
type GoogleConfig struct {
	CredentialConfig string `json:"credentialConfig"`
	ProjectID        string `json:"projectId,omitempty"`
	ProjectNumber    string `json:"projectNumber,omitempty"`
	// ServiceAccountEmail is what the metadata server reports as the default account's
	// email; by default the impersonated service account's.
	ServiceAccountEmail string `json:"serviceAccountEmail,omitempty"`
	// Scopes the default token carries (default cloud-platform).
	Scopes []string `json:"scopes,omitempty"`
	// CAFile adds trusted roots for the token and impersonation endpoints (a keyless
	// server with a private CA).
	CAFile string `json:"caFile,omitempty"`
}

// AWSConfig is the AWS pipeline: AssumeRoleWithWebIdentity with a web identity from a
// token file, or from the Google pipeline (an ID token of its service account, minted by
// keyless or Google: a keyless-issued identity).
type AWSConfig struct {
	RoleARN              string `json:"roleArn"`
	WebIdentityTokenFile string `json:"webIdentityTokenFile,omitempty"`
	// WebIdentityFromGoogle uses an ID token of the Google pipeline's service account
	// with this audience (the role's IAM OIDC provider must list it as a client id).
	WebIdentityFromGoogle *FromGoogle `json:"webIdentityFromGoogle,omitempty"`
	// WebIdentityURL fetches the token from a URL; WebIdentityExecutable runs a command
	// printing Google's executable-source response (e.g. keyless token --format executable).
	WebIdentityURL        *URLSource  `json:"webIdentityUrl,omitempty"`
	WebIdentityExecutable *ExecSource `json:"webIdentityExecutable,omitempty"`
	STSEndpoint           string      `json:"stsEndpoint,omitempty"` // default: AWS's regional endpoint
	Region                string      `json:"region"`
	RoleSessionName       string      `json:"roleSessionName,omitempty"`
	DurationSeconds       int         `json:"durationSeconds,omitempty"`
	CAFile                string      `json:"caFile,omitempty"`
}

// FromGoogle names the audience of the ID token used as the web identity.
type FromGoogle struct {
	Audience string `json:"audience"`
}

// ServeConfig lists the endpoints the agent serves; each is optional.
type ServeConfig struct {
	GCEMetadata                     string `json:"gceMetadata,omitempty"`
	IMDS                            string `json:"imds,omitempty"`
	ContainerCredentials            string `json:"containerCredentials,omitempty"`
	ContainerAuthorizationTokenFile string `json:"containerAuthorizationTokenFile,omitempty"`
	// Status serves /status (JSON) and /metrics (Prometheus).
	Status string `json:"status,omitempty"`
	// AllowNonLoopback lets the endpoints listen on non-loopback addresses (a pod's
	// link-local 169.254.170.2, say). Off by default: metadata endpoints hand out
	// credentials to whoever can reach them.
	AllowNonLoopback bool `json:"allowNonLoopback,omitempty"`
}

// FilesConfig lists files the agent keeps current (written atomically, mode 0600).
type FilesConfig struct {
	GoogleAccessToken string `json:"googleAccessToken,omitempty"` // the bare token
	AWSCredentials    string `json:"awsCredentials,omitempty"`    // an AWS shared credentials file
	AWSConfig         string `json:"awsConfig,omitempty"`         // an AWS config file with the profile's region
	AWSProfile        string `json:"awsProfile,omitempty"`        // their profile (default "default")
}

// LoadConfig reads and validates an agent config file, reporting every problem with its
// line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(data, path)
}

// ParseConfig parses and validates an agent config document.
func ParseConfig(data []byte, filename string) (*Config, error) {
	var c Config
	if probs := config.ParseInto(data, filename, &c); len(probs) > 0 {
		return nil, probs
	}
	if probs := c.validate(); len(probs) > 0 {
		for i := range probs {
			probs[i].File = filename
		}
		return nil, probs
	}
	return &c, nil
}

func (c *Config) validate() config.Problems {
	var probs config.Problems
	add := func(path, format string, args ...any) {
		probs = append(probs, config.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if c.Google == nil && c.AWS == nil {
		add("", "configure at least one pipeline: google or aws")
	}
	if g := c.Google; g != nil {
		if g.CredentialConfig == "" {
			add("google.credentialConfig", "is required: the path of an external_account credential configuration")
		}
		if g.ProjectNumber != "" && strings.Trim(g.ProjectNumber, "0123456789") != "" {
			add("google.projectNumber", "%q is not a project number", g.ProjectNumber)
		}
	}
	if a := c.AWS; a != nil {
		if !strings.HasPrefix(a.RoleARN, "arn:aws:iam::") || !strings.Contains(a.RoleARN, ":role/") {
			add("aws.roleArn", "%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", a.RoleARN)
		}
		n := 0
		for _, set := range []bool{a.WebIdentityTokenFile != "", a.WebIdentityFromGoogle != nil, a.WebIdentityURL != nil, a.WebIdentityExecutable != nil} {
			if set {
				n++
			}
		}
		switch {
		case n == 0:
			add("aws.webIdentityTokenFile", "is required (the file holding the web identity token, re-read at every refresh), or set webIdentityFromGoogle, webIdentityUrl or webIdentityExecutable")
		case n > 1:
			add("aws", "set exactly one web identity source: webIdentityTokenFile, webIdentityFromGoogle, webIdentityUrl or webIdentityExecutable, not both")
		case a.WebIdentityFromGoogle != nil && a.WebIdentityFromGoogle.Audience == "":
			add("aws.webIdentityFromGoogle.audience", "is required (e.g. sts.amazonaws.com, a client id of the role's IAM OIDC provider)")
		case a.WebIdentityFromGoogle != nil && c.Google == nil:
			add("aws.webIdentityFromGoogle", "needs the google pipeline")
		}
		if u := a.WebIdentityURL; u != nil {
			if !strings.HasPrefix(u.URL, "https://") && !strings.HasPrefix(u.URL, "http://") {
				add("aws.webIdentityUrl.url", "%q is not an http(s) URL", u.URL)
			}
			if f := u.Format; f != nil && !strings.EqualFold(f.Type, "text") && f.Type != "" {
				if !strings.EqualFold(f.Type, "json") {
					add("aws.webIdentityUrl.format.type", "%q: want text or json", f.Type)
				} else if f.SubjectTokenFieldName == "" {
					add("aws.webIdentityUrl.format.subjectTokenFieldName", "is required with type json")
				}
			}
		}
		if x := a.WebIdentityExecutable; x != nil {
			if f := strings.Fields(x.Command); len(f) == 0 || !strings.HasPrefix(f[0], "/") {
				add("aws.webIdentityExecutable.command", "%q must start with an absolute program path", x.Command)
			}
			if t := x.TimeoutMillis; t != 0 && (t < 5000 || t > 120000) {
				add("aws.webIdentityExecutable.timeoutMillis", "%d is outside 5000..120000", t)
			}
		}
		if a.Region == "" {
			add("aws.region", "is required (SDKs read it from the metadata endpoints)")
		}
		if a.STSEndpoint != "" && !strings.HasPrefix(a.STSEndpoint, "https://") && !strings.HasPrefix(a.STSEndpoint, "http://127.") &&
			!strings.HasPrefix(a.STSEndpoint, "http://localhost") && !strings.HasPrefix(a.STSEndpoint, "http://[::1]") {
			add("aws.stsEndpoint", "%q must be https (plain http only on loopback)", a.STSEndpoint)
		}
		if d := a.DurationSeconds; d != 0 && (d < 900 || d > 43200) {
			add("aws.durationSeconds", "%d is outside 900..43200", d)
		}
		if n := a.RoleSessionName; n != "" && !validSessionName(n) {
			add("aws.roleSessionName", "%q must be 2..64 characters of [\\w+=,.@-]", n)
		}
	}
	s := c.Serve
	for _, ep := range []struct{ path, addr string }{
		{"serve.gceMetadata", s.GCEMetadata}, {"serve.imds", s.IMDS}, {"serve.containerCredentials", s.ContainerCredentials}, {"serve.status", s.Status},
	} {
		if ep.addr == "" {
			continue
		}
		host, _, err := net.SplitHostPort(ep.addr)
		if err != nil {
			add(ep.path, "%q is not HOST:PORT", ep.addr)
			continue
		}
		if ip := net.ParseIP(host); !s.AllowNonLoopback && (ip == nil || !ip.IsLoopback()) {
			add(ep.path, "%q is not a loopback address; credentials would be served to the network (set serve.allowNonLoopback to accept)", ep.addr)
		}
	}
	if (s.GCEMetadata != "") && c.Google == nil {
		add("serve.gceMetadata", "needs the google pipeline")
	}
	if (s.IMDS != "" || s.ContainerCredentials != "") && c.AWS == nil {
		add("serve.imds", "the AWS endpoints need the aws pipeline")
	}
	if s.ContainerCredentials != "" && s.ContainerAuthorizationTokenFile == "" {
		add("serve.containerAuthorizationTokenFile", "is required with serve.containerCredentials (SDKs send it as the Authorization header)")
	}
	if f := c.Files; f != nil {
		if f.GoogleAccessToken != "" && c.Google == nil {
			add("files.googleAccessToken", "needs the google pipeline")
		}
		if (f.AWSCredentials != "" || f.AWSConfig != "") && c.AWS == nil {
			add("files.awsCredentials", "the AWS files need the aws pipeline")
		}
		if p := f.AWSProfile; p != "" && (strings.ContainsAny(p, "[]\r\n") || strings.TrimSpace(p) != p) {
			add("files.awsProfile", "%q is not a profile name", p)
		}
	}
	return probs
}

func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_+=,.@-", c)) {
			return false
		}
	}
	return true
}

// defaultScopes is what Google SDKs ask the metadata server for.
var defaultScopes = []string{"https://www.googleapis.com/auth/cloud-platform"}

// sessionName is the role session name: configured, else keyless-agent-<host>.
func (a *AWSConfig) sessionName() string {
	if a.RoleSessionName != "" {
		return a.RoleSessionName
	}
	h, _ := os.Hostname()
	n := "keyless-agent-" + h
	out := make([]rune, 0, len(n))
	for _, c := range n {
		if strings.ContainsRune("_+=,.@-", c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			out = append(out, c)
		}
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return string(out)
}

// duration is the requested AWS session duration (0: the role default).
func (a *AWSConfig) duration() time.Duration { return time.Duration(a.DurationSeconds) * time.Second }
