package credcfg

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []Header
	}{
		{"", nil},
		{"^;^", nil},
		{"Metadata-Flavor=Google", []Header{{"Metadata-Flavor", "Google"}}},
		{"A=1,B=2", []Header{{"A", "1"}, {"B", "2"}}},
		{"A=1,", []Header{{"A", "1"}}},
		{"A=", []Header{{"A", ""}}},
		{"A=b=c", []Header{{"A", "b=c"}}},
		{"Z=1,A=2,Z=3", []Header{{"Z", "1"}, {"A", "2"}, {"Z", "3"}}},
		{"^;^a=1,2;b=3", []Header{{"a", "1,2"}, {"b", "3"}}},
		{"^::^a=1:2::b=3::", []Header{{"a", "1:2"}, {"b", "3"}}},
		{"^a=1", []Header{{"^a", "1"}}}, // one '^' is not the ^D^ syntax
		{"k=v^x^", []Header{{"k", "v^x^"}}},
	}
	for _, c := range cases {
		got, err := ParseHeaders(c.in)
		if err != nil {
			t.Errorf("ParseHeaders(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseHeaders(%q) (-want +got):\n%s", c.in, diff)
		}
	}
	for _, bad := range []string{"a", "a=1,,b=2", "=1", "a=1,b", ",", "^^a=1", "^^x", "^^", ",a=1"} {
		if _, err := ParseHeaders(bad); !errors.Is(err, ErrValue) || !hasFlag(err, FlagCredentialSourceHeaders, ErrValue) {
			t.Errorf("ParseHeaders(%q) err = %v, want ErrValue", bad, err)
		}
	}
}

func TestGenerateMergesRepeatedHeaders(t *testing.T) {
	t.Parallel()
	hs, err := ParseHeaders("Z=1,A=2,Z=3")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(Options{Audience: testProvider, CredentialSourceURL: "https://h/t", CredentialSourceHeaders: hs})
	if err != nil {
		t.Fatal(err)
	}
	want := "\"headers\": {\n      \"Z\": \"3\",\n      \"A\": \"2\"\n    }"
	if !contains(out, want) {
		t.Errorf("got %s\nwant headers %s", out, want)
	}
}

func TestParseTokenLifetime(t *testing.T) {
	t.Parallel()
	good := map[string]int{"600": 600, "43200": 43200, "1800": 1800, "30m": 1800, "1h": 3600, "1H30M": 5400, "2700s": 2700, "12h": 43200, "0.5h": 1800}
	for in, want := range good {
		got, err := ParseTokenLifetime(in)
		if err != nil || got != want {
			t.Errorf("ParseTokenLifetime(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "599", "43201", "9m", "13h", "1800.5", "1800.5s", "-30m", "+30m", "PT30M", "abc", "30", "99999999999999999999", "1500ms"} {
		if _, err := ParseTokenLifetime(bad); !hasFlag(err, FlagServiceAccountTokenLifetimeSeconds, ErrValue) {
			t.Errorf("ParseTokenLifetime(%q) err = %v", bad, err)
		}
	}
}

func TestParseExecutableTimeout(t *testing.T) {
	t.Parallel()
	good := map[string]int{"5000": 5000, "120000": 120000, "5s": 5000, "2m": 120000, "5500ms": 5500, "5.5s": 5500}
	for in, want := range good {
		got, err := ParseExecutableTimeout(in)
		if err != nil || got != want {
			t.Errorf("ParseExecutableTimeout(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"4999", "120001", "4s", "3m", "5000.5", "5000500us", "x", "-5s"} {
		if _, err := ParseExecutableTimeout(bad); !hasFlag(err, FlagExecutableTimeoutMillis, ErrValue) {
			t.Errorf("ParseExecutableTimeout(%q) err = %v", bad, err)
		}
	}
}

func TestDefaultCertificateConfigPath(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := DefaultCertificateConfigPath(env(map[string]string{"CLOUDSDK_CONFIG": "/cfg"}), "/home/u"); got != filepath.Join("/cfg", "certificate_config.json") {
		t.Errorf("with CLOUDSDK_CONFIG: %q", got)
	}
	if got := DefaultCertificateConfigPath(env(nil), "/home/u"); got != filepath.Join("/home/u", ".config", "gcloud", "certificate_config.json") {
		t.Errorf("home: %q", got)
	}
	if got := DefaultCertificateConfigPath(env(nil), ""); got != "" {
		t.Errorf("nothing known: %q", got)
	}
}

func TestCertificateConfigNeedsX509(t *testing.T) {
	t.Parallel()
	if _, err := CertificateConfig(fileOpts()); !hasFlag(err, FlagCredentialCertPath, ErrConflict) {
		t.Errorf("err = %v", err)
	}
	if _, err := CertificateConfig(Options{Audience: testProvider, CredentialCertPath: "/c"}); !hasFlag(err, FlagCredentialCertPrivateKeyPath, ErrConflict) {
		t.Errorf("err = %v", err)
	}
}
