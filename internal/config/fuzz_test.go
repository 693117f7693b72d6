package config

import (
	"os"
	"testing"
	"time"
)

// FuzzParse checks that no document makes Parse, Validate or LoadBytes panic or run long, and
// that every document Parse accepts survives Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, file := range testdataFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"issuer: https://a\n---\nissuer: https://b\n",
		"a: &x [*x]\n",
		"server: &s {signingAlg: ES256}\nx: {<<: *s}\n",
		"aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: {a: [1.50, 0x10, .inf, 2012-10-17, <<, ~]}\n",
		"aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: '{\"a\":1e400}'\n",
		`{"google":{"projects":[{"projectId":"\ud83d\ude80","projectNumber":123}]}}`,
		"google:\n  projects:\n  - projectId: !!binary aGk=\n    projectNumber: !custom 1\n",
		"isuer: x\ngoogle: {projects: [{projectID: x}]}\n",
		billionLaughs(4, "orgPolicy:\n  allowedIssuers: LOL\n"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		c, ps := Parse(data, "fuzz.yaml")
		if c == nil {
			t.Fatal("Parse returned a nil config")
		}
		_ = c.Validate()
		_, _ = LoadBytes(data, "fuzz.yaml")
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Fatalf("%d bytes took %v", len(data), elapsed)
		}
		if len(ps) == 0 {
			roundTrip(t, c)
		}
	})
}

// FuzzParseDuration checks ParseDuration never panics and accepts only what it can print back.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"3600s", "1.5s", "0.000000001s", "1h", "-1s", "9223372035s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("%q parsed as negative %v", s, d)
		}
	})
}
