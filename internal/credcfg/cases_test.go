package credcfg

import (
	"strconv"
	"strings"
)

const (
	testProvider = "projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-prov"
	testSA       = "sa-name@my-project.iam.gserviceaccount.com"
)

// goldenCase is a config captured from gcloud 528 (testdata/gcloud/) and
// the options that reproduce it. The flags were reconstructed from
// google-protocol.md §3.3 and the file contents; the live test re-runs
// gcloud with gcloudArgs(opts) to confirm them.
type goldenCase struct {
	file string
	opts Options
	// live is false when gcloud cannot be re-run with these exact options
	// (it would write a second file at an absolute path outside the test).
	live bool
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{"oidc-file.json", Options{Audience: testProvider, ServiceAccount: testSA, CredentialSourceFile: "/var/run/secrets/token"}, true},
		{"oidc-file-json-noimp.json", Options{Audience: testProvider, CredentialSourceFile: "/var/run/secrets/token.json", CredentialSourceType: "json", CredentialSourceFieldName: "id_token"}, true},
		{"idtok.json", Options{Audience: testProvider, CredentialSourceFile: "/var/run/keyless/tok", SubjectTokenType: TokenTypeIDToken}, true},
		{"url.json", Options{
			Audience: testProvider, ServiceAccount: testSA, ServiceAccountTokenLifetimeSeconds: 1800,
			CredentialSourceURL:     "http://127.0.0.1:9999/token",
			CredentialSourceHeaders: []Header{{"Metadata-Flavor", "Google"}, {"X-Foo", "bar"}},
			CredentialSourceType:    "json", CredentialSourceFieldName: "access_token",
		}, true},
		{"exec.json", Options{
			Audience: testProvider, ServiceAccount: testSA,
			ExecutableCommand: "/usr/local/bin/get-token --arg=1", ExecutableTimeoutMillis: 5000,
			ExecutableOutputFile: "/var/run/keyless/cache.json",
		}, true},
		{"aws.json", Options{Audience: testProvider, ServiceAccount: testSA, AWS: true, EnableIMDSv2: true}, true},
		{"azure.json", Options{Audience: testProvider, ServiceAccount: testSA, Azure: true}, true},
		{"universe.json", Options{Audience: testProvider, ServiceAccount: testSA, CredentialSourceFile: "/var/run/secrets/token", UniverseDomain: "keyless.example.com"}, true},
		{"x509.json", x509GoldenOptions(), false},
	}
}

func x509GoldenOptions() Options {
	return Options{
		Audience: testProvider, ServiceAccount: testSA,
		CredentialCertPath:                    "/etc/keyless/leaf.pem",
		CredentialCertPrivateKeyPath:          "/etc/keyless/leaf.key",
		CredentialCertConfigurationOutputFile: "/etc/keyless/cert_config.json",
		CredentialCertTrustChainPath:          "/etc/keyless/chain.pem",
	}
}

// gcloudArgs maps options without keyless extensions onto gcloud's flags
// (everything after "create-cred-config"), minus --output-file.
func gcloudArgs(o Options) []string {
	args := []string{o.Audience}
	str := func(flag, v string) {
		if v != "" {
			args = append(args, flag+"="+v)
		}
	}
	num := func(flag string, v int) {
		if v != 0 {
			args = append(args, flag+"="+strconv.Itoa(v))
		}
	}
	boolean := func(flag string, v bool) {
		if v {
			args = append(args, flag)
		}
	}
	str(FlagServiceAccount, o.ServiceAccount)
	num(FlagServiceAccountTokenLifetimeSeconds, o.ServiceAccountTokenLifetimeSeconds)
	str(FlagSubjectTokenType, o.SubjectTokenType)
	str(FlagCredentialSourceFile, o.CredentialSourceFile)
	str(FlagCredentialSourceURL, o.CredentialSourceURL)
	str(FlagCredentialSourceHeaders, headersFlag(o.CredentialSourceHeaders))
	str(FlagCredentialSourceType, o.CredentialSourceType)
	str(FlagCredentialSourceFieldName, o.CredentialSourceFieldName)
	str(FlagExecutableCommand, o.ExecutableCommand)
	num(FlagExecutableTimeoutMillis, o.ExecutableTimeoutMillis)
	str(FlagExecutableOutputFile, o.ExecutableOutputFile)
	boolean(FlagAWS, o.AWS)
	boolean(FlagEnableIMDSv2, o.EnableIMDSv2)
	boolean(FlagAzure, o.Azure)
	str(FlagAppIDURI, o.AppIDURI)
	str(FlagCredentialCertPath, o.CredentialCertPath)
	str(FlagCredentialCertPrivateKeyPath, o.CredentialCertPrivateKeyPath)
	str(FlagCredentialCertConfigurationOutputFile, o.CredentialCertConfigurationOutputFile)
	str(FlagCredentialCertTrustChainPath, o.CredentialCertTrustChainPath)
	str(FlagUniverseDomain, o.UniverseDomain)
	return args
}

// headersFlag renders headers in gcloud's dict syntax, switching to the
// ^D^ form when a name or value contains a comma.
func headersFlag(hs []Header) string {
	if len(hs) == 0 {
		return ""
	}
	for _, d := range []string{",", ";", "|", "#", "!"} {
		clash := false
		var items []string
		for _, h := range hs {
			if strings.Contains(h.Name, d) || strings.Contains(h.Value, d) {
				clash = true
			}
			items = append(items, h.Name+"="+h.Value)
		}
		if clash {
			continue
		}
		if d == "," {
			return strings.Join(items, d)
		}
		return "^" + d + "^" + strings.Join(items, d)
	}
	panic("headersFlag: no free delimiter")
}
