package gcemeta_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/agent/gcemeta"
)

func TestNewHandlerValidation(t *testing.T) {
	t.Parallel()
	tok := newFake("t", time.Now)
	valid := func() gcemeta.Options {
		return gcemeta.Options{Accounts: []gcemeta.Account{{Email: defaultEmail, Tokens: tok}}}
	}
	tests := []struct {
		name   string
		mutate func(o *gcemeta.Options)
		want   string // substring of the error; "" means valid
	}{
		{name: "minimal", mutate: func(*gcemeta.Options) {}},
		{name: "everything", mutate: func(o *gcemeta.Options) {
			o.ProjectID, o.NumericProjectID, o.Zone, o.Hostname, o.InstanceID = testProject, testProjectNum, testZone, testHost, testInstanceID
		}},
		{name: "no accounts", mutate: func(o *gcemeta.Options) { o.Accounts = nil }, want: "at least one service account"},
		{name: "nil tokens", mutate: func(o *gcemeta.Options) { o.Accounts[0].Tokens = nil }, want: "Tokens is nil"},
		{name: "email without @", mutate: func(o *gcemeta.Options) { o.Accounts[0].Email = "default" }, want: "NAME@DOMAIN"},
		{name: "email empty local", mutate: func(o *gcemeta.Options) { o.Accounts[0].Email = "@x" }, want: "NAME@DOMAIN"},
		{name: "email two @", mutate: func(o *gcemeta.Options) { o.Accounts[0].Email = "a@b@c" }, want: "NAME@DOMAIN"},
		{name: "email slash", mutate: func(o *gcemeta.Options) { o.Accounts[0].Email = "a/b@c" }, want: "slashes"},
		{name: "email space", mutate: func(o *gcemeta.Options) { o.Accounts[0].Email = "a b@c" }, want: "spaces"},
		{name: "email query", mutate: func(o *gcemeta.Options) { o.Accounts[0].Email = "a?b@c" }, want: "URL delimiter"},
		{name: "duplicate email", mutate: func(o *gcemeta.Options) {
			o.Accounts = append(o.Accounts, gcemeta.Account{Email: strings.ToUpper(defaultEmail), Tokens: tok})
		}, want: "repeats Accounts[0]"},
		{name: "scope with comma", mutate: func(o *gcemeta.Options) { o.Accounts[0].Scopes = []string{"a,b"} }, want: "scope"},
		{name: "scope with space", mutate: func(o *gcemeta.Options) { o.Accounts[0].Scopes = []string{"a b"} }, want: "scope"},
		{name: "empty scope", mutate: func(o *gcemeta.Options) { o.Accounts[0].Scopes = []string{""} }, want: "scope"},
		{name: "too many scopes", mutate: func(o *gcemeta.Options) { o.Accounts[0].Scopes = strings.Split(manyScopes(65), ",") }, want: "at most 64"},
		{name: "project with slash", mutate: func(o *gcemeta.Options) { o.ProjectID = "a/b" }, want: "ProjectID"},
		{name: "project with newline", mutate: func(o *gcemeta.Options) { o.ProjectID = "a\nb" }, want: "ProjectID"},
		{name: "numeric project not digits", mutate: func(o *gcemeta.Options) { o.NumericProjectID = "12a" }, want: "NumericProjectID"},
		{name: "numeric project too long", mutate: func(o *gcemeta.Options) { o.NumericProjectID = strings.Repeat("1", 21) }, want: "NumericProjectID"},
		{name: "instance id", mutate: func(o *gcemeta.Options) { o.InstanceID = "-1" }, want: "InstanceID"},
		{name: "hostname", mutate: func(o *gcemeta.Options) { o.Hostname = "a b" }, want: "Hostname"},
		{name: "bare zone", mutate: func(o *gcemeta.Options) { o.Zone = "us-central1-a" }, want: "Zone"},
		{name: "zone bad number", mutate: func(o *gcemeta.Options) { o.Zone = "projects/x/zones/us-central1-a" }, want: "Zone"},
		{name: "zone empty name", mutate: func(o *gcemeta.Options) { o.Zone = "projects/1/zones/" }, want: "Zone"},
		{name: "zone slash in name", mutate: func(o *gcemeta.Options) { o.Zone = "projects/1/zones/a/b" }, want: "Zone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := valid()
			tc.mutate(&o)
			h, err := gcemeta.NewHandler(o)
			if tc.want == "" {
				if err != nil || h == nil {
					t.Fatalf("NewHandler: %v", err)
				}
				return
			}
			if !errors.Is(err, gcemeta.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewHandler error %v, want ErrInvalidOptions containing %q", err, tc.want)
			}
			if h != nil {
				t.Error("handler returned with an error")
			}
		})
	}
}

func TestOptionalEntriesAbsent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixedClock(), func(o *gcemeta.Options) {
		o.ProjectID, o.NumericProjectID, o.Zone, o.Hostname, o.InstanceID = "", "", "", "", ""
	})
	for _, p := range []string{"project/project-id", "project/numeric-project-id", "instance/zone", "instance/hostname", "instance/id"} {
		if rec := f.serve("GET", "/computeMetadata/v1/"+p, flavor()); rec.Code != 404 {
			t.Errorf("%s: %d, want 404", p, rec.Code)
		}
	}
	if rec := f.serve("GET", "/computeMetadata/v1/instance/", flavor()); rec.Body.String() != "service-accounts/\n" {
		t.Errorf("instance/ listing %q", rec.Body)
	}
	if rec := f.serve("GET", "/computeMetadata/v1/project/?recursive=true", flavor()); rec.Body.String() != "{}" {
		t.Errorf("project/ recursive %q", rec.Body)
	}
}

// The handler keeps its own copy of the configuration.
func TestOptionsCopied(t *testing.T) {
	t.Parallel()
	tok := newFake("t", time.Now)
	scopes := []string{"a"}
	o := gcemeta.Options{Accounts: []gcemeta.Account{{Email: defaultEmail, Scopes: scopes, Tokens: tok}}}
	h, err := gcemeta.NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	scopes[0] = "mutated"
	o.Accounts[0].Email = "mutated@x"
	f := &fixture{h: h}
	if rec := f.serve("GET", sa+"default/scopes", flavor()); rec.Body.String() != "a\n" {
		t.Errorf("scopes %q after the caller mutated its slice", rec.Body)
	}
	if rec := f.serve("GET", sa+"default/email", flavor()); rec.Body.String() != defaultEmail {
		t.Errorf("email %q after the caller mutated its options", rec.Body)
	}
}

// Tokens never reach the log, on success or failure; refusals are logged.
func TestLogsCarryNoTokens(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	f := newFixture(t, fixedClock(), func(o *gcemeta.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	for _, target := range []string{sa + "default/token", sa + otherEmail + "/token?scopes=x", sa + "default/identity?audience=aud"} {
		if rec := f.serve("GET", target, flavor()); rec.Code != 200 {
			t.Fatalf("%s: %d", target, rec.Code)
		}
	}
	f.def.setErr(errors.New("upstream failure"))
	f.serve("GET", sa+"default/token", flavor())
	f.serve("GET", sa+"default/token", http.Header{})
	f.serve("GET", sa+"default/token", http.Header{"Metadata-Flavor": {"Google"}, "X-Forwarded-For": {"1.2.3.4"}})

	logs := buf.String()
	jwtPayload := strings.Split(fakeJWT("aud", fixedClock()().Add(lifetime)), ".")[1]
	for _, secret := range []string{defaultToken, otherToken, "SECRET", jwtPayload} {
		if strings.Contains(logs, secret) {
			t.Errorf("log carries %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"served an access token", "served an ID token", "could not obtain an access token",
		"upstream failure", "without Metadata-Flavor", "X-Forwarded-For"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
