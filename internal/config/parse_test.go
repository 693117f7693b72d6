package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"
)

// parseOne parses src and expects exactly one problem, at path and line, containing fragments.
func parseOne(t *testing.T, src, path string, line int, fragments ...string) Problem {
	t.Helper()
	_, ps := Parse([]byte(src), "keyless.yaml")
	p := wantProblem(t, ps, path, fragments...)
	if p.Line != line {
		t.Fatalf("problem on line %d, want %d: %v", p.Line, line, p)
	}
	if p.File != "keyless.yaml" {
		t.Fatalf("problem file %q", p.File)
	}
	return p
}

func TestParseUnknownFieldSuggestion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src, path string
		line, col       int
		message         string
	}{
		{"root", "isuer: https://x\n", "isuer", 1, 1, `unknown field "isuer" (did you mean "issuer"?)`},
		{"case", "google:\n  projects:\n  - projectID: my-project\n", "google.projects[0].projectID", 3, 5,
			`unknown field "projectID" (did you mean "projectId"?)`},
		{"deep", `google:
  projects:
  - projectId: my-project
    workloadIdentityPools:
    - workloadIdentityPoolId: pool
      providers:
      - workloadIdentityPoolProviderId: prov
        attributeConditon: "true"
`, "google.projects[0].workloadIdentityPools[0].providers[0].attributeConditon", 8, 9,
			`unknown field "attributeConditon" (did you mean "attributeCondition"?)`},
		{"oidc", "google:\n  projects:\n  - workloadIdentityPools:\n    - providers:\n      - oidc:\n          issuerURL: https://x\n",
			"google.projects[0].workloadIdentityPools[0].providers[0].oidc.issuerURL", 6, 11,
			`unknown field "issuerURL" (did you mean "issuerUri"?)`},
		{"contained", "google:\n  projects:\n  - workloadIdentityPools:\n    - providers:\n      - oidc:\n          audiences: [a]\n",
			"google.projects[0].workloadIdentityPools[0].providers[0].oidc.audiences", 6, 11,
			`unknown field "audiences" (did you mean "allowedAudiences"?)`},
		{"aws role", "aws:\n  accounts:\n  - roles:\n    - rolename: x\n", "aws.accounts[0].roles[0].rolename", 4, 7,
			`unknown field "rolename" (did you mean "roleName"?)`},
		{"no suggestion", "server:\n  zzz: 1\n", "server.zzz", 2, 3,
			`unknown field "zzz"; the fields here are signingAlg, accessTokenLifetime, allowPrivateIssuers, allowInsecureHTTPIssuers, issuerCAFile, awsForwardingDisabled, awsStsHosts`},
		{"json", "{\n  \"issuer\": \"https://x\",\n  \"serevr\": {}\n}", "serevr", 3, 3, `unknown field "serevr" (did you mean "server"?)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := parseOne(t, tc.src, tc.path, tc.line)
			if p.Column != tc.col || p.Message != tc.message {
				t.Fatalf("got %d:%d %q, want %d:%d %q", p.Line, p.Column, p.Message, tc.line, tc.col, tc.message)
			}
		})
	}
}

func TestParseProblemString(t *testing.T) {
	t.Parallel()
	p := parseOne(t, "\n\ngoogle:\n  projects:\n  - projectID: x\n", "google.projects[0].projectID", 5)
	want := `keyless.yaml:5:5: google.projects[0].projectID: unknown field "projectID" (did you mean "projectId"?)`
	if p.String() != want {
		t.Fatalf("got  %s\nwant %s", p, want)
	}
}

func TestParseDuplicateKeys(t *testing.T) {
	t.Parallel()
	parseOne(t, "issuer: https://a\nissuer: https://b\n", "issuer", 2,
		`duplicate key "issuer" (first set on line 1); keep one`)
	parseOne(t, `google:
  projects:
  - workloadIdentityPools:
    - providers:
      - attributeMapping:
          google.subject: assertion.sub
          google.subject: assertion.email
`, `google.projects[0].workloadIdentityPools[0].providers[0].attributeMapping["google.subject"]`, 7,
		`duplicate key "google.subject" (first set on line 6)`)
	parseOne(t, `aws:
  accounts:
  - roles:
    - assumeRolePolicyDocument:
        Statement:
        - Effect: Deny
          Effect: Allow
`, `aws.accounts[0].roles[0].assumeRolePolicyDocument["Statement"][0]["Effect"]`, 7, `duplicate key "Effect"`)
	parseOne(t, "{\"issuer\": \"https://a\",\n \"issuer\": \"https://b\"}", "issuer", 2, `duplicate key "issuer" (first set on line 1)`)
}

func TestParseWrongTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src, path string
		line            int
		message         string
	}{
		{"unquoted number", "google:\n  projects:\n  - projectNumber: 123456789012\n", "google.projects[0].projectNumber", 3,
			`expected a string, found a number (123456789012); quote it ("123456789012") if it is meant as text`},
		{"bool as string", "issuer: true\n", "issuer", 1, `expected a string, found a boolean (true); quote it ("true") if it is meant as text`},
		{"list as string", "issuer: [a]\n", "issuer", 1, "expected a string, found a list"},
		{"yes is not a bool", "server:\n  allowPrivateIssuers: yes\n", "server.allowPrivateIssuers", 2, `expected true or false, found a string "yes"`},
		{"mapping as list", "google:\n  projects:\n    projectId: x\n", "google.projects", 3, "expected a list, found a mapping"},
		{"list as struct", "google:\n  - a\n", "google", 2, "expected a mapping of fields, found a list"},
		{"string as int", "aws:\n  accounts:\n  - roles:\n    - maxSessionDuration: \"3600\"\n", "aws.accounts[0].roles[0].maxSessionDuration", 4,
			`expected a whole number, found a string "3600"`},
		{"float as int", "aws:\n  accounts:\n  - roles:\n    - maxSessionDuration: 1.5\n", "aws.accounts[0].roles[0].maxSessionDuration", 4,
			"expected a whole number, found a number (1.5)"},
		{"int overflow", "google:\n  projects:\n  - serviceAccounts:\n    - iamPolicy:\n        version: 99999999999999999999\n",
			"google.projects[0].serviceAccounts[0].iamPolicy.version", 5, "expected a whole number, found a number (99999999999999999999)"},
		{"map value number", "google:\n  projects:\n  - workloadIdentityPools:\n    - providers:\n      - attributeMapping:\n          attribute.x: 5\n",
			`google.projects[0].workloadIdentityPools[0].providers[0].attributeMapping["attribute.x"]`, 6,
			`expected a string, found a number (5); quote it ("5") if it is meant as text`},
		{"map as list", "google:\n  projects:\n  - workloadIdentityPools:\n    - providers:\n      - attributeMapping: [a]\n",
			"google.projects[0].workloadIdentityPools[0].providers[0].attributeMapping", 5, "expected a mapping, found a list"},
		{"non-string key", "1: x\n", "", 1, "mapping keys must be strings, found a number (1)"},
		{"json number", `{"google": {"projects": [{"projectNumber": 123456789012}]}}`, "google.projects[0].projectNumber", 1,
			"expected a string, found a number (123456789012)"},
		{"custom tag", "issuer: !secret abc\n", "issuer", 1, "unsupported YAML tag !secret"},
		{"binary tag", "issuer: !!binary aGVsbG8=\n", "issuer", 1, "unsupported YAML tag !!binary"},
		{"merge key in struct", "server:\n  <<: {signingAlg: ES256}\n", "server", 2, "YAML merge keys (<<) are not supported"},
		{"policy infinity", "aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: {a: .inf}\n",
			`aws.accounts[0].roles[0].assumeRolePolicyDocument["a"]`, 4, "a number (.inf) is not a number JSON can carry"},
		{"policy string not json", "aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: '{Version: 1}'\n",
			"aws.accounts[0].roles[0].assumeRolePolicyDocument", 4, "expected a JSON document or a YAML mapping, found a string that is not valid JSON"},
		{"policy duplicate in string", "aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: '{\"a\":1,\"a\":2}'\n",
			`aws.accounts[0].roles[0].assumeRolePolicyDocument["a"]`, 4, `duplicate key "a"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parseOne(t, tc.src, tc.path, tc.line, tc.message)
		})
	}
}

func TestParseDocuments(t *testing.T) {
	t.Parallel()
	parseOne(t, "issuer: https://a\n---\nissuer: https://b\n", "", 2, "a second YAML document starts here")
	parseOne(t, "issuer: https://a\n---\n", "", 2, "a second YAML document")
	parseOne(t, "issuer: [\n", "", 1, "invalid YAML: did not find expected node content")
	parseOne(t, "- a\n", "", 1, "the top level must be a mapping of fields (issuer, google, aws, …), found a list")
	parseOne(t, "hello\n", "", 1, `found a string "hello"`)
	parseOne(t, "a: *nope\n", "", 0, "invalid YAML: unknown anchor 'nope' referenced")
	for _, empty := range []string{"", "# nothing\n", "---\n", "null\n", "~", "---\n...\n"} {
		c, ps := Parse([]byte(empty), "f")
		if len(ps) != 0 || c == nil || !cmp.Equal(c, &Config{}) {
			t.Errorf("%q: %v %+v", empty, ps, c)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	data := []byte("issuer: https://a\n" + strings.Repeat("#", MaxFileSize))
	parseOne(t, string(data), "", 0, "the limit is 4194304 (4 MiB)")
}

func TestParseNulls(t *testing.T) {
	t.Parallel()
	c, ps := Parse([]byte("issuer: ~\nserver: null\ngoogle:\n  projects:\n  - projectId:\n    serviceAccounts: ~\n"), "f")
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	want := &Config{Google: &Google{Projects: []Project{{}}}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatal(diff)
	}
}

// billionLaughs builds the classic nested-alias expansion: levels×10 aliases expanding to 10^levels nodes.
func billionLaughs(levels int, use string) string {
	var b strings.Builder
	b.WriteString("x-lol0: &lol0 [lol]\n")
	for i := 1; i <= levels; i++ {
		b.WriteString("x-lol")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(": &lol")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(" [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*lol")
			b.WriteString(string(rune('0' + i - 1)))
		}
		b.WriteString("]\n")
	}
	return strings.ReplaceAll(use, "LOL", "*lol"+string(rune('0'+levels))) + "\n" + b.String()
}

func TestParseBillionLaughs(t *testing.T) {
	t.Parallel()
	// The anchors sit under unknown fields (reported, not walked); the alias is used where
	// the walk expands it: a free-form policy document.
	src := "aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: {a: LOL}\n"
	doc := billionLaughs(9, src)
	// Move the anchors first: YAML needs an anchor before its alias.
	lines := strings.SplitN(doc, "\n\n", 2)
	doc = lines[1] + lines[0] + "\n"
	start := time.Now()
	_, ps := Parse([]byte(doc), "lol.yaml")
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Fatalf("took %v", elapsed)
	}
	found := false
	for _, p := range ps {
		if strings.Contains(p.Message, "YAML aliases expand to more than 50000 nodes") {
			found = true
			if !strings.HasPrefix(p.Path, "aws.accounts[0].roles[0].assumeRolePolicyDocument") {
				t.Errorf("path %q", p.Path)
			}
		}
	}
	if !found {
		t.Fatalf("alias budget not enforced:\n%v", ps)
	}
	// Expansion into a typed list is bounded too (it fails on the type first).
	doc2 := billionLaughs(9, "orgPolicy:\n  allowedIssuers: LOL\n")
	parts := strings.SplitN(doc2, "\n\n", 2)
	_, ps = Parse([]byte(parts[1]+parts[0]+"\n"), "lol.yaml")
	if len(ps) == 0 {
		t.Fatal("no problems")
	}
}

func TestParseSelfReferentialAlias(t *testing.T) {
	t.Parallel()
	src := "aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: &x {a: [*x]}\n"
	start := time.Now()
	_, ps := Parse([]byte(src), "f")
	if time.Since(start) > 10*time.Second {
		t.Fatal("slow")
	}
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "nested more than 64 levels deep") {
		t.Fatalf("%v", ps)
	}
}

func TestParseAliasesAllowed(t *testing.T) {
	t.Parallel()
	src := `google:
  projects:
  - projectId: my-project
    workloadIdentityPools:
    - workloadIdentityPoolId: pool
      providers:
      - workloadIdentityPoolProviderId: one
        attributeMapping: &m {google.subject: assertion.sub}
      - workloadIdentityPoolProviderId: two
        attributeMapping: *m
`
	c, ps := Parse([]byte(src), "f")
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	provs := c.Google.Projects[0].WorkloadIdentityPools[0].Providers
	if provs[1].AttributeMapping["google.subject"] != "assertion.sub" {
		t.Fatalf("%+v", provs)
	}
}

func TestParsePolicyDocument(t *testing.T) {
	t.Parallel()
	const want = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","N":[1.5,16,100,0,true,null,"<&>"]}]}`
	for name, src := range map[string]string{
		"yaml mapping": "Version: 2012-10-17\n        Statement:\n        - Effect: Allow\n          N: [1.50, 0x10, 1e2, -0.0, true, null, <&>]",
		"flow mapping": `{Version: "2012-10-17", Statement: [{Effect: Allow, N: [15e-1, 16, 100.0, 0, True, ~, "<&>"]}]}`,
		"json string":  `'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","N":[1.5,16,1E2,-0,true,null,"\u003c&>"]}]}'`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, ps := Parse([]byte("aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument:\n        "+src+"\n"), "f")
			if len(ps) != 0 {
				t.Fatal(ps)
			}
			if got := string(c.AWS.Accounts[0].Roles[0].AssumeRolePolicyDocument); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
	c, ps := Parse([]byte(`{"aws":{"accounts":[{"roles":[{"assumeRolePolicyDocument":{"b":1,"a":[12345678901234567890123]}}]}]}}`), "f")
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	if got := string(c.AWS.Accounts[0].Roles[0].AssumeRolePolicyDocument); got != `{"b":1,"a":[12345678901234567890123]}` {
		t.Fatalf("order or precision lost: %s", got)
	}
	var v any
	if err := json.Unmarshal(c.AWS.Accounts[0].Roles[0].AssumeRolePolicyDocument, &v); err != nil {
		t.Fatal(err)
	}
}

func TestParseJSONInput(t *testing.T) {
	t.Parallel()
	// Tabs, an escaped surrogate pair and an escaped slash: valid JSON a YAML parser refuses.
	src := "{\n\t\"google\": {\"projects\": [{\n\t\t\"projectId\": \"my-project\",\n\t\t\"workloadIdentityPools\": [{\"displayName\": \"rocket \\ud83d\\ude80 a\\/b\"}]\n\t}]}\n}"
	c, ps := Parse([]byte(src), "f.json")
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	if got := c.Google.Projects[0].WorkloadIdentityPools[0].DisplayName; got != "rocket 🚀 a/b" {
		t.Fatalf("%q", got)
	}
	p := parseOne(t, "{\n\t\"google\": {\"projects\": [{\n\t\t\"projectid\": \"x\"}]}}", "google.projects[0].projectid", 3)
	if p.Column != 3 {
		t.Fatalf("column %d", p.Column)
	}
}

func TestParseAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	src := `isuer: https://x
google:
  projects:
  - projectID: a
    projectNumber: 1
  - projectId: b
    projectId: c
server:
  signingAlg: [ES256]
`
	_, ps := Parse([]byte(src), "f")
	want := []string{
		`f:1:1: isuer: unknown field "isuer" (did you mean "issuer"?)`,
		`f:4:5: google.projects[0].projectID: unknown field "projectID" (did you mean "projectId"?)`,
		`f:5:20: google.projects[0].projectNumber: expected a string, found a number (1); quote it ("1") if it is meant as text`,
		`f:7:5: google.projects[1].projectId: duplicate key "projectId" (first set on line 6); keep one`,
		`f:9:15: server.signingAlg: expected a string, found a list`,
	}
	if diff := cmp.Diff(want, strings.Split(ps.Error(), "\n")); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestParseHostileSizes(t *testing.T) {
	t.Parallel()
	// A huge unknown key: the message shortens it and the suggestion stays cheap.
	key := strings.Repeat("k", 1<<20)
	start := time.Now()
	_, ps := Parse([]byte(`{"`+key+`": 1}`), "f")
	if time.Since(start) > 10*time.Second {
		t.Fatal("slow")
	}
	if len(ps) != 1 || len(ps[0].Message) > 500 || !strings.Contains(ps[0].Message, "…") {
		t.Fatalf("%d problems, message of %d bytes", len(ps), len(ps[0].Message))
	}
	// Many unknown fields: the report is capped and the walk stops.
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	_, ps = Parse([]byte(b.String()), "f")
	if len(ps) != maxProblems+1 || !strings.HasPrefix(ps[len(ps)-1].Message, "more than 1000 problems") {
		t.Fatalf("%d problems; last %v", len(ps), ps[len(ps)-1])
	}
}

func TestParseScalarEdgeCases(t *testing.T) {
	t.Parallel()
	const role = "aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: "
	const doc = "aws.accounts[0].roles[0].assumeRolePolicyDocument"
	cases := []struct {
		name, src, path string
		line            int
		message         string
	}{
		{"policy binary", role + "{a: !!binary aGk=}\n", doc + `["a"]`, 4, "unsupported YAML tag !!binary"},
		{"policy bad bool", role + "{a: !!bool maybe}\n", doc + `["a"]`, 4, `a boolean (maybe) is not a boolean`},
		{"policy bad int", role + "{a: !!int abc}\n", doc + `["a"]`, 4, `a number (abc) is not a number JSON can carry`},
		{"policy bad float", role + "{a: !!float abc}\n", doc + `["a"]`, 4, `a number (abc) is not a number JSON can carry`},
		{"policy scalar tagged map", role + "{a: !!map x}\n", doc + `["a"]`, 4, `a value tagged !!map cannot be written as JSON`},
		{"policy too deep in string", role + "'" + strings.Repeat("[", 1002) + strings.Repeat("]", 1002) + "'\n", doc, 4,
			"the JSON text is not usable: JSON nested more than 1000 levels deep"},
		{"bool bad explicit", "server:\n  allowPrivateIssuers: !!bool maybe\n", "server.allowPrivateIssuers", 2, "expected true or false, found a boolean (maybe)"},
		{"bool from date", "server:\n  allowPrivateIssuers: 2012-10-17\n", "server.allowPrivateIssuers", 2, "expected true or false, found a date (2012-10-17)"},
		{"long value shortened", "server:\n  allowPrivateIssuers: " + strings.Repeat("x", 100) + "\n", "server.allowPrivateIssuers", 2,
			`found a string "` + strings.Repeat("x", 40) + `…"`},
		{"string tagged seq", "issuer: !!seq x\n", "issuer", 1, "expected a string, found a value tagged !!seq"},
		{"null key", "~: x\n", "", 1, "mapping keys must be strings, found null"},
		{"second document broken", "issuer: https://a\n---\n[\n", "", 3, "invalid YAML: did not find expected node content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parseOne(t, tc.src, tc.path, tc.line, tc.message)
		})
	}
	// JSON nested beyond the builder's bound.
	_, ps := Parse([]byte(`{"a":`+strings.Repeat("[", 1001)+strings.Repeat("]", 1001)+`}`), "f")
	wantProblem(t, ps, "", "invalid JSON: JSON nested more than 1000 levels deep")

	// Aliased keys resolve to their text; null policies are no policy.
	c, ps := Parse([]byte("server: {&k signingAlg: ES256}\nx: y\n"), "f")
	if len(ps) != 1 || c.Server.SigningAlg != "ES256" {
		t.Fatalf("%v %+v", ps, c.Server)
	}
	c, ps = Parse([]byte("server: {&k signingAlg: ES256}\nold: {*k : RS256}\n"), "f")
	if len(ps) != 1 || ps[0].Path != "old" {
		t.Fatalf("%v", ps)
	}
	c, ps = Parse([]byte("google: {projects: [{projectId: &k x}]}\nserver: {? *k\n  : y}\n"), "f")
	if len(ps) != 1 || !strings.Contains(ps[0].Message, `unknown field "x"`) {
		t.Fatalf("%v", ps)
	}
	c, ps = Parse([]byte(role+"null\n"), "f")
	if len(ps) != 0 || c.AWS.Accounts[0].Roles[0].AssumeRolePolicyDocument != nil {
		t.Fatalf("%v", ps)
	}
}

func TestParseAliasBudgetInTypedFields(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("google:\n  projects:\n  - serviceAccounts:\n    - iamPolicy:\n        bindings:\n        - {role: r, members: &m [")
	for i := range 2000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("x")
	}
	b.WriteString("]}\n")
	for range 60 {
		b.WriteString("        - {role: r, members: *m}\n")
	}
	_, ps := Parse([]byte(b.String()), "f")
	if len(ps) != 1 || !strings.HasPrefix(ps[0].Path, "google.projects[0].serviceAccounts[0].iamPolicy.bindings[25].members[") ||
		!strings.Contains(ps[0].Message, "YAML aliases expand to more than 50000 nodes") {
		t.Fatalf("%v", ps)
	}
}

// TestDecodeGuardsModelTypes checks that a model field of a type the walker does not know is
// reported rather than silently skipped (it protects future model changes).
func TestDecodeGuardsModelTypes(t *testing.T) {
	t.Parallel()
	type odd struct {
		F      float64        `json:"f"`
		M      map[int]string `json:"m"`
		hidden string
		Skip   string  `json:"-"`
		NoName string  `json:",omitempty"`
		P      *string `json:"p"`
		R      json.RawMessage
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("f: 1.5\nm: {1: a}\nNoName: x\nhidden: y\nSkip: z\n"), &n); err != nil {
		t.Fatal(err)
	}
	d := &decoder{pos: positions{}, fields: map[reflect.Type][]fieldInfo{}}
	var v odd
	d.decode(n.Content[0], reflect.ValueOf(&v).Elem(), "")
	got := render(d.problems)
	want := []string{
		"f: internal error: the config model has an unsupported field type float64",
		"m: internal error: the config model has a map with non-string keys",
		`hidden: unknown field "hidden"; the fields here are f, m, NoName, p, R`,
		`Skip: unknown field "Skip"; the fields here are f, m, NoName, p, R`,
	}
	if diff := cmp.Diff(want, got); diff != "" || v.NoName != "x" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	out, err := marshalValue(reflect.ValueOf(odd{}), "", nil)
	if err == nil || !strings.Contains(err.Error(), "cannot marshal type float64") || out != nil {
		t.Fatalf("marshal: %v", err)
	}
	type nulls struct {
		P *string         `json:"p"`
		R json.RawMessage `json:"r"`
	}
	out, err = marshalValue(reflect.ValueOf(nulls{}), "", nil)
	if err != nil || len(out.Content) != 4 || out.Content[1].Tag != "!!null" || out.Content[3].Tag != "!!null" {
		t.Fatalf("marshal nulls: %v %+v", err, out)
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"b\s`, "\n\r\t\x00\x1f\x7f", "<&>", "é🚀", "\u2028", "a\xffb"} {
		var b bytes.Buffer
		appendJSONString(&b, s)
		var back string
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, b.Bytes(), err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Errorf("%q -> %s -> %q", s, b.Bytes(), back)
		}
	}
}
