package credcfg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// With an extension, the only bytes that change are the rewritten URLs:
// the golden with those URLs replaced must equal Generate's output.
func TestKeylessServerRewritesOnlyEndpoints(t *testing.T) {
	t.Parallel()
	for _, server := range []string{"https://keyless.example.com", "https://keyless.example.com/", "http://127.0.0.1:8080", "https://gw.example.com/keyless"} {
		for _, c := range goldenCases() {
			t.Run(c.file+"@"+server, func(t *testing.T) {
				t.Parallel()
				golden, err := os.ReadFile(filepath.Join("testdata", "gcloud", c.file))
				if err != nil {
					t.Fatal(err)
				}
				base := strings.TrimSuffix(server, "/")
				o := c.opts
				o.KeylessServer = server
				got, err := Generate(o)
				if err != nil {
					t.Fatal(err)
				}
				want := rewriteEndpoints(golden, base+"/v1/token", base+"/v1/introspect", base)
				if bytes.Equal(want, golden) {
					t.Fatal("rewrite changed nothing; the test would prove nothing")
				}
				if !bytes.Equal(got, want) {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

// rewriteEndpoints replaces whatever token_url, token_info_url and
// impersonation base a gcloud config has (any universe, mTLS or not).
func rewriteEndpoints(cfg []byte, tokenURL, infoURL, iamBase string) []byte {
	var m map[string]any
	if err := json.Unmarshal(cfg, &m); err != nil {
		panic(err)
	}
	s := string(cfg)
	replace := func(old, new string) {
		if old != "" {
			s = strings.ReplaceAll(s, `"`+old+`"`, `"`+new+`"`)
		}
	}
	str := func(k string) string { v, _ := m[k].(string); return v }
	replace(str("token_url"), tokenURL)
	replace(str("token_info_url"), infoURL)
	if imp := str("service_account_impersonation_url"); imp != "" {
		i := strings.Index(imp, "/v1/projects/-/serviceAccounts/")
		replace(imp, iamBase+imp[i:])
	}
	return []byte(s)
}

func TestSeparateExtensions(t *testing.T) {
	t.Parallel()
	golden := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "gcloud", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	imp := goldenCases()[0]   // oidc-file.json: impersonation
	noimp := goldenCases()[1] // oidc-file-json-noimp.json
	const (
		gTok  = "https://sts.googleapis.com/v1/token"
		gInfo = "https://sts.googleapis.com/v1/introspect"
		gIAM  = "https://iamcredentials.googleapis.com"
	)
	cases := []struct {
		name                    string
		base                    goldenCase
		mod                     func(*Options)
		tokenURL, infoURL, iamB string
	}{
		{"token url only, impersonating", imp, func(o *Options) { o.TokenURL = "https://sts.k.example/v1/token" }, "https://sts.k.example/v1/token", gInfo, gIAM},
		{"iam url only", imp, func(o *Options) { o.IAMCredentialsURL = "https://iamcredentials.k.example/" }, gTok, gInfo, "https://iamcredentials.k.example"},
		{"both", imp, func(o *Options) { o.TokenURL, o.IAMCredentialsURL = "https://k.example/v1/token", "https://k.example" }, "https://k.example/v1/token", gInfo, "https://k.example"},
		{"token url derives info url", noimp, func(o *Options) { o.TokenURL = "http://localhost:9/v1/token" }, "http://localhost:9/v1/token", "http://localhost:9/v1/introspect", gIAM},
		{"explicit info url", noimp, func(o *Options) { o.TokenURL, o.TokenInfoURL = "https://k.example/sts", "https://k.example/info" }, "https://k.example/sts", "https://k.example/info", gIAM},
		{"info url alone", noimp, func(o *Options) { o.TokenInfoURL = "https://k.example/v1/introspect" }, gTok, "https://k.example/v1/introspect", gIAM},
		{"iam url without sa is unused", noimp, func(o *Options) { o.IAMCredentialsURL = "https://k.example" }, gTok, gInfo, gIAM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := c.base.opts
			c.mod(&o)
			got, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			want := rewriteEndpoints(golden(c.base.file), c.tokenURL, c.infoURL, c.iamB)
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// fakeKeyless is a loopback STS + IAM Credentials that records what a real
// client sent.
type fakeKeyless struct {
	mu       sync.Mutex
	sts      url.Values
	impPath  string
	impBody  map[string]any
	subject  string // served at /subject for URL sources
	gotHdrs  http.Header
	stsCalls int
}

func (f *fakeKeyless) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("sts form: %v", err)
		}
		f.mu.Lock()
		f.sts, f.stsCalls = r.PostForm, f.stsCalls+1
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"federated-token","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("POST /v1/projects/-/serviceAccounts/{rest}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.impPath = r.URL.Path
		_ = json.Unmarshal(body, &f.impBody)
		f.mu.Unlock()
		if got := r.Header.Get("Authorization"); got != "Bearer federated-token" {
			t.Errorf("generateAccessToken Authorization = %q", got)
		}
		w.Header().Set("Content-Type", "application/json")
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
		fmt.Fprintf(w, `{"accessToken":"sa-token","expireTime":%q}`, exp)
	})
	mux.HandleFunc("GET /subject", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.gotHdrs = r.Header.Clone()
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id_token":%q}`, f.subject)
	})
	return mux
}

// The real golang.org/x/oauth2/google client follows a keyless-pointed
// config to the loopback server: STS exchange with the configured audience
// and subject token, then impersonation at the keyless IAM Credentials URL.
func TestGoClientFollowsKeylessConfig(t *testing.T) {
	t.Parallel()
	const subject = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
	cases := []struct {
		name       string
		imp        bool
		urlSource  bool
		wantAccess string
	}{
		{"file, impersonating", true, false, "sa-token"},
		{"file, federated token", false, false, "federated-token"},
		{"url with headers, impersonating", true, true, "sa-token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fk := &fakeKeyless{subject: subject}
			srv := httptest.NewServer(fk.handler(t))
			t.Cleanup(srv.Close)

			o := Options{Audience: testProvider, KeylessServer: srv.URL}
			if c.imp {
				o.ServiceAccount, o.ServiceAccountTokenLifetimeSeconds = testSA, 1200
			}
			if c.urlSource {
				o.CredentialSourceURL = srv.URL + "/subject"
				o.CredentialSourceHeaders = []Header{{"Metadata-Flavor", "Google"}, {"X-Probe", "1"}}
				o.CredentialSourceType, o.CredentialSourceFieldName = "json", "id_token"
			} else {
				o.CredentialSourceFile = filepath.Join(t.TempDir(), "token")
				if err := os.WriteFile(o.CredentialSourceFile, []byte(subject+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
			creds, err := google.CredentialsFromJSONWithType(ctx, cfg, google.ExternalAccount, "https://www.googleapis.com/auth/cloud-platform")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := creds.TokenSource.Token()
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.AccessToken != c.wantAccess {
				t.Errorf("access token = %q, want %q", tok.AccessToken, c.wantAccess)
			}
			fk.mu.Lock()
			defer fk.mu.Unlock()
			if fk.stsCalls != 1 {
				t.Fatalf("STS calls = %d", fk.stsCalls)
			}
			if got := fk.sts.Get("audience"); got != "//iam.googleapis.com/"+testProvider {
				t.Errorf("audience = %q", got)
			}
			if got := fk.sts.Get("subject_token"); got != subject {
				t.Errorf("subject_token = %q", got)
			}
			if got := fk.sts.Get("subject_token_type"); got != TokenTypeJWT {
				t.Errorf("subject_token_type = %q", got)
			}
			if c.imp {
				if want := "/v1/projects/-/serviceAccounts/" + testSA + ":generateAccessToken"; fk.impPath != want {
					t.Errorf("impersonation path = %q, want %q", fk.impPath, want)
				}
				if fk.impBody["lifetime"] != "1200s" {
					t.Errorf("lifetime = %v", fk.impBody["lifetime"])
				}
			} else if fk.impPath != "" {
				t.Errorf("unexpected impersonation call %q", fk.impPath)
			}
			if c.urlSource {
				if fk.gotHdrs.Get("Metadata-Flavor") != "Google" || fk.gotHdrs.Get("X-Probe") != "1" {
					t.Errorf("subject URL headers = %v", fk.gotHdrs)
				}
			}
		})
	}
}
