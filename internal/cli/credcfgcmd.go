package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keylessdev/keyless/internal/credcfg"
)

func createCredConfigCmd() *cobra.Command {
	var o credcfg.Options
	var out, headers, lifetime, timeout string
	c := &cobra.Command{
		Use:   "create-cred-config PROVIDER_RESOURCE --output-file FILE (--credential-source-file F | --credential-source-url U | --executable-command C | --aws | --azure | --credential-cert-path P)",
		Short: "Write an external_account credential configuration, byte for byte as gcloud does",
		Long: `Writes the credential configuration gcloud iam workload-identity-pools create-cred-config
writes for the same arguments (same flags, same bytes), plus keyless's flags:
  --keyless-server URL       token_url, token_info_url and the impersonation URL at a keyless server
  --token-url, --token-info-url, --iam-credentials-url   each endpoint separately
PROVIDER_RESOURCE is projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER
(the //iam.googleapis.com/ audience form is accepted too).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Audience = args[0]
			if out == "" {
				return errors.New("--output-file is required")
			}
			var err error
			if headers != "" {
				if o.CredentialSourceHeaders, err = credcfg.ParseHeaders(headers); err != nil {
					return err
				}
			}
			if lifetime != "" {
				if o.ServiceAccountTokenLifetimeSeconds, err = credcfg.ParseTokenLifetime(lifetime); err != nil {
					return err
				}
			}
			if timeout != "" {
				if o.ExecutableTimeoutMillis, err = credcfg.ParseExecutableTimeout(timeout); err != nil {
					return err
				}
			}
			data, err := credcfg.Generate(o)
			if err != nil {
				return err
			}
			if o.CredentialCertPath != "" {
				cert, err := credcfg.CertificateConfig(o)
				if err != nil {
					return err
				}
				path := o.CredentialCertConfigurationOutputFile
				if path == "" {
					home, _ := os.UserHomeDir()
					path = credcfg.DefaultCertificateConfigPath(os.Getenv, home)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					return err
				}
				if err := os.WriteFile(path, cert, 0o600); err != nil {
					return err
				}
			}
			if err := os.WriteFile(out, data, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Created credential configuration file [%s].\n", out)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&out, "output-file", "", "where to write the credential configuration")
	f.StringVar(&o.ServiceAccount, strings.TrimPrefix(credcfg.FlagServiceAccount, "--"), "", "service account to impersonate")
	f.StringVar(&lifetime, strings.TrimPrefix(credcfg.FlagServiceAccountTokenLifetimeSeconds, "--"), "", "impersonated token lifetime (600..43200 seconds, or 30m)")
	f.StringVar(&o.SubjectTokenType, strings.TrimPrefix(credcfg.FlagSubjectTokenType, "--"), "", "subject token type (file, url and executable sources)")
	f.StringVar(&o.CredentialSourceFile, strings.TrimPrefix(credcfg.FlagCredentialSourceFile, "--"), "", "file holding the subject token")
	f.StringVar(&o.CredentialSourceURL, strings.TrimPrefix(credcfg.FlagCredentialSourceURL, "--"), "", "URL serving the subject token")
	f.StringVar(&headers, strings.TrimPrefix(credcfg.FlagCredentialSourceHeaders, "--"), "", "headers for the URL source (KEY=VALUE,...)")
	f.StringVar(&o.CredentialSourceType, strings.TrimPrefix(credcfg.FlagCredentialSourceType, "--"), "", "text or json")
	f.StringVar(&o.CredentialSourceFieldName, strings.TrimPrefix(credcfg.FlagCredentialSourceFieldName, "--"), "", "JSON field holding the token")
	f.StringVar(&o.ExecutableCommand, strings.TrimPrefix(credcfg.FlagExecutableCommand, "--"), "", "executable source command")
	f.StringVar(&timeout, strings.TrimPrefix(credcfg.FlagExecutableTimeoutMillis, "--"), "", "executable timeout (5000..120000 ms, or 5s)")
	f.StringVar(&o.ExecutableOutputFile, strings.TrimPrefix(credcfg.FlagExecutableOutputFile, "--"), "", "executable output cache file")
	f.BoolVar(&o.AWS, strings.TrimPrefix(credcfg.FlagAWS, "--"), false, "AWS source (IMDS)")
	f.BoolVar(&o.EnableIMDSv2, "enable-imdsv2", false, "use IMDSv2 session tokens")
	f.BoolVar(&o.Azure, strings.TrimPrefix(credcfg.FlagAzure, "--"), false, "Azure source (IMDS)")
	f.StringVar(&o.AppIDURI, strings.TrimPrefix(credcfg.FlagAppIDURI, "--"), "", "Azure application ID URI")
	f.StringVar(&o.CredentialCertPath, strings.TrimPrefix(credcfg.FlagCredentialCertPath, "--"), "", "X.509 certificate")
	f.StringVar(&o.CredentialCertPrivateKeyPath, strings.TrimPrefix(credcfg.FlagCredentialCertPrivateKeyPath, "--"), "", "X.509 private key")
	f.StringVar(&o.CredentialCertConfigurationOutputFile, strings.TrimPrefix(credcfg.FlagCredentialCertConfigurationOutputFile, "--"), "", "certificate configuration file")
	f.StringVar(&o.CredentialCertTrustChainPath, strings.TrimPrefix(credcfg.FlagCredentialCertTrustChainPath, "--"), "", "X.509 trust chain")
	f.StringVar(&o.UniverseDomain, strings.TrimPrefix(credcfg.FlagUniverseDomain, "--"), "", "universe domain")
	f.StringVar(&o.TokenURL, strings.TrimPrefix(credcfg.FlagTokenURL, "--"), "", "keyless: token_url")
	f.StringVar(&o.TokenInfoURL, strings.TrimPrefix(credcfg.FlagTokenInfoURL, "--"), "", "keyless: token_info_url")
	f.StringVar(&o.IAMCredentialsURL, strings.TrimPrefix(credcfg.FlagIAMCredentialsURL, "--"), "", "keyless: base of the impersonation URL")
	f.StringVar(&o.KeylessServer, strings.TrimPrefix(credcfg.FlagKeylessServer, "--"), "", "keyless: point every endpoint at this keyless server")
	return c
}
