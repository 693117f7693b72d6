package credcfg

import (
	"path/filepath"
)

// Generate returns the credential configuration file for o. Without the
// keyless extensions (TokenURL, TokenInfoURL, IAMCredentialsURL,
// KeylessServer) the bytes are exactly what gcloud 528 writes for the same
// flags (see the package documentation for the one deliberate difference,
// audiences given with a host). Invalid options return Validate's error.
func Generate(o Options) ([]byte, error) {
	pl, err := resolve(&o)
	if err != nil {
		return nil, err
	}
	var out object
	out.add("universe_domain", pl.universe)
	out.add("type", "external_account")
	out.add("audience", audienceHostPrefix+pl.provider)
	out.add("subject_token_type", pl.subjectTokenType)
	out.add("token_url", pl.tokenURL)
	out.add("credential_source", pl.source())
	if pl.impersonationURL != "" {
		out.add("service_account_impersonation_url", pl.impersonationURL)
		if l := o.ServiceAccountTokenLifetimeSeconds; l != 0 {
			out.add("service_account_impersonation", object{{"token_lifetime_seconds", l}})
		}
	} else {
		out.add("token_info_url", pl.tokenInfoURL)
	}
	return dumps(out), nil
}

// source builds credential_source in gcloud's key order.
func (pl *plan) source() object {
	o := pl.o
	var src object
	switch pl.kind {
	case srcFile:
		src.add("file", o.CredentialSourceFile)
		pl.addFormat(&src)
	case srcURL:
		src.add("url", o.CredentialSourceURL)
		if len(pl.headers) > 0 {
			var hs object
			for _, h := range pl.headers {
				hs.add(h.Name, h.Value)
			}
			src.add("headers", hs)
		}
		pl.addFormat(&src)
	case srcExecutable:
		exe := object{{"command", o.ExecutableCommand}, {"timeout_millis", pl.timeoutMillis}}
		if o.ExecutableOutputFile != "" {
			exe.add("output_file", o.ExecutableOutputFile)
		}
		src.add("executable", exe)
	case srcAWS:
		src.add("environment_id", "aws1")
		src.add("region_url", awsRegionURL)
		src.add("url", awsCredentialsURL)
		src.add("regional_cred_verification_url", awsRegionalVerificationURL)
		if o.EnableIMDSv2 {
			src.add("imdsv2_session_token_url", awsIMDSv2SessionTokenURL)
		}
	case srcAzure:
		resource := o.AppIDURI
		if resource == "" {
			resource = azureResourcePrefix + pl.provider
		}
		src.add("url", azureIMDSTokenURL+resource)
		src.add("headers", object{{"Metadata", "True"}})
		src.add("format", object{{"type", "json"}, {"subject_token_field_name", "access_token"}})
	case srcCert:
		var cert object
		if o.CredentialCertConfigurationOutputFile != "" {
			cert.add("certificate_config_location", o.CredentialCertConfigurationOutputFile)
		} else {
			cert.add("use_default_certificate_config", true)
		}
		if o.CredentialCertTrustChainPath != "" {
			cert.add("trust_chain_path", o.CredentialCertTrustChainPath)
		}
		src.add("certificate", cert)
	}
	return src
}

func (pl *plan) addFormat(src *object) {
	switch pl.formatType {
	case "text":
		src.add("format", object{{"type", "text"}})
	case "json":
		src.add("format", object{{"type", "json"}, {"subject_token_field_name", pl.o.CredentialSourceFieldName}})
	}
}

// CertificateConfig returns the certificate configuration file gcloud
// writes next to an X.509 credential config (its
// "enterprise-certificate-proxy configuration file"):
// {"cert_configs": {"workload": {"cert_path", "key_path"}}}, byte for byte.
// The caller writes it at o.CredentialCertConfigurationOutputFile, or at
// DefaultCertificateConfigPath when that is empty. o must select the X.509
// source.
func CertificateConfig(o Options) ([]byte, error) {
	pl, err := resolve(&o)
	if err != nil {
		return nil, err
	}
	if pl.kind != srcCert {
		var p problems
		p.add(FlagCredentialCertPath, ErrConflict, "a certificate configuration exists only for "+FlagCredentialCertPath)
		return nil, p.err()
	}
	workload := object{{"cert_path", o.CredentialCertPath}, {"key_path", o.CredentialCertPrivateKeyPath}}
	return dumps(object{{"cert_configs", object{{"workload", workload}}}}), nil
}

// DefaultCertificateConfigPath is where gcloud writes the certificate
// configuration when --credential-cert-configuration-output-file is not
// given, and where clients look for it when a credential config says
// use_default_certificate_config: $CLOUDSDK_CONFIG/certificate_config.json,
// else HOME/.config/gcloud/certificate_config.json (Linux and macOS; the
// Windows location is not supported). getenv is usually os.Getenv. It
// returns "" when neither CLOUDSDK_CONFIG nor home is known.
func DefaultCertificateConfigPath(getenv func(string) string, home string) string {
	if dir := getenv("CLOUDSDK_CONFIG"); dir != "" {
		return filepath.Join(dir, certificateConfigDefaultName)
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, gcloudConfigDirUnderHome, certificateConfigDefaultName)
}
