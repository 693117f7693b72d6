package credcfg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateMatchesGcloudGoldens(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases() {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join("testdata", "gcloud", c.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Generate(c.opts)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Generate differs from gcloud's %s\n got: %q\nwant: %q", c.file, got, want)
			}
		})
	}
}

func TestCertificateConfigMatchesGcloudGolden(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join("testdata", "gcloud", "cert_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := CertificateConfig(x509GoldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("CertificateConfig\n got: %q\nwant: %q", got, want)
	}
}

// The goldens themselves pin the byte-level quirks Generate must keep.
func TestGoldenByteQuirks(t *testing.T) {
	t.Parallel()
	aws, err := os.ReadFile(filepath.Join("testdata", "gcloud", "aws.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasSuffix(aws, []byte("\n")) {
		t.Error("gcloud writes no trailing newline")
	}
	if !bytes.Contains(aws, []byte(`?Action=GetCallerIdentity&Version=2011-06-15",`)) {
		t.Error("'&' must stay unescaped")
	}
	if !bytes.HasPrefix(aws, []byte("{\n  \"universe_domain\": \"googleapis.com\",\n  \"type\"")) {
		t.Error("two-space indent and universe_domain first")
	}
}
