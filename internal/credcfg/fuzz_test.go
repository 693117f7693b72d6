package credcfg

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzGenerate drives Generate and Validate with arbitrary strings in every
// field. Invariants: no panic; Generate fails exactly when Validate does,
// with the same error; a success is valid JSON that decodes back to the
// inputs (so the hand-written encoder escapes correctly), with the audience
// always in the //iam.googleapis.com/ form.
func FuzzGenerate(f *testing.F) {
	f.Add(uint8(0), testProvider, testSA, "/var/run/secrets/token", "", "", "", "", 0, 0, "", "", "", uint8(0))
	f.Add(uint8(1), "//iam.googleapis.com/"+testProvider, "", "http://127.0.0.1:9999/token?a=1&b=<2>", "Metadata-Flavor=Google,X-Foo=bar", "json", "access_token", "", 1800, 0, "", "https://keyless.example.com", "", uint8(0))
	f.Add(uint8(2), testProvider, testSA, "/usr/local/bin/get-token --arg=1", "", "", "", "/var/run/keyless/cache.json", 0, 5000, TokenTypeIDToken, "", "keyless.example.com", uint8(0))
	f.Add(uint8(3), testProvider, testSA, "", "", "", "", "", 600, 0, "", "", "", uint8(1))
	f.Add(uint8(4), testProvider, "", "api://app-id", "", "", "", "", 0, 0, "", "http://[::1]:8080", "", uint8(0))
	f.Add(uint8(5), testProvider, testSA, "/etc/pki/leaf.pem", "", "", "/etc/pki/leaf.key", "/etc/pki/cfg.json", 0, 0, "", "", "", uint8(2))
	f.Add(uint8(1), testProvider, testSA, "https://h/é😀\"\\", "^;^a=1,2;b=\u2028;a=3", "JSON", "fïeld\"", "", 43200, 0, "", "", "", uint8(0))
	f.Fuzz(func(t *testing.T, source uint8, aud, sa, main, headers, typ, field, aux string, lifetime, timeout int, subjType, server, universe string, bits uint8) {
		o := Options{
			Audience: aud, ServiceAccount: sa, ServiceAccountTokenLifetimeSeconds: lifetime,
			SubjectTokenType: subjType, UniverseDomain: universe,
			CredentialSourceType: typ, CredentialSourceFieldName: field,
		}
		if hs, err := ParseHeaders(headers); err == nil {
			o.CredentialSourceHeaders = hs
		}
		switch source % 6 {
		case 0:
			o.CredentialSourceFile = main
		case 1:
			o.CredentialSourceURL = main
		case 2:
			o.ExecutableCommand, o.ExecutableTimeoutMillis, o.ExecutableOutputFile = main, timeout, aux
		case 3:
			o.AWS = true
		case 4:
			o.Azure, o.AppIDURI = true, main
		case 5:
			o.CredentialCertPath, o.CredentialCertPrivateKeyPath, o.CredentialCertConfigurationOutputFile = main, field, aux
		}
		o.EnableIMDSv2 = bits&1 != 0
		if bits&2 != 0 {
			o.CredentialCertTrustChainPath = aux
		}
		switch (bits >> 2) % 4 {
		case 0:
			o.KeylessServer = server
		case 1:
			o.TokenURL = server
		case 2:
			o.IAMCredentialsURL = server
		case 3:
			o.TokenInfoURL = server
		}

		verr := Validate(o)
		out, gerr := Generate(o)
		if (verr == nil) != (gerr == nil) {
			t.Fatalf("Validate = %v but Generate = %v", verr, gerr)
		}
		if gerr != nil {
			if out != nil || !errors.Is(gerr, ErrInvalidOptions) || gerr.Error() != verr.Error() {
				t.Fatalf("Generate error shape: %q, %v (Validate %v)", out, gerr, verr)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
		var m struct {
			Type             string         `json:"type"`
			Audience         string         `json:"audience"`
			SubjectTokenType string         `json:"subject_token_type"`
			TokenURL         string         `json:"token_url"`
			ImpURL           string         `json:"service_account_impersonation_url"`
			InfoURL          string         `json:"token_info_url"`
			Source           map[string]any `json:"credential_source"`
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type != "external_account" || !strings.HasPrefix(m.Audience, audienceHostPrefix+"projects/") || strings.Count(m.Audience, "//") != 1 {
			t.Fatalf("bad type/audience: %+v", m)
		}
		if (m.ImpURL == "") == (sa != "") || (m.InfoURL == "") == (sa == "") {
			t.Fatalf("impersonation/introspection mismatch for sa %q: %+v", sa, m)
		}
		if m.ImpURL != "" && !strings.HasSuffix(m.ImpURL, "/v1/projects/-/serviceAccounts/"+sa+":generateAccessToken") {
			t.Fatalf("impersonation URL %q", m.ImpURL)
		}
		switch source % 6 {
		case 0:
			if m.Source["file"] != main {
				t.Fatalf("file round trip: %q vs %q", m.Source["file"], main)
			}
		case 1:
			if m.Source["url"] != main {
				t.Fatalf("url round trip: %q vs %q", m.Source["url"], main)
			}
			if len(o.CredentialSourceHeaders) > 0 {
				got, _ := m.Source["headers"].(map[string]any)
				for _, h := range dedupeHeaders(o.CredentialSourceHeaders) {
					if got[h.Name] != h.Value {
						t.Fatalf("header %q round trip: %q vs %q", h.Name, got[h.Name], h.Value)
					}
				}
			}
		case 3:
			if m.SubjectTokenType != TokenTypeAWS4 {
				t.Fatalf("aws type %q", m.SubjectTokenType)
			}
		}
	})
}

// FuzzParseHeaders: no panic; every parsed header has a non-empty name
// without '='; and with plain comma syntax, re-joining the result gives
// back the input (minus one trailing comma).
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"", "a=1", "A=1,B=2,", "^;^a=1,2;b=3", "^::^a=1::b", "a=b=c", "=x", "a=1,,b", "^^x", "é=😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hs, err := ParseHeaders(s)
		if err != nil {
			if !errors.Is(err, ErrValue) {
				t.Fatalf("error kind: %v", err)
			}
			return
		}
		var items []string
		for _, h := range hs {
			if h.Name == "" || strings.Contains(h.Name, "=") {
				t.Fatalf("bad name %q from %q", h.Name, s)
			}
			items = append(items, h.Name+"="+h.Value)
		}
		if !strings.HasPrefix(s, "^") {
			if joined := strings.Join(items, ","); joined != strings.TrimSuffix(s, ",") {
				t.Fatalf("round trip %q -> %q", s, joined)
			}
		}
	})
}

// FuzzParseDurations: no panic, results always within bounds.
func FuzzParseDurations(f *testing.F) {
	for _, s := range []string{"600", "30m", "1h30m", "5s", "1500ms", "0.5h", "-1s", "99999999999999999999h", "PT1H", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseTokenLifetime(s); err == nil && (v < MinTokenLifetimeSeconds || v > MaxTokenLifetimeSeconds) {
			t.Fatalf("lifetime %q -> %d", s, v)
		}
		if v, err := ParseExecutableTimeout(s); err == nil && (v < MinExecutableTimeoutMs || v > MaxExecutableTimeoutMs) {
			t.Fatalf("timeout %q -> %d", s, v)
		}
	})
}
