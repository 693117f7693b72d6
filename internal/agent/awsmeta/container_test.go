package awsmeta

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const testAuth = "Basic abc123"

type containerFixture struct {
	h    http.Handler
	prov *fakeProvider
	logs *logBuffer
}

func newContainerFixture(t *testing.T, mod func(*ContainerOptions)) *containerFixture {
	t.Helper()
	f := &containerFixture{prov: newFakeProvider(testEpoch.Add(time.Hour)), logs: &logBuffer{}}
	clk := newClock(testEpoch)
	opts := ContainerOptions{Credentials: f.prov, AuthToken: testAuth, Now: clk.now, Logger: f.logs.logger()}
	if mod != nil {
		mod(&opts)
	}
	h, err := NewContainer(opts)
	if err != nil {
		t.Fatalf("NewContainer: %v", err)
	}
	f.h = h
	t.Cleanup(func() { assertNoSecrets(t, "log", f.logs.String(), testAuth, "secret-auth-token-from-file") })
	return f
}

func wantContainerError(t *testing.T, what string, res response, status int, code string) {
	t.Helper()
	if res.status != status {
		t.Errorf("%s: status %d, want %d (%s)", what, res.status, status, res.body)
		return
	}
	// aws-sdk-go-v2 decodes the error only with exactly this content type.
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: content type %q", what, ct)
	}
	var e containerError
	if err := json.Unmarshal([]byte(res.body), &e); err != nil || e.Code != code || e.Message == "" {
		t.Errorf("%s: body %q, want code %s", what, res.body, code)
	}
	assertNoSecrets(t, what, res.body, testAccessKey, testAuth)
}

func TestContainerCredentials(t *testing.T) {
	t.Parallel()
	f := newContainerFixture(t, func(o *ContainerOptions) { o.RoleARN = "arn:aws:iam::123456789012:role/keyless-role" })
	want := `{"AccessKeyId":"ASIAKEYLESSEXAMPLE01","SecretAccessKey":"keylessSecretKeyExampleExampleExample0001",` +
		`"Token":"IQoJb3JpZ2luX2VjEKeylessSessionTokenExample==","Expiration":"2026-11-22T22:14:58Z",` +
		`"AccountId":"123456789012","RoleArn":"arn:aws:iam::123456789012:role/keyless-role"}`
	for _, p := range []string{"/creds", "/", "/v1/credentials", "/v2/credentials/abc?x=1"} {
		res := do(f.h, http.MethodGet, p, hdr("Authorization", testAuth, "Accept", "application/json"))
		if res.status != http.StatusOK || res.body != want {
			t.Fatalf("GET %s: %d\n%s\nwant\n%s", p, res.status, res.body, want)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
	}
	// Without account or role ARN those keys are omitted.
	g := newContainerFixture(t, nil)
	c := g.prov.creds
	c.AccountID = ""
	g.prov.set(c, nil)
	res := do(g.h, http.MethodGet, "/creds", hdr("Authorization", testAuth))
	if strings.Contains(res.body, "AccountId") || strings.Contains(res.body, "RoleArn") {
		t.Errorf("optional keys present: %s", res.body)
	}
}

func TestContainerAuth(t *testing.T) {
	t.Parallel()
	f := newContainerFixture(t, nil)
	for _, tc := range []struct {
		name   string
		h      http.Header
		status int
		code   string
	}{
		{"missing", http.Header{}, 401, "Unauthorized"},
		{"empty", hdr("Authorization", ""), 401, "Unauthorized"},
		{"repeated", hdr("Authorization", testAuth, "Authorization", testAuth), 401, "Unauthorized"},
		{"wrong", hdr("Authorization", "Basic abc124"), 403, "AccessDenied"},
		{"prefix", hdr("Authorization", "Basic abc12"), 403, "AccessDenied"},
		{"longer", hdr("Authorization", testAuth+"4"), 403, "AccessDenied"},
		{"case", hdr("Authorization", "basic abc123"), 403, "AccessDenied"},
		{"bearer added", hdr("Authorization", "Bearer "+testAuth), 403, "AccessDenied"},
		{"forwarded", hdr("Authorization", testAuth, "X-Forwarded-For", "10.0.0.1"), 403, "AccessDenied"},
		{"forwarded 7239", hdr("Authorization", testAuth, "Forwarded", "for=10.0.0.1"), 403, "AccessDenied"},
	} {
		wantContainerError(t, tc.name, do(f.h, http.MethodGet, "/creds", tc.h), tc.status, tc.code)
	}
	if n := f.prov.calls.Load(); n != 0 {
		t.Errorf("provider called %d times on refused requests", n)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodHead, http.MethodOptions} {
		res := do(f.h, m, "/creds", hdr("Authorization", testAuth))
		if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET" {
			t.Errorf("%s: %d Allow=%q", m, res.status, res.header.Get("Allow"))
		}
	}
}

func TestContainerAllowNoAuth(t *testing.T) {
	t.Parallel()
	f := newContainerFixture(t, func(o *ContainerOptions) { o.AuthToken, o.AllowNoAuth = "", true })
	for _, h := range []http.Header{{}, hdr("Authorization", "anything")} {
		if res := do(f.h, http.MethodGet, "/", h); res.status != http.StatusOK {
			t.Errorf("no-auth mode: %d", res.status)
		}
	}
	wantContainerError(t, "forwarded without auth", do(f.h, http.MethodGet, "/", hdr("X-Forwarded-For", "1.2.3.4")), 403, "AccessDenied")
}

func TestContainerCredentialFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		err   error
	}{
		{"provider error", aws.Credentials{}, errors.New("refresh failed")},
		{"expired", aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret, CanExpire: true, Expires: testEpoch.Add(-time.Second)}, nil},
		{"empty", aws.Credentials{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newContainerFixture(t, nil)
			f.prov.set(tc.creds, tc.err)
			wantContainerError(t, tc.name, do(f.h, http.MethodGet, "/", hdr("Authorization", testAuth)), 500, "InternalError")
			if !strings.Contains(f.logs.String(), "credentials unavailable") && !strings.Contains(f.logs.String(), "credentials expired") {
				t.Errorf("cause not logged: %s", f.logs.String())
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestContainerTokenFileRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	writeFile(t, path, "secret-auth-token-from-file")
	f := newContainerFixture(t, func(o *ContainerOptions) { o.AuthToken, o.AuthTokenFile = "", path })
	get := func(tok string) response { return do(f.h, http.MethodGet, "/creds", hdr("Authorization", tok)) }

	if res := get("secret-auth-token-from-file"); res.status != 200 {
		t.Fatalf("initial token: %d", res.status)
	}
	// Atomic replacement (a new inode).
	writeFile(t, path, "rotated-token-2")
	wantContainerError(t, "old token after rename", get("secret-auth-token-from-file"), 403, "AccessDenied")
	if res := get("rotated-token-2"); res.status != 200 {
		t.Fatalf("rotated token: %d", res.status)
	}
	// In-place rewrite with the same length.
	if err := os.WriteFile(path, []byte("rotated-token-3"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantContainerError(t, "old token after rewrite", get("rotated-token-2"), 403, "AccessDenied")
	if res := get("rotated-token-3"); res.status != 200 {
		t.Fatalf("rewritten token: %d", res.status)
	}
	// Gone: fail closed, never fall back to the cached value or to no auth.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	wantContainerError(t, "missing file", get("rotated-token-3"), 500, "InternalError")
	wantContainerError(t, "missing file, no header", get(""), 401, "Unauthorized")
	// Broken content at runtime: refused the same way.
	writeFile(t, path, "rotated-token-4\n")
	wantContainerError(t, "trailing newline", get("rotated-token-4"), 500, "InternalError")
	writeFile(t, path, "rotated-token-4")
	if res := get("rotated-token-4"); res.status != 200 {
		t.Fatalf("restored: %d", res.status)
	}
	if !strings.Contains(f.logs.String(), "readable again") {
		t.Error("recovery not logged")
	}
}

func TestContainerTokenFileSymlinkSwap(t *testing.T) {
	t.Parallel()
	// Kubernetes projected volumes: token -> ..data/token, ..data -> ..<timestamp>.
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, v, "token"), "projected-"+v)
	}
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/token", filepath.Join(dir, "token")); err != nil {
		t.Fatal(err)
	}
	f := newContainerFixture(t, func(o *ContainerOptions) { o.AuthToken, o.AuthTokenFile = "", filepath.Join(dir, "token") })
	if res := do(f.h, http.MethodGet, "/", hdr("Authorization", "projected-v1")); res.status != 200 {
		t.Fatalf("v1: %d", res.status)
	}
	if err := os.Symlink("v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	wantContainerError(t, "v1 after swap", do(f.h, http.MethodGet, "/", hdr("Authorization", "projected-v1")), 403, "AccessDenied")
	if res := do(f.h, http.MethodGet, "/", hdr("Authorization", "projected-v2")); res.status != 200 {
		t.Fatalf("v2: %d", res.status)
	}
}

func TestNewContainerOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", "tok")
	prov := newFakeProvider(testEpoch)
	for _, tc := range []struct {
		name, field string
		opts        ContainerOptions
		cause       error
	}{
		{"no provider", "Credentials", ContainerOptions{AuthToken: "t"}, nil},
		{"no auth", "AuthToken", ContainerOptions{Credentials: prov}, nil},
		{"both", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: "t", AuthTokenFile: good}, nil},
		{"newline", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: "t\n"}, errTokenNewline},
		{"CR inside", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: "a\rb"}, errTokenNewline},
		{"NUL", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: "a\x00b"}, errTokenBadChar},
		{"non-ASCII", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: "tök"}, errTokenBadChar},
		{"leading space", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: " tok"}, errTokenSpace},
		{"trailing tab", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: "tok\t"}, errTokenSpace},
		{"too long", "AuthToken", ContainerOptions{Credentials: prov, AuthToken: strings.Repeat("t", maxAuthTokenLen+1)}, errTokenTooLarge},
		{"file missing", "AuthTokenFile", ContainerOptions{Credentials: prov, AuthTokenFile: filepath.Join(dir, "nope")}, os.ErrNotExist},
		{"file is a dir", "AuthTokenFile", ContainerOptions{Credentials: prov, AuthTokenFile: dir}, ErrAuthTokenUnavailable},
		{"file empty", "AuthTokenFile", ContainerOptions{Credentials: prov, AuthTokenFile: file("empty", "")}, errTokenEmpty},
		{"file newline", "AuthTokenFile", ContainerOptions{Credentials: prov, AuthTokenFile: file("nl", "tok\n")}, errTokenNewline},
		{"file CRLF", "AuthTokenFile", ContainerOptions{Credentials: prov, AuthTokenFile: file("crlf", "tok\r\n")}, errTokenNewline},
		{"file too large", "AuthTokenFile", ContainerOptions{Credentials: prov, AuthTokenFile: file("big", strings.Repeat("t", maxAuthTokenLen+1))}, errTokenTooLarge},
		{"bad role ARN", "RoleARN", ContainerOptions{Credentials: prov, AuthToken: "t", RoleARN: "keyless-role"}, nil},
	} {
		_, err := NewContainer(tc.opts)
		var oe *OptionsError
		if !errors.Is(err, ErrInvalidOptions) || !errors.As(err, &oe) || oe.Field != tc.field {
			t.Errorf("%s: want OptionsError on %s, got %v", tc.name, tc.field, err)
			continue
		}
		if tc.cause != nil && !errors.Is(err, tc.cause) {
			t.Errorf("%s: %v does not wrap %v", tc.name, err, tc.cause)
		}
	}
	for _, o := range []ContainerOptions{
		{Credentials: prov, AuthToken: "Basic abc 123"},
		{Credentials: prov, AuthToken: strings.Repeat("t", maxAuthTokenLen)},
		{Credentials: prov, AuthTokenFile: good},
		{Credentials: prov, AllowNoAuth: true},
	} {
		if _, err := NewContainer(o); err != nil {
			t.Errorf("NewContainer(%+v): %v", o.AuthTokenFile, err)
		}
	}
}
