package credcfg

import (
	"errors"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/iam"
)

func fileOpts() Options {
	return Options{Audience: testProvider, CredentialSourceFile: "/var/run/secrets/token"}
}

// Every check in validate.go has a row here that makes it fail.
func TestValidateRefuses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", maxValueLen+1)
	manyHeaders := make([]Header, maxHeaders+1)
	for i := range manyHeaders {
		manyHeaders[i] = Header{"X-H", "v"}
	}
	longDomain := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + ".example.com"
	cases := []struct {
		name string
		mod  func(*Options)
		flag string
		kind error
	}{
		// strings
		{"too long", func(o *Options) { o.CredentialSourceFile = "/" + long }, FlagCredentialSourceFile, ErrValue},
		{"invalid utf-8", func(o *Options) { o.CredentialSourceFile = "/tok\xff" }, FlagCredentialSourceFile, ErrValue},
		{"C0 control", func(o *Options) { o.CredentialSourceFile = "/tok\n" }, FlagCredentialSourceFile, ErrValue},
		{"DEL", func(o *Options) { o.CredentialSourceFile = "/tok\x7f" }, FlagCredentialSourceFile, ErrValue},
		{"C1 control", func(o *Options) { o.CredentialSourceFile = "/tok\u0085" }, FlagCredentialSourceFile, ErrValue},
		{"too many headers", func(o *Options) {
			o.CredentialSourceFile, o.CredentialSourceURL, o.CredentialSourceHeaders = "", "https://h/t", manyHeaders
		}, FlagCredentialSourceHeaders, ErrValue},
		{"header value control", func(o *Options) {
			o.CredentialSourceFile, o.CredentialSourceURL, o.CredentialSourceHeaders = "", "https://h/t", []Header{{"A", "x\r\nInjected: 1"}}
		}, FlagCredentialSourceHeaders, ErrValue},
		{"header name control", func(o *Options) {
			o.CredentialSourceFile, o.CredentialSourceURL, o.CredentialSourceHeaders = "", "https://h/t", []Header{{"A\t", "x"}}
		}, FlagCredentialSourceHeaders, ErrValue},
		// sources
		{"no source", func(o *Options) { o.CredentialSourceFile = "" }, "credential source", ErrSource},
		{"file and url", func(o *Options) { o.CredentialSourceURL = "https://h/t" }, "credential source", ErrSource},
		{"aws and azure", func(o *Options) { o.CredentialSourceFile, o.AWS, o.Azure = "", true, true }, "credential source", ErrSource},
		{"exec and cert", func(o *Options) {
			o.CredentialSourceFile, o.ExecutableCommand, o.CredentialCertPath, o.CredentialCertPrivateKeyPath = "", "/bin/t", "/c", "/k"
		}, "credential source", ErrSource},
		// audience
		{"no audience", func(o *Options) { o.Audience = "" }, FlagAudience, ErrValue},
		{"audience garbage", func(o *Options) { o.Audience = "my-prov" }, FlagAudience, ErrValue},
		{"audience other host", func(o *Options) { o.Audience = "//sts.example.com/" + testProvider }, FlagAudience, ErrValue},
		{"audience doubled host", func(o *Options) { o.Audience = audienceHostPrefix + audienceHostPrefix + testProvider }, FlagAudience, ErrValue},
		{"audience pool only", func(o *Options) { o.Audience = strings.TrimSuffix(testProvider, "/providers/my-prov") }, FlagAudience, ErrValue},
		{"audience trailing slash", func(o *Options) { o.Audience = testProvider + "/" }, FlagAudience, ErrValue},
		// service account and lifetime
		{"sa uppercase", func(o *Options) { o.ServiceAccount = "SA@p.iam.gserviceaccount.com" }, FlagServiceAccount, ErrValue},
		{"sa path injection", func(o *Options) { o.ServiceAccount = "a/../b@p.iam.gserviceaccount.com" }, FlagServiceAccount, ErrValue},
		{"sa no domain", func(o *Options) { o.ServiceAccount = "sa-name" }, FlagServiceAccount, ErrValue},
		{"sa query", func(o *Options) { o.ServiceAccount = "sa@p.iam.gserviceaccount.com?x=1" }, FlagServiceAccount, ErrValue},
		{"lifetime without sa", func(o *Options) { o.ServiceAccountTokenLifetimeSeconds = 1800 }, FlagServiceAccountTokenLifetimeSeconds, ErrConflict},
		{"lifetime low", func(o *Options) { o.ServiceAccount, o.ServiceAccountTokenLifetimeSeconds = testSA, 599 }, FlagServiceAccountTokenLifetimeSeconds, ErrValue},
		{"lifetime high", func(o *Options) { o.ServiceAccount, o.ServiceAccountTokenLifetimeSeconds = testSA, 43201 }, FlagServiceAccountTokenLifetimeSeconds, ErrValue},
		{"lifetime negative", func(o *Options) { o.ServiceAccount, o.ServiceAccountTokenLifetimeSeconds = testSA, -1 }, FlagServiceAccountTokenLifetimeSeconds, ErrValue},
		// universe
		{"universe upper", func(o *Options) { o.UniverseDomain = "Example.com" }, FlagUniverseDomain, ErrValue},
		{"universe one label", func(o *Options) { o.UniverseDomain = "localhost" }, FlagUniverseDomain, ErrValue},
		{"universe trailing dot", func(o *Options) { o.UniverseDomain = "example.com." }, FlagUniverseDomain, ErrValue},
		{"universe hyphen", func(o *Options) { o.UniverseDomain = "-x.example.com" }, FlagUniverseDomain, ErrValue},
		{"universe label too long", func(o *Options) { o.UniverseDomain = strings.Repeat("a", 64) + ".com" }, FlagUniverseDomain, ErrValue},
		{"universe too long", func(o *Options) { o.UniverseDomain = longDomain + "." + longDomain }, FlagUniverseDomain, ErrValue},
		{"universe slash", func(o *Options) { o.UniverseDomain = "example.com/x" }, FlagUniverseDomain, ErrValue},
		// flags that do not apply
		{"headers with file", func(o *Options) { o.CredentialSourceHeaders = []Header{{"A", "b"}} }, FlagCredentialSourceHeaders, ErrConflict},
		{"format with exec", func(o *Options) {
			o.CredentialSourceFile, o.ExecutableCommand, o.CredentialSourceType = "", "/bin/t", "json"
		}, FlagCredentialSourceType, ErrConflict},
		{"format with aws", func(o *Options) { o.CredentialSourceFile, o.AWS, o.CredentialSourceType = "", true, "text" }, FlagCredentialSourceType, ErrConflict},
		{"field with azure", func(o *Options) { o.CredentialSourceFile, o.Azure, o.CredentialSourceFieldName = "", true, "x" }, FlagCredentialSourceFieldName, ErrConflict},
		{"timeout with file", func(o *Options) { o.ExecutableTimeoutMillis = 5000 }, FlagExecutableTimeoutMillis, ErrConflict},
		{"output file with file", func(o *Options) { o.ExecutableOutputFile = "/c.json" }, FlagExecutableOutputFile, ErrConflict},
		{"imdsv2 with file", func(o *Options) { o.EnableIMDSv2 = true }, FlagEnableIMDSv2, ErrConflict},
		{"app id with aws", func(o *Options) { o.CredentialSourceFile, o.AWS, o.AppIDURI = "", true, "api://x" }, FlagAppIDURI, ErrConflict},
		{"cert key with file", func(o *Options) { o.CredentialCertPrivateKeyPath = "/k" }, FlagCredentialCertPrivateKeyPath, ErrConflict},
		{"cert config with file", func(o *Options) { o.CredentialCertConfigurationOutputFile = "/c" }, FlagCredentialCertConfigurationOutputFile, ErrConflict},
		{"trust chain with file", func(o *Options) { o.CredentialCertTrustChainPath = "/c" }, FlagCredentialCertTrustChainPath, ErrConflict},
		// subject token type
		{"type with aws", func(o *Options) { o.CredentialSourceFile, o.AWS, o.SubjectTokenType = "", true, TokenTypeJWT }, FlagSubjectTokenType, ErrConflict},
		{"type with azure", func(o *Options) { o.CredentialSourceFile, o.Azure, o.SubjectTokenType = "", true, TokenTypeIDToken }, FlagSubjectTokenType, ErrConflict},
		{"type with cert", func(o *Options) {
			o.CredentialSourceFile, o.CredentialCertPath, o.CredentialCertPrivateKeyPath, o.SubjectTokenType = "", "/c", "/k", TokenTypeJWT
		}, FlagSubjectTokenType, ErrConflict},
		{"type unknown", func(o *Options) { o.SubjectTokenType = "urn:ietf:params:oauth:token-type:access_token" }, FlagSubjectTokenType, ErrValue},
		{"type misspelt", func(o *Options) { o.SubjectTokenType = "urn:ietf:params:oauth:token-type:id-token" }, FlagSubjectTokenType, ErrValue},
		// format
		{"field without type", func(o *Options) { o.CredentialSourceFieldName = "id_token" }, FlagCredentialSourceFieldName, ErrConflict},
		{"field with text", func(o *Options) { o.CredentialSourceType, o.CredentialSourceFieldName = "text", "id_token" }, FlagCredentialSourceFieldName, ErrConflict},
		{"json without field", func(o *Options) { o.CredentialSourceType = "json" }, FlagCredentialSourceFieldName, ErrConflict},
		{"format xml", func(o *Options) { o.CredentialSourceType = "xml" }, FlagCredentialSourceType, ErrValue},
		// url source
		{"url scheme", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "ftp://h/t" }, FlagCredentialSourceURL, ErrValue},
		{"url relative", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "/token" }, FlagCredentialSourceURL, ErrValue},
		{"url space", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "http://h/a b" }, FlagCredentialSourceURL, ErrValue},
		{"url no host", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "http:///t" }, FlagCredentialSourceURL, ErrValue},
		{"url empty host with port", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "http://:80/t" }, FlagCredentialSourceURL, ErrValue},
		{"url userinfo", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "https://u:p@h/t" }, FlagCredentialSourceURL, ErrValue},
		{"url fragment", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "https://h/t#f" }, FlagCredentialSourceURL, ErrValue},
		{"url unparsable", func(o *Options) { o.CredentialSourceFile, o.CredentialSourceURL = "", "http://h:port/t" }, FlagCredentialSourceURL, ErrValue},
		{"header name", func(o *Options) {
			o.CredentialSourceFile, o.CredentialSourceURL, o.CredentialSourceHeaders = "", "https://h/t", []Header{{"Bad Name", "v"}}
		}, FlagCredentialSourceHeaders, ErrValue},
		{"header name empty", func(o *Options) {
			o.CredentialSourceFile, o.CredentialSourceURL, o.CredentialSourceHeaders = "", "https://h/t", []Header{{"", "v"}}
		}, FlagCredentialSourceHeaders, ErrValue},
		// executable
		{"exec relative", func(o *Options) { o.CredentialSourceFile, o.ExecutableCommand = "", "get-token --x" }, FlagExecutableCommand, ErrValue},
		{"exec blank", func(o *Options) { o.CredentialSourceFile, o.ExecutableCommand = "", "   " }, FlagExecutableCommand, ErrValue},
		{"exec output relative", func(o *Options) {
			o.CredentialSourceFile, o.ExecutableCommand, o.ExecutableOutputFile = "", "/bin/t", "cache.json"
		}, FlagExecutableOutputFile, ErrValue},
		{"exec timeout low", func(o *Options) {
			o.CredentialSourceFile, o.ExecutableCommand, o.ExecutableTimeoutMillis = "", "/bin/t", 4999
		}, FlagExecutableTimeoutMillis, ErrValue},
		{"exec timeout high", func(o *Options) {
			o.CredentialSourceFile, o.ExecutableCommand, o.ExecutableTimeoutMillis = "", "/bin/t", 120001
		}, FlagExecutableTimeoutMillis, ErrValue},
		{"exec timeout negative", func(o *Options) {
			o.CredentialSourceFile, o.ExecutableCommand, o.ExecutableTimeoutMillis = "", "/bin/t", -5000
		}, FlagExecutableTimeoutMillis, ErrValue},
		// azure
		{"app id ampersand", func(o *Options) { o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "api://x&resource=evil" }, FlagAppIDURI, ErrValue},
		{"app id hash", func(o *Options) { o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "api://x#y" }, FlagAppIDURI, ErrValue},
		{"app id plus", func(o *Options) { o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "api://a+b" }, FlagAppIDURI, ErrValue},
		{"app id space", func(o *Options) { o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "api://a b" }, FlagAppIDURI, ErrValue},
		{"app id bad percent", func(o *Options) { o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "api://a%2" }, FlagAppIDURI, ErrValue},
		{"app id bad percent hex", func(o *Options) { o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "api://a%zz" }, FlagAppIDURI, ErrValue},
		// x.509
		{"cert without key", func(o *Options) { o.CredentialSourceFile, o.CredentialCertPath = "", "/c.pem" }, FlagCredentialCertPrivateKeyPath, ErrConflict},
		// keyless extensions
		{"server with token url", func(o *Options) { o.KeylessServer, o.TokenURL = "https://k.example", "https://k.example/v1/token" }, FlagTokenURL, ErrConflict},
		{"server with info url", func(o *Options) { o.KeylessServer, o.TokenInfoURL = "https://k.example", "https://k.example/i" }, FlagTokenInfoURL, ErrConflict},
		{"server with iam url", func(o *Options) { o.KeylessServer, o.IAMCredentialsURL = "https://k.example", "https://k.example" }, FlagIAMCredentialsURL, ErrConflict},
		{"server http remote", func(o *Options) { o.KeylessServer = "http://keyless.example.com" }, FlagKeylessServer, ErrValue},
		{"server http private ip", func(o *Options) { o.KeylessServer = "http://10.0.0.1:8080" }, FlagKeylessServer, ErrValue},
		{"server query", func(o *Options) { o.KeylessServer = "https://k.example/?x=1" }, FlagKeylessServer, ErrValue},
		{"server empty query", func(o *Options) { o.KeylessServer = "https://k.example/?" }, FlagKeylessServer, ErrValue},
		{"server scheme", func(o *Options) { o.KeylessServer = "k.example:443" }, FlagKeylessServer, ErrValue},
		{"server upper scheme", func(o *Options) { o.KeylessServer = "HTTPS://k.example" }, FlagKeylessServer, ErrValue},
		{"server backslash", func(o *Options) { o.KeylessServer = "https://k.example\\@evil" }, FlagKeylessServer, ErrValue},
		{"token url http remote", func(o *Options) { o.TokenURL = "http://sts.example.com/v1/token" }, FlagTokenURL, ErrValue},
		{"token url userinfo", func(o *Options) { o.TokenURL = "https://u:p@sts.example.com/v1/token" }, FlagTokenURL, ErrValue},
		{"info url fragment", func(o *Options) { o.TokenInfoURL = "https://sts.example.com/v1/introspect#x" }, FlagTokenInfoURL, ErrValue},
		{"iam url no host", func(o *Options) { o.ServiceAccount, o.IAMCredentialsURL = testSA, "https://" }, FlagIAMCredentialsURL, ErrValue},
		{"info url with sa", func(o *Options) { o.ServiceAccount, o.TokenInfoURL = testSA, "https://k.example/v1/introspect" }, FlagTokenInfoURL, ErrConflict},
		{"token url without /token", func(o *Options) { o.TokenURL = "https://k.example/sts" }, FlagTokenInfoURL, ErrConflict},
		{"impersonation url too long", func(o *Options) {
			o.ServiceAccount = strings.Repeat("a", 64) + "@" + longDomain
		}, FlagServiceAccount, ErrValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := fileOpts()
			c.mod(&o)
			err := Validate(o)
			if err == nil {
				t.Fatal("Validate accepted")
			}
			if !errors.Is(err, ErrInvalidOptions) || !errors.Is(err, c.kind) {
				t.Errorf("err = %v; want ErrInvalidOptions and %v", err, c.kind)
			}
			if !hasFlag(err, c.flag, c.kind) {
				t.Errorf("err = %v; want a %v problem on %s", err, c.kind, c.flag)
			}
			if out, gerr := Generate(o); out != nil || gerr == nil || gerr.Error() != err.Error() {
				t.Errorf("Generate = %q, %v; want nil and Validate's error", out, gerr)
			}
		})
	}
}

// hasFlag reports whether err contains an *OptionError for flag of kind.
func hasFlag(err error, flag string, kind error) bool {
	for _, e := range flatten(err) {
		var oe *OptionError
		if errors.As(e, &oe) && oe.Flag == flag && oe.Kind == kind {
			return true
		}
	}
	return false
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isOE := err.(*OptionError); !isOE {
			return j.Unwrap()
		}
	}
	return []error{err}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		mod  func(*Options)
	}{
		{"plain", func(*Options) {}},
		{"audience with host", func(o *Options) { o.Audience = audienceHostPrefix + testProvider }},
		{"audience https", func(o *Options) { o.Audience = "https://iam.googleapis.com/" + testProvider }},
		{"unicode path", func(o *Options) { o.CredentialSourceFile = "/run/tök😀" }},
		{"json upper", func(o *Options) { o.CredentialSourceType, o.CredentialSourceFieldName = "JSON", "t" }},
		{"text", func(o *Options) { o.CredentialSourceType = "Text" }},
		{"id_token", func(o *Options) { o.SubjectTokenType = TokenTypeIDToken }},
		{"saml2", func(o *Options) { o.SubjectTokenType = TokenTypeSAML2 }},
		{"aws with its own type", func(o *Options) { o.CredentialSourceFile, o.AWS, o.SubjectTokenType = "", true, TokenTypeAWS4 }},
		{"azure with jwt", func(o *Options) { o.CredentialSourceFile, o.Azure, o.SubjectTokenType = "", true, TokenTypeJWT }},
		{"app id percent", func(o *Options) { o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "api://a%2Fb" }},
		{"app id guid", func(o *Options) {
			o.CredentialSourceFile, o.Azure, o.AppIDURI = "", true, "0b3c1c2e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
		}},
		{"lifetime bounds", func(o *Options) { o.ServiceAccount, o.ServiceAccountTokenLifetimeSeconds = testSA, 43200 }},
		{"exec bounds", func(o *Options) {
			o.CredentialSourceFile, o.ExecutableCommand, o.ExecutableTimeoutMillis = "", "/bin/t  --a", MinExecutableTimeoutMs
		}},
		{"url with query", func(o *Options) {
			o.CredentialSourceFile, o.CredentialSourceURL = "", "http://169.254.169.254/t?a=1&b=2"
		}},
		{"http loopback v4", func(o *Options) { o.KeylessServer = "http://127.0.0.1:8080" }},
		{"http loopback v6", func(o *Options) { o.KeylessServer = "http://[::1]:8080/" }},
		{"http localhost", func(o *Options) { o.TokenURL = "http://localhost:8080/v1/token" }},
		{"https token url with info url", func(o *Options) { o.TokenURL, o.TokenInfoURL = "https://k.example/sts", "https://k.example/info" }},
		{"universe", func(o *Options) { o.UniverseDomain = "keyless.example.com" }},
		{"header token chars", func(o *Options) {
			o.CredentialSourceFile, o.CredentialSourceURL = "", "https://h/t"
			o.CredentialSourceHeaders = []Header{{"X-A!#$%&'*+-.^_`|~", ""}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := fileOpts()
			c.mod(&o)
			if err := Validate(o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	err := Validate(Options{Audience: "nope", ServiceAccount: "NOPE", EnableIMDSv2: true, CredentialSourceFile: "/t"})
	for _, want := range []struct {
		flag string
		kind error
	}{{FlagAudience, ErrValue}, {FlagServiceAccount, ErrValue}, {FlagEnableIMDSv2, ErrConflict}} {
		if !hasFlag(err, want.flag, want.kind) {
			t.Errorf("missing %s problem in %v", want.flag, err)
		}
	}
}

func TestValidateAudienceCauses(t *testing.T) {
	t.Parallel()
	cases := map[string]error{
		"locations/global/workforcePools/wf/providers/p":                                  iam.ErrWorkforceUnsupported,
		"projects/my-project/locations/global/workloadIdentityPools/my-pool/providers/p1": iam.ErrProjectNotNumber,
	}
	for aud, want := range cases {
		err := Validate(Options{Audience: aud, AWS: true})
		if !errors.Is(err, want) || !errors.Is(err, ErrValue) {
			t.Errorf("%s: err = %v, want %v", aud, err, want)
		}
	}
}

func TestErrorsNeverRepeatHeaderValues(t *testing.T) {
	t.Parallel()
	const secret = "Bearer s3cr3t-t0ken"
	o := Options{
		Audience: testProvider, CredentialSourceURL: "https://h/t",
		CredentialSourceHeaders: []Header{{"Authorization", secret + "\n"}, {"Bad Name", secret}},
	}
	err := Validate(o)
	if err == nil {
		t.Fatal("accepted")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error repeats a header value: %v", err)
	}
	_, err = ParseHeaders("Authorization=" + secret + ",,x")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ParseHeaders error = %v", err)
	}
	_, err = ParseHeaders("Authorization=" + secret + ",novalue")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ParseHeaders error = %v", err)
	}
}

func TestOptionErrorShape(t *testing.T) {
	t.Parallel()
	cause := errors.New("inner")
	e := &OptionError{Flag: FlagAWS, Kind: ErrConflict, Msg: "m", Cause: cause}
	if e.Error() != "credcfg: --aws: m" {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(e, cause) || !errors.Is(e, ErrConflict) || !errors.Is(e, ErrInvalidOptions) || errors.Is(e, ErrValue) {
		t.Error("Unwrap chain wrong")
	}
	if got := quote(strings.Repeat("x", 200)); len(got) > 130 || !strings.HasSuffix(got, "…") {
		t.Errorf("quote does not truncate: %q", got)
	}
}
