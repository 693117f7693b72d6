package jwks

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestIssuerMismatch(t *testing.T) {
	t.Parallel()
	cases := map[string]func(issuer string) map[string]any{
		"other issuer": func(string) map[string]any {
			return map[string]any{"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}
		},
		"added trailing slash": func(i string) map[string]any { return map[string]any{"issuer": i + "/", "jwks_uri": i + "/jwks"} },
		"upper-case scheme": func(i string) map[string]any {
			return map[string]any{"issuer": strings.Replace(i, "https", "HTTPS", 1), "jwks_uri": i + "/jwks"}
		},
		"http instead of https": func(i string) map[string]any {
			return map[string]any{"issuer": strings.Replace(i, "https", "http", 1), "jwks_uri": i + "/jwks"}
		},
		"default port spelled": func(i string) map[string]any { return map[string]any{"issuer": i + ":443", "jwks_uri": i + "/jwks"} },
		"issuer missing":       func(i string) map[string]any { return map[string]any{"jwks_uri": i + "/jwks"} },
		"issuer empty":         func(i string) map[string]any { return map[string]any{"issuer": "", "jwks_uri": i + "/jwks"} },
		"issuer null":          func(i string) map[string]any { return map[string]any{"issuer": nil, "jwks_uri": i + "/jwks"} },
		"member name case":     func(i string) map[string]any { return map[string]any{"Issuer": i, "jwks_uri": i + "/jwks"} },
		"trailing NUL":         func(i string) map[string]any { return map[string]any{"issuer": i + "\x00", "jwks_uri": i + "/jwks"} },
		"issuer path appended": func(i string) map[string]any { return map[string]any{"issuer": i + "/other", "jwks_uri": i + "/jwks"} },
		"other tenant of issuer": func(i string) map[string]any {
			return map[string]any{"issuer": i + "/{tenantid}", "jwks_uri": i + "/jwks"}
		},
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.iss.serveDiscovery(doc(f.iss.URL))
			_, err := f.keySet(t, "k1")
			wantFetchError(t, err, StageDiscovery, ErrIssuerMismatch)
			f.wantHits(t, 1, 0)
			if st := f.stats(t); st.Failures != 1 || !strings.Contains(st.LastError, "mismatch") {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestJWKSURIRejected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		uri      func(issuer string) any
		sentinel error
	}{
		{"http", func(i string) any { return strings.Replace(i, "https", "http", 1) + "/jwks" }, ErrInsecureURL},
		{"ftp", func(string) any { return "ftp://127.0.0.1/jwks" }, ErrInsecureURL},
		{"file", func(string) any { return "file:///etc/passwd" }, ErrInvalidURL},
		{"javascript", func(string) any { return "javascript:alert(1)" }, ErrInvalidURL},
		{"relative", func(string) any { return "/jwks" }, ErrInvalidURL},
		{"scheme-relative", func(i string) any { return strings.TrimPrefix(i, "https:") + "/jwks" }, ErrInvalidURL},
		{"empty", func(string) any { return "" }, ErrInvalidDocument},
		{"missing", nil, ErrInvalidDocument},
		{"not a string", func(string) any { return []string{"https://a.example/jwks"} }, ErrInvalidDocument},
		{"userinfo", func(i string) any { return strings.Replace(i, "https://", "https://user:pw@", 1) + "/jwks" }, ErrInvalidURL},
		{"unspecified address", func(string) any { return "https://0.0.0.0/jwks" }, ErrBlockedAddress},
		{"multicast", func(string) any { return "https://[ff02::1]/jwks" }, ErrBlockedAddress},
		{"numeric host", func(string) any { return "https://2130706433/jwks" }, ErrBlockedAddress},
		{"bad host chars", func(string) any { return "https://exa%20mple.com/jwks" }, ErrInvalidURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			doc := map[string]any{"issuer": f.iss.URL}
			if tc.uri != nil {
				doc["jwks_uri"] = tc.uri(f.iss.URL)
			}
			f.iss.serveDiscovery(doc)
			_, err := f.keySet(t, "k1")
			wantFetchError(t, err, StageDiscovery, tc.sentinel)
			f.wantHits(t, 1, 0)
		})
	}
}

func TestJWKSOnOtherHostAllowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	other := newTestIssuer(t, true)
	other.setJWKS(jwksOf("remote"))
	f.iss.serveDiscovery(map[string]any{"issuer": f.iss.URL, "jwks_uri": other.URL + "/jwks"})
	if ks := f.mustKeySet(t, "remote"); !hasKey(ks, "remote") {
		t.Fatal("remote key missing")
	}
	f.wantHits(t, 1, 0)
	if other.jwksHits.Load() != 1 {
		t.Fatal("other host not asked")
	}
}

func TestInvalidDocuments(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"html":          "<html><body>login</body></html>",
		"array":         `[{"issuer":"x"}]`,
		"truncated":     `{"issuer":`,
		"trailing data": `{"issuer":"a"} {}`,
		"empty":         "",
		"string":        `"https://issuer"`,
		"issuer number": `{"issuer":5,"jwks_uri":"https://a.example/"}`,
	}
	for name, body := range bodies {
		t.Run("discovery "+name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.iss.setDiscovery(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) })
			_, err := f.keySet(t, "k1")
			wantFetchError(t, err, StageDiscovery, ErrInvalidDocument)
		})
	}
	for name, body := range map[string]string{"html": bodies["html"], "no keys": `{"foo":[]}`, "keys object": `{"keys":{}}`, "truncated": `{"keys":[`} {
		t.Run("jwks "+name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.iss.setJWKS([]byte(body))
			_, err := f.keySet(t, "k1")
			wantFetchError(t, err, StageJWKS, ErrInvalidDocument)
		})
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
	}

	t.Run("same host discovery", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.iss.setDiscovery(redirect("/moved/openid-configuration"))
		f.iss.extra.HandleFunc("/moved/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, map[string]any{"issuer": f.iss.URL, "jwks_uri": f.iss.URL + "/jwks"})
		})
		f.mustKeySet(t, "k1")
	})

	chain := func(f *fixture, hops int) {
		f.iss.setJWKSHandler(redirect("/hop1"))
		for i := 1; i < hops; i++ {
			f.iss.extra.HandleFunc("/hop"+strconv.Itoa(i), redirect("/hop"+strconv.Itoa(i+1)))
		}
		f.iss.extra.HandleFunc("/hop"+strconv.Itoa(hops), func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jwksOf("k1")) })
	}
	t.Run("three same-host hops", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		chain(f, 3)
		f.mustKeySet(t, "k1")
	})
	t.Run("four hops refused", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		chain(f, 4)
		_, err := f.keySet(t, "k1")
		wantFetchError(t, err, StageJWKS, ErrRedirect)
	})

	offHost := []struct {
		name   string
		target func(f *fixture, other *testIssuer) string
	}{
		{"other port", func(_ *fixture, o *testIssuer) string { return o.URL + "/jwks" }},
		{"other name same address", func(f *fixture, _ *testIssuer) string {
			return strings.Replace(f.iss.URL, "127.0.0.1", "localhost", 1) + "/jwks"
		}},
		{"scheme downgrade", func(f *fixture, _ *testIssuer) string {
			return strings.Replace(f.iss.URL, "https", "http", 1) + "/jwks"
		}},
		{"cloud metadata", func(*fixture, *testIssuer) string { return "https://169.254.169.254/latest/meta-data/" }},
		{"userinfo same host", func(f *fixture, _ *testIssuer) string {
			return strings.Replace(f.iss.URL, "https://", "https://a:b@", 1) + "/jwks"
		}},
	}
	for _, tc := range offHost {
		t.Run("refused "+tc.name, func(t *testing.T) {
			t.Parallel()
			other := newTestIssuer(t, true)
			rec := &dialRecorder{allow: true}
			f := newFixture(t, nil)
			f.cache = newCache(Options{RootCAs: f.iss.pool(), AllowPrivateNetworks: true, Now: f.clock.Now}, rec.hook)
			f.src = f.cache.Source(f.iss.URL)
			f.iss.setJWKSHandler(redirect(tc.target(f, other)))
			_, err := f.keySet(t, "k1")
			wantFetchError(t, err, StageJWKS, ErrRedirect)
			if other.conns.Load() != 0 {
				t.Fatal("redirect target was contacted")
			}
			for _, d := range rec.list() {
				if !strings.HasPrefix(f.iss.URL, "https://"+d) {
					t.Fatalf("dialled %s besides the issuer", d)
				}
			}
		})
	}
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	const limit = 2048
	padded := func(n int) []byte {
		b := jwksOf("k1")
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		stage   Stage
		ok      bool
	}{
		{"exactly the limit", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(padded(limit)) }, StageJWKS, true},
		{"one byte over, Content-Length", func(w http.ResponseWriter, _ *http.Request) {
			b := padded(limit + 1)
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write(b)
		}, StageJWKS, false},
		{"over, chunked", func(w http.ResponseWriter, _ *http.Request) {
			b := padded(4 * limit)
			for i := 0; i < len(b); i += 512 {
				_, _ = w.Write(b[i : i+512])
				w.(http.Flusher).Flush()
			}
		}, StageJWKS, false},
		{"gzip bomb", func(w http.ResponseWriter, _ *http.Request) {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(padded(1 << 20))
			_ = zw.Close()
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(buf.Bytes())
		}, StageJWKS, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(o *Options) { o.MaxBodyBytes = limit })
			f.iss.setJWKSHandler(tc.handler)
			_, err := f.keySet(t, "k1")
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantFetchError(t, err, tc.stage, ErrTooLarge)
		})
	}
	t.Run("discovery", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *Options) { o.MaxBodyBytes = limit })
		f.iss.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"issuer":"` + f.iss.URL + `","jwks_uri":"` + f.iss.URL + `/jwks","x":"` + strings.Repeat("a", limit) + `"}`))
		})
		_, err := f.keySet(t, "k1")
		wantFetchError(t, err, StageDiscovery, ErrTooLarge)
		f.wantHits(t, 1, 0)
	})
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	const tail = "SECRET-TAIL-MUST-NOT-APPEAR"
	body := "line1\r\nline2\x1b[31m" + strings.Repeat("x", 200) + tail
	for _, code := range []int{http.StatusCreated, http.StatusNoContent, http.StatusPartialContent, http.StatusNotModified, http.StatusFound, http.StatusNotFound, http.StatusInternalServerError} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.iss.setJWKSHandler(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(code)
				_, _ = w.Write([]byte(body))
			})
			_, err := f.keySet(t, "k1")
			fe := wantFetchError(t, err, StageJWKS, ErrHTTPStatus)
			if !strings.Contains(fe.Detail, "status "+strconv.Itoa(code)) {
				t.Fatalf("detail %q lacks the status", fe.Detail)
			}
			last := f.stats(t).LastError
			for _, s := range []string{fe.Detail, err.Error(), last} {
				if strings.Contains(s, tail) || strings.ContainsAny(s, "\r\n\x1b") {
					t.Fatalf("unsafe error text %q", s)
				}
			}
			if code == http.StatusNotFound && !strings.Contains(fe.Detail, "line1..line2.[31m") {
				t.Fatalf("detail %q lacks the sanitised excerpt", fe.Detail)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                              "",
		"Not Found":                     "Not Found",
		"a\x00b\nc\u2028d\xff":          "a.b.c.d.",
		strings.Repeat("é", 40):         strings.Repeat("é", 32) + "…",
		strings.Repeat("y", maxExcerpt): strings.Repeat("y", maxExcerpt),
		strings.Repeat("y", 65):         strings.Repeat("y", maxExcerpt) + "…",
	}
	for in, want := range cases {
		if got := excerpt([]byte(in)); got != want {
			t.Errorf("excerpt(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSlowServerTimeout(t *testing.T) {
	t.Parallel()
	stall := func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}
	slowBody := func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	for name, tc := range map[string]struct {
		stage     Stage
		discovery bool
		h         http.HandlerFunc
	}{
		"discovery headers": {StageDiscovery, true, stall},
		"jwks headers":      {StageJWKS, false, stall},
		"jwks body":         {StageJWKS, false, slowBody},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(o *Options) { o.Timeout = 2 * time.Second })
			if tc.discovery {
				f.iss.setDiscovery(tc.h)
			} else {
				f.iss.setJWKSHandler(tc.h)
			}
			start := time.Now()
			_, err := f.keySet(t, "k1")
			wantFetchError(t, err, tc.stage, ErrTimeout)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%v does not wrap context.DeadlineExceeded", err)
			}
			if el := time.Since(start); el >= 2*DefaultTimeout {
				t.Fatalf("took %v", el)
			}
		})
	}
}

func TestUntrustedCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.RootCAs = x509.NewCertPool() })
	_, err := f.keySet(t, "k1")
	wantFetchError(t, err, StageDiscovery, ErrUnavailable)
	var uae x509.UnknownAuthorityError
	if !errors.As(err, &uae) {
		t.Fatalf("%v: want an x509.UnknownAuthorityError", err)
	}
}

func TestInsecureHTTP(t *testing.T) {
	t.Parallel()
	newPlain := func(t *testing.T, host string) (*testIssuer, string) {
		iss := newTestIssuer(t, false)
		issuer := strings.Replace(iss.URL, "127.0.0.1", host, 1)
		iss.URL = issuer
		return iss, issuer
	}
	t.Run("refused without the flag", func(t *testing.T) {
		t.Parallel()
		iss, issuer := newPlain(t, "127.0.0.1")
		c := New(Options{AllowPrivateNetworks: true})
		_, err := c.Source(issuer).KeySet(context.Background(), "k1")
		wantFetchError(t, err, StageDiscovery, ErrInsecureURL)
		if iss.conns.Load() != 0 {
			t.Fatal("connected")
		}
	})
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run("allowed to "+host, func(t *testing.T) {
			t.Parallel()
			_, issuer := newPlain(t, host)
			c := New(Options{AllowPrivateNetworks: true, AllowInsecureHTTP: true})
			if _, err := c.Source(issuer).KeySet(context.Background(), "k1"); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("flag does not relax the address policy", func(t *testing.T) {
		t.Parallel()
		iss, issuer := newPlain(t, "127.0.0.1")
		c := New(Options{AllowInsecureHTTP: true})
		_, err := c.Source(issuer).KeySet(context.Background(), "k1")
		wantFetchError(t, err, StageDiscovery, ErrBlockedAddress)
		if iss.conns.Load() != 0 {
			t.Fatal("connected")
		}
	})
	t.Run("http jwks_uri to a non-loopback host", func(t *testing.T) {
		t.Parallel()
		iss, issuer := newPlain(t, "127.0.0.1")
		iss.serveDiscovery(map[string]any{"issuer": issuer, "jwks_uri": "http://keys.example.com/jwks"})
		c := New(Options{AllowPrivateNetworks: true, AllowInsecureHTTP: true})
		_, err := c.Source(issuer).KeySet(context.Background(), "k1")
		wantFetchError(t, err, StageDiscovery, ErrInsecureURL)
	})
	t.Run("plain transport dials only loopback", func(t *testing.T) {
		t.Parallel()
		p := newAddrPolicy(true, true)
		if err := p.check(mustAddr("10.0.0.1")); !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("10.0.0.1: %v", err)
		}
		if err := p.check(mustAddr("127.0.0.1")); err != nil {
			t.Fatalf("127.0.0.1: %v", err)
		}
	})
}

func TestInvalidIssuer(t *testing.T) {
	t.Parallel()
	cases := map[string]error{
		"":                                      ErrInvalidURL,
		"issuer.example":                        ErrInvalidURL,
		"https://":                              ErrInvalidURL,
		"https://issuer.example/?tenant=1":      ErrInvalidURL,
		"https://issuer.example/?":              ErrInvalidURL,
		"https://issuer.example/#frag":          ErrInvalidURL,
		"https://issuer.example/#":              ErrInvalidURL,
		"https://u:p@issuer.example":            ErrInvalidURL,
		"http://issuer.example":                 ErrInsecureURL,
		"ftp://issuer.example":                  ErrInsecureURL,
		"https://issuer.example:0":              ErrInvalidURL,
		"https://169.254.169.254/computeMeta":   ErrBlockedAddress,
		"https://xn--bcher-kva.example\u00a0":   ErrInvalidURL,
		"https://is suer.example":               ErrInvalidURL,
		"https://issuer.example:99999999/a/b/c": ErrInvalidURL,
	}
	c := New(Options{})
	for issuer, sentinel := range cases {
		src := c.Source(issuer)
		_, err := src.KeySet(context.Background(), "k1")
		if err == nil || !errors.Is(err, sentinel) {
			t.Errorf("issuer %q: %v, want %v", issuer, err, sentinel)
		}
	}
	for _, st := range c.Stats() {
		if st.LastError == "" || st.Fetches != 0 {
			t.Errorf("stats %+v", st)
		}
	}
}
