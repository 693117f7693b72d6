package credcfg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requiredEnv turns a missing gcloud from a skip into a failure (CI sets it).
// Without it, -short skips the live tests (each gcloud run costs ~1 s of CPU).
const requiredEnv = "KEYLESS_INTEROP_REQUIRED"

// gcloudPath returns the installed gcloud, or skips (fails with
// KEYLESS_INTEROP_REQUIRED set).
func gcloudPath(t *testing.T) string {
	t.Helper()
	if testing.Short() && os.Getenv(requiredEnv) == "" {
		t.Skip("runs gcloud; skipped in -short mode")
	}
	p, err := exec.LookPath("gcloud")
	if err == nil {
		return p
	}
	if os.Getenv(requiredEnv) != "" {
		t.Fatalf("gcloud not found, and %s is set", requiredEnv)
	}
	t.Skipf("gcloud not found (set %s to make this a failure)", requiredEnv)
	return ""
}

// gcloudEnv isolates gcloud: a fresh config dir and HOME, no ambient
// Google/gcloud settings or proxies, no prompts, and no GCE metadata probe
// (without CLOUDSDK_CORE_CHECK_GCE_METADATA=false gcloud resolves
// metadata.google.internal once per config dir; nothing else touches the
// network).
func gcloudEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch uk := strings.ToUpper(k); {
		case strings.HasSuffix(uk, "_PROXY"), strings.HasPrefix(uk, "CLOUDSDK_"), strings.HasPrefix(uk, "GOOGLE_"),
			strings.HasPrefix(uk, "GCE_"), uk == "HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+dir, "CLOUDSDK_CONFIG="+filepath.Join(dir, "gcloud"),
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1", "CLOUDSDK_CORE_CHECK_GCE_METADATA=false",
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true", "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true")
}

// runGcloud runs create-cred-config with args and returns the file it
// wrote, the certificate config it wrote at certPath ("" for none), and
// its stderr.
func runGcloud(t *testing.T, gcloud string, args []string, certPath func(dir string) string) (cfg, certCfg []byte, stderr string) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	full := append([]string{"iam", "workload-identity-pools", "create-cred-config"}, args...)
	full = append(full, "--output-file="+out)
	cmd := exec.CommandContext(ctx, gcloud, full...)
	cmd.Dir, cmd.Env = dir, gcloudEnv(dir)
	cmd.WaitDelay = 5 * time.Second
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	if err := cmd.Run(); err != nil {
		t.Fatalf("gcloud %q: %v\n%s", args, err, errBuf.String())
	}
	cfg, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("gcloud %q wrote no file: %v\n%s", args, err, errBuf.String())
	}
	if certPath != nil {
		if certCfg, err = os.ReadFile(certPath(dir)); err != nil {
			t.Fatalf("gcloud %q wrote no certificate config: %v\n%s", args, err, errBuf.String())
		}
	}
	return cfg, certCfg, errBuf.String()
}

// The goldens were captured with the flags gcloudArgs derives from their
// options; re-running gcloud proves it.
func TestLiveGcloudReproducesGoldens(t *testing.T) {
	t.Parallel()
	gcloud := gcloudPath(t)
	for _, c := range goldenCases() {
		if !c.live {
			continue
		}
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join("testdata", "gcloud", c.file))
			if err != nil {
				t.Fatal(err)
			}
			got, _, _ := runGcloud(t, gcloud, gcloudArgs(c.opts), nil)
			if !bytes.Equal(got, want) {
				t.Errorf("gcloud %q\n got: %q\nwant: %q", gcloudArgs(c.opts), got, want)
			}
		})
	}
}

type liveCase struct {
	name string
	opts Options
	// Raw flag values handed to gcloud as typed; the same strings go
	// through ParseHeaders / ParseTokenLifetime / ParseExecutableTimeout
	// into opts, so those parsers are compared with gcloud's too.
	headers, lifetime, timeout string
}

func liveCases() []liveCase {
	const prov = "projects/987654321098/locations/global/workloadIdentityPools/ci-pool/providers/github"
	const sa = "deployer@build-project.iam.gserviceaccount.com"
	return []liveCase{
		{name: "file-text-noimp", opts: Options{Audience: prov, CredentialSourceFile: "/run/tok", CredentialSourceType: "text"}},
		{name: "file-json-imp", opts: Options{Audience: prov, ServiceAccount: sa, CredentialSourceFile: "/run/tok.json", CredentialSourceType: "JSON", CredentialSourceFieldName: "value"}},
		{name: "file-lifetime", opts: Options{Audience: prov, ServiceAccount: sa, CredentialSourceFile: "/run/tok"}, lifetime: "43200"},
		{name: "file-lifetime-duration", opts: Options{Audience: prov, ServiceAccount: sa, CredentialSourceFile: "/run/tok"}, lifetime: "30m"},
		{name: "file-saml", opts: Options{Audience: prov, ServiceAccount: sa, CredentialSourceFile: "/run/saml", SubjectTokenType: TokenTypeSAML2}},
		{name: "url-headers", opts: Options{Audience: prov, ServiceAccount: sa, CredentialSourceURL: "http://127.0.0.1:8080/token?aud=x&fmt=<json>"}, headers: "Metadata-Flavor=Google,X-Empty=,X-Eq=a=b"},
		{name: "url-headers-dup-altdelim", opts: Options{Audience: prov, CredentialSourceURL: "http://metadata/token", CredentialSourceType: "json", CredentialSourceFieldName: "id_token"}, headers: "^;^Z=1,2;A=2;Z=3;"},
		{name: "url-no-format", opts: Options{Audience: prov, CredentialSourceURL: "https://tokens.example.com/t"}},
		{name: "exec-defaults", opts: Options{Audience: prov, ServiceAccount: sa, ExecutableCommand: "/opt/bin/tok"}},
		{name: "exec-timeout-output", opts: Options{Audience: prov, ExecutableCommand: "/opt/bin/tok --aud x", ExecutableOutputFile: "/var/cache/tok.json", SubjectTokenType: TokenTypeIDToken}, timeout: "120000"},
		{name: "exec-timeout-duration", opts: Options{Audience: prov, ServiceAccount: sa, ExecutableCommand: "/opt/bin/tok"}, timeout: "5s"},
		{name: "aws-noimp", opts: Options{Audience: prov, AWS: true}},
		{name: "aws-imdsv2", opts: Options{Audience: prov, ServiceAccount: sa, AWS: true, EnableIMDSv2: true}, lifetime: "600"},
		{name: "azure-default", opts: Options{Audience: prov, Azure: true}},
		{name: "azure-app-id", opts: Options{Audience: prov, ServiceAccount: sa, Azure: true, AppIDURI: "api://0b3c1c2e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"}},
		{name: "universe", opts: Options{Audience: prov, ServiceAccount: sa, AWS: true, UniverseDomain: "sovereign.example.net"}},
		{name: "universe-noimp", opts: Options{Audience: prov, CredentialSourceFile: "/run/tok", UniverseDomain: "sovereign.example.net"}},
		{name: "escaping", opts: Options{
			Audience: prov, ServiceAccount: sa,
			CredentialSourceURL: "https://h.example/p?a=1&b=<x>&c=\"q\"&d=é",
		}, headers: "X-Q=\"quoted\" <&> \\ /,X-U=é中😀"},
		{name: "escaping-file", opts: Options{Audience: prov, CredentialSourceFile: "/run/naïve dir/tök\\en😀.json", CredentialSourceType: "json", CredentialSourceFieldName: "a\"b&<c>é"}},
	}
}

func TestLiveGcloudByteForByte(t *testing.T) {
	t.Parallel()
	gcloud := gcloudPath(t)
	for _, c := range liveCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := c.opts
			args := gcloudArgs(o)
			var err error
			if c.headers != "" {
				if o.CredentialSourceHeaders, err = ParseHeaders(c.headers); err != nil {
					t.Fatal(err)
				}
				args = append(args, FlagCredentialSourceHeaders+"="+c.headers)
			}
			if c.lifetime != "" {
				if o.ServiceAccountTokenLifetimeSeconds, err = ParseTokenLifetime(c.lifetime); err != nil {
					t.Fatal(err)
				}
				args = append(args, FlagServiceAccountTokenLifetimeSeconds+"="+c.lifetime)
			}
			if c.timeout != "" {
				if o.ExecutableTimeoutMillis, err = ParseExecutableTimeout(c.timeout); err != nil {
					t.Fatal(err)
				}
				args = append(args, FlagExecutableTimeoutMillis+"="+c.timeout)
			}
			got, err := Generate(o)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			want, _, _ := runGcloud(t, gcloud, args, nil)
			if !bytes.Equal(got, want) {
				t.Errorf("gcloud %q\n got: %s\nwant: %s", args, got, want)
			}
		})
	}
}

func TestLiveGcloudX509(t *testing.T) {
	t.Parallel()
	gcloud := gcloudPath(t)
	const sa = "deployer@build-project.iam.gserviceaccount.com"
	cases := []struct {
		name      string
		outFile   bool // --credential-cert-configuration-output-file
		chain, sa bool
	}{
		{"explicit-config-chain-imp", true, true, true},
		{"explicit-config-noimp", true, false, false},
		{"default-config-location", false, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// gcloud writes the certificate config itself, so its path must
			// live in the per-run directory; runGcloud runs in that directory,
			// so a relative path is stable across both sides.
			o := Options{
				Audience:                     testProvider,
				CredentialCertPath:           "/etc/pki/leaf.pem",
				CredentialCertPrivateKeyPath: "/etc/pki/leaf.key",
			}
			if c.outFile {
				o.CredentialCertConfigurationOutputFile = "certcfg.json"
			}
			if c.chain {
				o.CredentialCertTrustChainPath = "/etc/pki/chain.pem"
			}
			if c.sa {
				o.ServiceAccount = sa
			}
			certPath := func(dir string) string {
				if c.outFile {
					return filepath.Join(dir, "certcfg.json")
				}
				getenv := func(k string) string {
					if k == "CLOUDSDK_CONFIG" {
						return filepath.Join(dir, "gcloud")
					}
					return ""
				}
				return DefaultCertificateConfigPath(getenv, dir)
			}
			wantCfg, wantCert, _ := runGcloud(t, gcloud, gcloudArgs(o), certPath)
			gotCfg, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			gotCert, err := CertificateConfig(o)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotCfg, wantCfg) {
				t.Errorf("credential config\n got: %s\nwant: %s", gotCfg, wantCfg)
			}
			if !bytes.Equal(gotCert, wantCert) {
				t.Errorf("certificate config\n got: %s\nwant: %s", gotCert, wantCert)
			}
		})
	}
}

// gcloud refuses these; so must Validate. (gcloud also "fails" some
// GeneratorError cases with exit status 0 and no file; those count as
// refusals.)
func TestLiveGcloudRefusesWhatValidateRefuses(t *testing.T) {
	t.Parallel()
	gcloud := gcloudPath(t)
	base := Options{Audience: testProvider}
	cases := []struct {
		name string
		opts Options
		kind error
	}{
		{"no-source", base, ErrSource},
		{"two-sources", with(base, func(o *Options) { o.AWS, o.CredentialSourceFile = true, "/t" }), ErrSource},
		{"imdsv2-without-aws", with(base, func(o *Options) { o.CredentialSourceFile, o.EnableIMDSv2 = "/t", true }), ErrConflict},
		{"lifetime-without-sa", with(base, func(o *Options) { o.CredentialSourceFile, o.ServiceAccountTokenLifetimeSeconds = "/t", 1800 }), ErrConflict},
		{"lifetime-too-short", with(base, func(o *Options) {
			o.CredentialSourceFile, o.ServiceAccount, o.ServiceAccountTokenLifetimeSeconds = "/t", testSA, 599
		}), ErrValue},
		{"lifetime-too-long", with(base, func(o *Options) {
			o.CredentialSourceFile, o.ServiceAccount, o.ServiceAccountTokenLifetimeSeconds = "/t", testSA, 43201
		}), ErrValue},
		{"timeout-too-short", with(base, func(o *Options) { o.ExecutableCommand, o.ExecutableTimeoutMillis = "/bin/t", 4999 }), ErrValue},
		{"timeout-too-long", with(base, func(o *Options) { o.ExecutableCommand, o.ExecutableTimeoutMillis = "/bin/t", 120001 }), ErrValue},
		{"json-without-field", with(base, func(o *Options) { o.CredentialSourceFile, o.CredentialSourceType = "/t", "json" }), ErrConflict},
		{"bad-format", with(base, func(o *Options) { o.CredentialSourceFile, o.CredentialSourceType = "/t", "xml" }), ErrValue},
		{"format-with-aws", with(base, func(o *Options) { o.AWS, o.CredentialSourceType = true, "text" }), ErrConflict},
		{"format-with-azure", with(base, func(o *Options) { o.Azure, o.CredentialSourceType = true, "json" }), ErrConflict},
		{"cert-without-key", with(base, func(o *Options) { o.CredentialCertPath = "/c.pem" }), ErrConflict},
		{"key-without-cert", with(base, func(o *Options) { o.CredentialSourceFile, o.CredentialCertPrivateKeyPath = "/t", "/k.pem" }), ErrConflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(c.opts)
			if !errors.Is(err, c.kind) || !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("Validate = %v, want %v", err, c.kind)
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "out.json")
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			args := append([]string{"iam", "workload-identity-pools", "create-cred-config"}, gcloudArgs(c.opts)...)
			cmd := exec.CommandContext(ctx, gcloud, append(args, "--output-file="+out)...)
			cmd.Dir, cmd.Env = dir, gcloudEnv(dir)
			cmd.WaitDelay = 5 * time.Second
			stderr, runErr := cmd.CombinedOutput()
			if _, statErr := os.Stat(out); statErr == nil {
				t.Errorf("gcloud accepted %q (exit %v): %s", args, runErr, stderr)
			} else if !strings.Contains(string(stderr), "ERROR") {
				t.Errorf("gcloud wrote nothing but printed no ERROR: %s", stderr)
			}
		})
	}
}

func with(o Options, f func(*Options)) Options {
	f(&o)
	return o
}
