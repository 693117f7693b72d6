package gcemeta_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keylessdev/keyless/internal/agent/gcemeta"
)

const (
	cloudPlatform = gcemeta.DefaultScope
	textCT        = "application/text"
	jsonCT        = "application/json"
	htmlCT        = "text/html; charset=UTF-8"
	plainCT       = "text/plain; charset=utf-8"
	sa            = "/computeMetadata/v1/instance/service-accounts/"
)

func TestHandlerPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string // default GET
		target   string
		header   http.Header // default: Metadata-Flavor: Google
		status   int
		ct       string
		body     string // exact, unless contains is set
		contains []string
		location string
		check    func(t *testing.T, f *fixture)
	}{
		// Probes and header rules.
		{name: "root probe without flavor (Go)", target: "/", header: http.Header{}, status: 200, ct: textCT, body: "computeMetadata/\n"},
		{name: "root probe with flavor (Python)", target: "/", status: 200, ct: textCT, body: "computeMetadata/\n"},
		{name: "no flavor", target: "/computeMetadata/v1/project/project-id", header: http.Header{}, status: 403, ct: htmlCT,
			contains: []string{"Missing Metadata-Flavor:Google header.", "<code>/computeMetadata/v1/project/project-id</code>"}},
		{name: "wrong flavor case", target: "/computeMetadata/v1/project/project-id", header: http.Header{"Metadata-Flavor": {"google"}}, status: 403, ct: htmlCT},
		{name: "flavor twice", target: "/computeMetadata/v1/project/project-id", header: http.Header{"Metadata-Flavor": {"Google", "Google"}}, status: 403, ct: htmlCT},
		{name: "legacy header is not enough", target: "/computeMetadata/v1/project/project-id", header: http.Header{"X-Google-Metadata-Request": {"True"}}, status: 403, ct: htmlCT},
		{name: "no flavor on directory probe", target: "/computeMetadata/v1/instance", header: http.Header{}, status: 403, ct: htmlCT},
		{name: "x-forwarded-for", target: "/computeMetadata/v1/project/project-id",
			header: http.Header{"Metadata-Flavor": {"Google"}, "X-Forwarded-For": {"10.0.0.1"}}, status: 403, ct: htmlCT, contains: []string{"X-Forwarded-For"}},
		{name: "empty x-forwarded-for", target: sa + "default/token",
			header: http.Header{"Metadata-Flavor": {"Google"}, "X-Forwarded-For": {""}}, status: 403, ct: htmlCT,
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},
		{name: "x-forwarded-for on root", target: "/", header: http.Header{"X-Forwarded-For": {"10.0.0.1"}}, status: 403, ct: htmlCT},
		{name: "post", method: "POST", target: "/computeMetadata/v1/project/project-id", status: 405, ct: plainCT},
		{name: "cors preflight", method: "OPTIONS", target: sa + "default/token", header: http.Header{"Origin": {"https://evil.example"}}, status: 405, ct: plainCT},
		{name: "head leaf", method: "HEAD", target: "/computeMetadata/v1/project/project-id", status: 200, ct: textCT},
		{name: "head token", method: "HEAD", target: sa + "default/token", status: 405, ct: plainCT,
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},
		{name: "head identity", method: "HEAD", target: sa + "default/identity?audience=a", status: 405, ct: plainCT,
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},
		{name: "url too long", target: "/computeMetadata/v1/project/project-id?x=" + strings.Repeat("a", 9000), status: 414, ct: plainCT},

		// Directories and redirects.
		{name: "computeMetadata", target: "/computeMetadata", status: 301, location: "/computeMetadata/"},
		{name: "computeMetadata/", target: "/computeMetadata/", status: 200, ct: textCT, body: "v1/\n"},
		{name: "v1 without slash", target: "/computeMetadata/v1", status: 301, location: "/computeMetadata/v1/"},
		{name: "v1/", target: "/computeMetadata/v1/", status: 200, ct: textCT, body: "instance/\nproject/\nuniverse/\n"},
		{name: "node probe redirects", target: "/computeMetadata/v1/instance", status: 301, location: "/computeMetadata/v1/instance/"},
		{name: "redirect keeps query", target: "/computeMetadata/v1/project?recursive=true&alt=json", status: 301,
			location: "/computeMetadata/v1/project/?recursive=true&alt=json"},
		{name: "redirect uses configured email", target: sa + strings.ToUpper(defaultEmail) + "?recursive=true", status: 301,
			location: sa + defaultEmail + "/?recursive=true"},
		{name: "redirect escapes query", target: "/computeMetadata/v1/project?a=%22%3C", status: 301,
			location: "/computeMetadata/v1/project/?a=%22%3C"},
		{name: "instance/", target: "/computeMetadata/v1/instance/", status: 200, ct: textCT, body: "hostname\nid\nservice-accounts/\nzone\n"},
		{name: "project/", target: "/computeMetadata/v1/project/", status: 200, ct: textCT, body: "numeric-project-id\nproject-id\n"},
		{name: "project/ alt=json", target: "/computeMetadata/v1/project/?alt=json", status: 200, ct: jsonCT, body: `["numeric-project-id","project-id"]`},
		{name: "project recursive", target: "/computeMetadata/v1/project/?recursive=true", status: 200, ct: jsonCT,
			body: `{"numericProjectId":123456789012,"projectId":"my-project"}`},
		{name: "project recursive TRUE", target: "/computeMetadata/v1/project/?recursive=TRUE", status: 200, ct: jsonCT,
			body: `{"numericProjectId":123456789012,"projectId":"my-project"}`},
		{name: "project recursive text", target: "/computeMetadata/v1/project/?recursive=true&alt=text", status: 200, ct: textCT,
			body: "numeric-project-id 123456789012\nproject-id my-project\n"},
		{name: "accounts listing", target: sa, status: 200, ct: textCT,
			body: "default/\n" + defaultEmail + "/\n" + otherEmail + "/\n"},
		{name: "accounts without slash", target: "/computeMetadata/v1/instance/service-accounts", status: 301, location: sa},
		{name: "account listing", target: sa + "default/", status: 200, ct: textCT, body: "aliases\nemail\nidentity\nscopes\ntoken\n"},
		{name: "default recursive (Python)", target: sa + "default/?recursive=true", status: 200, ct: jsonCT,
			body: `{"aliases":["default"],"email":"` + defaultEmail + `","scopes":["` + cloudPlatform + `"]}`},
		{name: "default email recursive", target: sa + defaultEmail + "/?recursive=true", status: 200, ct: jsonCT,
			body: `{"aliases":["default"],"email":"` + defaultEmail + `","scopes":["` + cloudPlatform + `"]}`},
		{name: "other recursive", target: sa + otherEmail + "/?recursive=true", status: 200, ct: jsonCT,
			body: `{"aliases":[],"email":"` + otherEmail + `","scopes":["s1","s2"]}`},
		{name: "default recursive text", target: sa + "default/?recursive=true&alt=text", status: 200, ct: textCT,
			body: "aliases/0 default\nemail " + defaultEmail + "\nscopes/0 " + cloudPlatform + "\n"},
		{name: "accounts recursive", target: sa + "?recursive=true", status: 200, ct: jsonCT,
			body: `{"default":{"aliases":["default"],"email":"` + defaultEmail + `","scopes":["` + cloudPlatform + `"]},` +
				`"` + otherEmail + `":{"aliases":[],"email":"` + otherEmail + `","scopes":["s1","s2"]},` +
				`"` + defaultEmail + `":{"aliases":["default"],"email":"` + defaultEmail + `","scopes":["` + cloudPlatform + `"]}}`},
		{name: "everything recursive", target: "/computeMetadata/v1/?recursive=true", status: 200, ct: jsonCT,
			contains: []string{`"projectId":"my-project"`, `"universe":{"universeDomain":"googleapis.com"}`, `"serviceAccounts":{`,
				`"zone":"` + testZone + `"`, `"id":` + testInstanceID + `,`, `"hostname":"` + testHost + `"`},
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},

		// Leaves.
		{name: "project-id", target: "/computeMetadata/v1/project/project-id", status: 200, ct: textCT, body: testProject},
		{name: "project-id alt=json", target: "/computeMetadata/v1/project/project-id?alt=json", status: 200, ct: jsonCT, body: `"my-project"`},
		{name: "project-id alt=text", target: "/computeMetadata/v1/project/project-id?alt=text", status: 200, ct: textCT, body: testProject},
		{name: "project-id recursive ignored", target: "/computeMetadata/v1/project/project-id?recursive=true", status: 200, ct: textCT, body: testProject},
		{name: "numeric-project-id (gcloud)", target: "/computeMetadata/v1/project/numeric-project-id", status: 200, ct: textCT, body: testProjectNum},
		{name: "numeric-project-id alt=json", target: "/computeMetadata/v1/project/numeric-project-id?alt=json", status: 200, ct: jsonCT, body: testProjectNum},
		{name: "zone", target: "/computeMetadata/v1/instance/zone", status: 200, ct: textCT, body: testZone},
		{name: "hostname", target: "/computeMetadata/v1/instance/hostname", status: 200, ct: textCT, body: testHost},
		{name: "id", target: "/computeMetadata/v1/instance/id", status: 200, ct: textCT, body: testInstanceID},
		{name: "universe", target: "/computeMetadata/v1/universe/universe-domain", status: 200, ct: textCT, body: "googleapis.com"},
		{name: "email", target: sa + "default/email", status: 200, ct: textCT, body: defaultEmail},
		{name: "email by email", target: sa + otherEmail + "/email", status: 200, ct: textCT, body: otherEmail},
		{name: "email case-insensitive", target: sa + strings.ToUpper(otherEmail) + "/email", status: 200, ct: textCT, body: otherEmail},
		{name: "email percent-encoded @", target: sa + strings.Replace(otherEmail, "@", "%40", 1) + "/email", status: 200, ct: textCT, body: otherEmail},
		{name: "scopes", target: sa + "default/scopes", status: 200, ct: textCT, body: cloudPlatform + "\n"},
		{name: "scopes other", target: sa + otherEmail + "/scopes", status: 200, ct: textCT, body: "s1\ns2\n"},
		{name: "scopes alt=json", target: sa + otherEmail + "/scopes?alt=json", status: 200, ct: jsonCT, body: `["s1","s2"]`},
		{name: "aliases", target: sa + "default/aliases", status: 200, ct: textCT, body: "default\n"},
		{name: "aliases other", target: sa + otherEmail + "/aliases?alt=json", status: 200, ct: jsonCT, body: `[]`},

		// Not found.
		{name: "unknown path", target: "/computeMetadata/v1/instance/attributes/", status: 404, ct: htmlCT,
			contains: []string{"<title>Error 404 (Not Found)!!1</title>", "<code>/computeMetadata/v1/instance/attributes/</code>"}},
		{name: "404 escapes path", target: "/computeMetadata/v1/%3Cscript%3E", status: 404, ct: htmlCT,
			contains: []string{"&lt;script&gt;"}},
		{name: "unknown account token", target: sa + "nobody@x.iam.gserviceaccount.com/token", status: 404, ct: htmlCT,
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},
		{name: "DEFAULT is not default", target: sa + "DEFAULT/email", status: 404, ct: htmlCT},
		{name: "leaf with slash", target: "/computeMetadata/v1/project/project-id/", status: 404, ct: htmlCT},
		{name: "token with slash", target: sa + "default/token/", status: 404, ct: htmlCT},
		{name: "below a leaf", target: "/computeMetadata/v1/project/project-id/x", status: 404, ct: htmlCT},
		{name: "empty segment", target: "/computeMetadata/v1/instance//zone", status: 404, ct: htmlCT},
		{name: "dot-dot", target: "/computeMetadata/v1/instance/../project/project-id", status: 404, ct: htmlCT},
		{name: "v1beta1", target: "/computeMetadata/v1beta1/", status: 404, ct: htmlCT},
		{name: "legacy 0.1", target: "/0.1/meta-data/", status: 404, ct: htmlCT},
		{name: "other root", target: "/latest/meta-data/", status: 404, ct: htmlCT},
		{name: "prefix look-alike", target: "/computeMetadataX/v1/", status: 404, ct: htmlCT},

		// Query rules.
		{name: "wait_for_change", target: "/computeMetadata/v1/project/project-id?wait_for_change=true&last_etag=x", status: 400, ct: plainCT},
		{name: "wait_for_change bogus", target: "/computeMetadata/v1/project/project-id?wait_for_change=soon", status: 400, ct: plainCT},
		{name: "wait_for_change false", target: "/computeMetadata/v1/project/project-id?wait_for_change=false", status: 200, ct: textCT, body: testProject},
		{name: "bad alt", target: "/computeMetadata/v1/project/project-id?alt=xml", status: 400, ct: plainCT},
		{name: "bad recursive", target: "/computeMetadata/v1/project/?recursive=yes", status: 400, ct: plainCT},
		{name: "unknown parameter ignored", target: "/computeMetadata/v1/project/project-id?foo=bar;baz", status: 200, ct: textCT, body: testProject},

		// Access tokens.
		{name: "token default scopes", target: sa + "default/token", status: 200, ct: jsonCT,
			body:  `{"access_token":"` + defaultToken + `","expires_in":2517,"token_type":"Bearer"}`,
			check: func(t *testing.T, f *fixture) { wantScopes(t, f.def, []string{cloudPlatform}) }},
		{name: "token by email", target: sa + defaultEmail + "/token", status: 200, ct: jsonCT,
			body: `{"access_token":"` + defaultToken + `","expires_in":2517,"token_type":"Bearer"}`},
		{name: "token other account", target: sa + otherEmail + "/token", status: 200, ct: jsonCT,
			body:  `{"access_token":"` + otherToken + `","expires_in":2517,"token_type":"Bearer"}`,
			check: func(t *testing.T, f *fixture) { wantScopes(t, f.other, []string{"s1", "s2"}) }},
		{name: "token scopes encoded comma", target: sa + "default/token?scopes=https%3A%2F%2Fa%2Cb", status: 200, ct: jsonCT,
			check: func(t *testing.T, f *fixture) { wantScopes(t, f.def, []string{"https://a", "b"}) }},
		{name: "token scopes raw comma, blanks, duplicates", target: sa + "default/token?scopes=a,,b+a,%20c", status: 200, ct: jsonCT,
			check: func(t *testing.T, f *fixture) { wantScopes(t, f.def, []string{"a", "b", "c"}) }},
		{name: "token empty scopes", target: sa + "default/token?scopes=", status: 200, ct: jsonCT,
			check: func(t *testing.T, f *fixture) { wantScopes(t, f.def, []string{cloudPlatform}) }},
		{name: "token bad scope", target: sa + "default/token?scopes=a%0Ab", status: 400, ct: plainCT,
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},
		{name: "token too many scopes", target: sa + "default/token?scopes=" + strings.Repeat("s,", 40) + manyScopes(70), status: 400, ct: plainCT},
		{name: "token alt ignored", target: sa + "default/token?alt=text", status: 200, ct: jsonCT},
		{name: "token wait_for_change", target: sa + "default/token?wait_for_change=true", status: 400, ct: plainCT,
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},

		// ID tokens.
		{name: "identity no audience", target: sa + "default/identity?format=full", status: 400, ct: plainCT,
			body: "non-empty audience parameter required\n", check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},
		{name: "identity empty audience", target: sa + "default/identity?audience=", status: 400, ct: plainCT},
		{name: "identity default format", target: sa + "default/identity?audience=https://svc.example", status: 200, ct: textCT,
			check: func(t *testing.T, f *fixture) {
				wantID(t, f.def, idCall{"https://svc.example", "standard", false})
			}},
		{name: "identity node raw audience", target: sa + "default/identity?format=full&audience=https://svc.example/path?x=1", status: 200, ct: textCT,
			check: func(t *testing.T, f *fixture) {
				wantID(t, f.def, idCall{"https://svc.example/path?x=1", "full", false})
			}},
		{name: "identity python encoded audience", target: sa + "default/identity?audience=https%3A%2F%2Fsvc.example%2Fpath%3Fx%3D1%26y%3D2&format=full", status: 200, ct: textCT,
			check: func(t *testing.T, f *fixture) {
				wantID(t, f.def, idCall{"https://svc.example/path?x=1&y=2", "full", false})
			}},
		{name: "identity gcloud licenses", target: sa + "default/identity?audience=aud&format=full&licenses=TRUE", status: 200, ct: textCT,
			check: func(t *testing.T, f *fixture) { wantID(t, f.def, idCall{"aud", "full", true}) }},
		{name: "identity licenses need full", target: sa + "default/identity?audience=aud&format=standard&licenses=TRUE", status: 200, ct: textCT,
			check: func(t *testing.T, f *fixture) { wantID(t, f.def, idCall{"aud", "standard", false}) }},
		{name: "identity other account", target: sa + otherEmail + "/identity?audience=aud", status: 200, ct: textCT,
			check: func(t *testing.T, f *fixture) { wantID(t, f.other, idCall{"aud", "standard", false}) }},
		{name: "identity bad format", target: sa + "default/identity?audience=aud&format=FULL", status: 400, ct: plainCT},
		{name: "identity bad licenses", target: sa + "default/identity?audience=aud&licenses=1", status: 400, ct: plainCT},
		{name: "identity control char", target: sa + "default/identity?audience=a%0Ab", status: 400, ct: plainCT,
			check: func(t *testing.T, f *fixture) { noTokenCalls(t, f) }},
		{name: "identity audience too long", target: sa + "default/identity?audience=" + strings.Repeat("a", 2049), status: 400, ct: plainCT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, fixedClock())
			header := tc.header
			if header == nil {
				header = flavor()
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			rec := f.serve(method, tc.target, header)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tc.status, rec.Body.String())
			}
			if got := rec.Header().Values("Metadata-Flavor"); !cmp.Equal(got, []string{"Google"}) {
				t.Errorf("Metadata-Flavor %q, want [Google]", got)
			}
			if tc.ct != "" {
				if got := rec.Header().Get("Content-Type"); got != tc.ct {
					t.Errorf("Content-Type %q, want %q", got, tc.ct)
				}
			}
			if got := rec.Header().Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			body := rec.Body.String()
			if tc.body != "" && method != http.MethodHead && body != tc.body {
				t.Errorf("body:\n%s\nwant:\n%s", body, tc.body)
			}
			for _, s := range tc.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			if rec.Code != http.StatusOK && (strings.Contains(body, defaultToken) || strings.Contains(body, otherToken)) {
				t.Errorf("error body carries a token: %s", body)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func manyScopes(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = "scope" + strings.Repeat("x", i)
	}
	return strings.Join(s, ",")
}

func noTokenCalls(t *testing.T, f *fixture) {
	t.Helper()
	for _, fk := range []*fakeTokens{f.def, f.other} {
		if s, id := fk.gotScopes(), fk.gotID(); len(s)+len(id) != 0 {
			t.Errorf("token source called: access %v, id %v", s, id)
		}
	}
}

func wantScopes(t *testing.T, fk *fakeTokens, want []string) {
	t.Helper()
	if diff := cmp.Diff([][]string{want}, fk.gotScopes()); diff != "" {
		t.Errorf("scopes asked of the token source (-want +got):\n%s", diff)
	}
}

func wantID(t *testing.T, fk *fakeTokens, want idCall) {
	t.Helper()
	if diff := cmp.Diff([]idCall{want}, fk.gotID()); diff != "" {
		t.Errorf("ID token requests (-want +got):\n%s", diff)
	}
}

func TestIdentityBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixedClock())
	rec := f.serve("GET", sa+"default/identity?audience=aud&format=full", flavor())
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if want := fakeJWT("aud", fixedClock()().Add(lifetime)); rec.Body.String() != want {
		t.Errorf("body %q, want the raw JWT %q", rec.Body.String(), want)
	}
}

func TestTokenFailures(t *testing.T) {
	t.Parallel()
	now := fixedClock()
	tests := []struct {
		name   string
		setup  func(f *fakeTokens)
		cancel bool
		status int
		want   string
	}{
		{name: "source error", setup: func(f *fakeTokens) { f.setErr(errors.New("keyless said no: SECRET-DETAIL")) },
			status: 500, want: "Unable to obtain an access token for service account " + defaultEmail},
		{name: "permission denied", setup: func(f *fakeTokens) {
			f.setErr(errorf("binding missing SECRET-DETAIL: %w", gcemeta.ErrPermissionDenied))
		},
			status: 403, want: "Permission denied"},
		{name: "expired", setup: func(f *fakeTokens) { f.expiry = now }, status: 500, want: "Unable to obtain"},
		{name: "under a second", setup: func(f *fakeTokens) { f.expiry = func() time.Time { return now().Add(999 * time.Millisecond) } },
			status: 500, want: "Unable to obtain"},
		{name: "empty token", setup: func(f *fakeTokens) { f.token = "" }, status: 500, want: "Unable to obtain"},
		{name: "client gone", cancel: true, status: 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, now)
			if tc.setup != nil {
				tc.setup(f.def)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			} else {
				defer cancel()
			}
			req := httptest.NewRequestWithContext(ctx, "GET", sa+"default/token", nil)
			req.Header.Set("Metadata-Flavor", "Google")
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, rec.Body, tc.status, tc.want)
			}
			if strings.Contains(rec.Body.String(), "SECRET") {
				t.Errorf("body reveals the internal cause: %s", rec.Body)
			}
			if rec.Header().Get("Metadata-Flavor") != "Google" {
				t.Error("error response lacks Metadata-Flavor")
			}
		})
	}
	t.Run("identity", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, now)
		f.def.setErr(errors.New("SECRET-DETAIL"))
		rec := f.serve("GET", sa+"default/identity?audience=a", flavor())
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "SECRET") {
			t.Fatalf("got %d %q", rec.Code, rec.Body)
		}
		f.def.setErr(errorf("%w", gcemeta.ErrPermissionDenied))
		if rec := f.serve("GET", sa+"default/identity?audience=a", flavor()); rec.Code != 403 {
			t.Fatalf("got %d %q, want 403", rec.Code, rec.Body)
		}
	})
}
