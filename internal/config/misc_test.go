package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestApplyDefaults(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		":8080":          "http://127.0.0.1:8080",
		"0.0.0.0:9000":   "http://127.0.0.1:9000",
		"[::]:9000":      "http://127.0.0.1:9000",
		"[::1]:9000":     "http://[::1]:9000",
		"localhost:80":   "http://localhost:80",
		"":               "",
	} {
		c := &Config{}
		c.ApplyDefaults(addr)
		if c.Issuer != want {
			t.Errorf("%q: issuer %q, want %q", addr, c.Issuer, want)
		}
		if addr != "" && addr != ":8080" && addr != "0.0.0.0:9000" && addr != "[::]:9000" && len(c.Validate()) != 0 {
			t.Errorf("%q: defaults do not validate: %v", addr, c.Validate())
		}
	}

	c := validConfig()
	c.Server = nil
	fic(c).Audiences = nil
	role(c).Path, role(c).MaxSessionDuration = "", 0
	c.ApplyDefaults("127.0.0.1:1")
	want := validConfig()
	want.Server = &Server{SigningAlg: "ES256", AccessTokenLifetime: "3600s"}
	fic(want).Audiences = []string{"api://AzureADTokenExchange"}
	role(want).Path, role(want).MaxSessionDuration = "/", 3600
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatal(ps)
	}

	// Set values are kept.
	c = validConfig()
	c.Server.SigningAlg, c.Server.AccessTokenLifetime = "RS256", "600s"
	fic(c).Audiences = []string{"api://AzureADTokenExchangeUSGov"}
	role(c).Path, role(c).MaxSessionDuration = "/x/", 7200
	before := validConfig()
	before.Server.SigningAlg, before.Server.AccessTokenLifetime = "RS256", "600s"
	fic(before).Audiences = []string{"api://AzureADTokenExchangeUSGov"}
	role(before).Path, role(before).MaxSessionDuration = "/x/", 7200
	c.ApplyDefaults("127.0.0.1:1")
	if diff := cmp.Diff(before, c); diff != "" {
		t.Fatalf("ApplyDefaults overrode set values (-want +got):\n%s", diff)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"0s": 0, "3600s": time.Hour, "1.5s": 1500 * time.Millisecond, "0.000000001s": 1, "43200.000000000s": 12 * time.Hour,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "s", "1", "1h", "-1s", "+1s", "1.s", ".5s", "1.0000000001s", "1e3s", " 1s", "1 s", "9223372037s", "99999999999999999999s"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("%q: accepted as %v", in, d)
		}
	}
}

func TestProblemFormatting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "f.yaml", Path: "a.b", Line: 3, Column: 7, Message: "m"}, "f.yaml:3:7: a.b: m"},
		{Problem{File: "f.yaml", Path: "a.b", Line: 3, Message: "m"}, "f.yaml:3: a.b: m"},
		{Problem{File: "f.yaml", Path: "a.b", Message: "m"}, "f.yaml: a.b: m"},
		{Problem{Path: "a.b", Message: "m"}, "a.b: m"},
		{Problem{Line: 2, Message: "m"}, "2: m"},
		{Problem{Message: "m"}, "m"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	ps := Problems{{Path: "a", Message: "x"}, {Path: "b", Message: "y"}}
	if ps.Error() != "a: x\nb: y" {
		t.Errorf("%q", ps.Error())
	}
	var err error = ps
	if !errors.Is(err, ErrInvalid) || errors.Is(err, errors.New("other")) {
		t.Error("errors.Is")
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", err), ErrInvalid) {
		t.Error("wrapped errors.Is")
	}
}

func TestSortProblems(t *testing.T) {
	t.Parallel()
	ps := Problems{
		{Path: "p[10].a", Message: "1"},
		{Path: "p[2].a", Message: "2"},
		{Line: 5, Path: "z", Message: "3"},
		{Line: 2, Path: "y", Message: "4"},
		{Line: 5, Path: "a", Column: 9, Message: "5"},
		{Line: 5, Path: "a", Column: 2, Message: "7"},
		{Line: 5, Path: "a", Column: 2, Message: "6"},
		{Path: "p[02].a", Message: "8"},
		{Path: "p[2]", Message: "9"},
	}
	sortProblems(ps)
	var got []string
	for _, p := range ps {
		got = append(got, p.Message)
	}
	if diff := cmp.Diff([]string{"4", "6", "7", "5", "3", "9", "2", "8", "1"}, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestParentPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a.b":                     "a",
		"a[3]":                    "a",
		`m["attribute.x"]`:        "m",
		`m["a[\"b\"]"]`:           "m",
		`m["x"]["y"]`:             `m["x"]`,
		`a.m["k.with.dots"].c`:    `a.m["k.with.dots"]`,
		"a":                       "",
		`p.attributeMapping["]"]`: "p.attributeMapping",
	} {
		got, ok := parentPath(in)
		if !ok || got != want {
			t.Errorf("parentPath(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := parentPath(""); ok {
		t.Error("root has a parent")
	}
}

func TestParseIntoOtherDocuments(t *testing.T) {
	t.Parallel()
	var doc struct {
		Serve struct {
			GCEMetadata string `json:"gceMetadata,omitempty"`
		} `json:"serve"`
		Name string `json:"name,omitempty"`
	}
	if probs := ParseInto([]byte("serve:\n  gceMetadata: 127.0.0.1:8181\nname: x\n"), "a.yaml", &doc); len(probs) > 0 || doc.Serve.GCEMetadata != "127.0.0.1:8181" {
		t.Fatalf("%v %+v", probs, doc)
	}
	probs := ParseInto([]byte("serve:\n  gceMetadta: x\n"), "a.yaml", &doc)
	if len(probs) != 1 || !strings.Contains(probs.Error(), "a.yaml:2") || !strings.Contains(probs.Error(), "gceMetadata") {
		t.Fatalf("unknown field: %v", probs)
	}
	if probs := ParseInto([]byte("- 1\n"), "a.yaml", &doc); len(probs) != 1 || !strings.Contains(probs.Error(), "serve, name") {
		t.Fatalf("not a mapping: %v", probs)
	}
}

func TestAWSSTSHosts(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"sts-fips.us-east-1.amazonaws.com", "sts.cn-north-1.amazonaws.com.cn", "vpce-0abc-1x2y.sts.us-east-1.vpce.amazonaws.com"} {
		c := &Config{Server: &Server{AWSSTSHosts: []string{h}}}
		if probs := c.Validate(); len(probs) > 0 {
			t.Errorf("%s: %v", h, probs)
		}
	}
	for _, h := range []string{"https://sts.amazonaws.com", "sts.amazonaws.com:443", "evil.example", "sts.amazonaws.com.evil.test", "STS.AMAZONAWS.COM", "127.0.0.1", "*.amazonaws.com", ""} {
		c := &Config{Server: &Server{AWSSTSHosts: []string{h}}}
		if probs := c.Validate(); len(probs) == 0 {
			t.Errorf("%q accepted", h)
		}
	}
}

func TestOrgPolicyBindsIAMOIDCProviders(t *testing.T) {
	t.Parallel()
	c := &Config{OrgPolicy: &OrgPolicy{AllowedIssuers: []string{"https://token.actions.githubusercontent.com"}},
		AWS: &AWS{Accounts: []AWSAccount{{AccountID: "210987654321", OpenIDConnectProviders: []OpenIDConnectProvider{
			{URL: "https://token.actions.githubusercontent.com", ClientIDList: []string{"sts.amazonaws.com"}},
			{URL: "https://gitlab.example.com", ClientIDList: []string{"sts.amazonaws.com"}},
		}}}}}
	probs := c.Validate()
	if len(probs) != 1 || !strings.Contains(probs.Error(), "aws.accounts[0].openIDConnectProviders[1].url") || !strings.Contains(probs.Error(), "orgPolicy.allowedIssuers") {
		t.Fatalf("%v", probs)
	}
}
