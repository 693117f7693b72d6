package gcemeta_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzHandler drives arbitrary paths and queries through the handler: no
// panics, and every answer is well formed.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		path, query string
		flags       uint8
	}{
		{"/", "", 1},
		{"/", "", 0},
		{"/computeMetadata/v1/instance", "", 0},
		{"/computeMetadata/v1/project/project-id", "", 0},
		{"/computeMetadata/v1/project/numeric-project-id", "alt=json", 0},
		{"/computeMetadata/v1/instance/service-accounts/default/", "recursive=true", 0},
		{"/computeMetadata/v1/instance/service-accounts/" + defaultEmail + "/token", "scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform", 0},
		{"/computeMetadata/v1/instance/service-accounts/default/identity", "format=full&audience=https://svc.example/path?x=1", 0},
		{"/computeMetadata/v1/instance/service-accounts/default/identity", "audience=https%3A%2F%2Fsvc.example%2Fpath%3Fx%3D1%26y%3D2&format=full&licenses=TRUE", 0},
		{"/computeMetadata/v1/instance/service-accounts", "recursive=true&alt=text", 0},
		{"/computeMetadata/v1/universe/universe-domain", "wait_for_change=true&last_etag=abc", 0},
		{"/computeMetadata/v1/?recursive=true", "", 0},
		{"//evil.example/computeMetadata/v1", "", 0},
		{"/computeMetadata/v1/instance/service-accounts/default/token", "", 2},
		{"/computeMetadata/v1/project", "a=\r\n\x00", 4},
	}
	for _, s := range seeds {
		f.Add(s.path, s.query, s.flags)
	}
	fx := newFixture(f, fixedClock())
	fx.def.quiet, fx.other.quiet = true, true
	f.Fuzz(func(t *testing.T, path, query string, flags uint8) {
		req := &http.Request{
			Method:     [...]string{"GET", "HEAD", "POST", "GET"}[flags>>1&3],
			URL:        &url.URL{Path: path, RawQuery: query},
			Header:     http.Header{},
			RemoteAddr: "127.0.0.1:1234",
			Host:       "127.0.0.1",
		}
		if flags&1 == 0 {
			req.Header.Set("Metadata-Flavor", "Google")
		}
		if flags&8 != 0 {
			req.Header.Set("X-Forwarded-For", "10.0.0.1")
		}
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)

		switch rec.Code {
		case 200, 301, 400, 403, 404, 405, 414:
		default:
			t.Fatalf("status %d for %q?%q", rec.Code, path, query)
		}
		if rec.Header().Get("Metadata-Flavor") != "Google" {
			t.Fatal("no Metadata-Flavor header")
		}
		ct := rec.Header().Get("Content-Type")
		if ct == "" {
			t.Fatal("no Content-Type")
		}
		body := rec.Body.String()
		if ct == jsonCT && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON: %q", body)
		}
		if rec.Code == 200 && ct == textCT && !utf8.ValidString(body) {
			t.Fatalf("invalid UTF-8: %q", body)
		}
		if (flags&1 != 0 && path != "/") || flags&8 != 0 {
			if rec.Code != 403 && rec.Code != 405 && rec.Code != 414 {
				t.Fatalf("status %d without the flavor header or with X-Forwarded-For", rec.Code)
			}
		}
		if loc := rec.Header().Get("Location"); rec.Code == 301 {
			if !strings.HasPrefix(loc, "/computeMetadata/") || strings.ContainsAny(loc, " \r\n\t\"<>\\") || strings.Contains(loc, "#") {
				t.Fatalf("bad Location %q", loc)
			}
		} else if loc != "" {
			t.Fatalf("Location %q on status %d", loc, rec.Code)
		}
		if strings.Contains(body, defaultToken) || strings.Contains(body, otherToken) {
			if rec.Code != 200 || ct != jsonCT || !strings.HasSuffix(path, "/token") {
				t.Fatalf("token in a %d %s answer to %q", rec.Code, ct, path)
			}
		}
	})
}
