package awsmeta

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzIMDS drives the IMDS handler with arbitrary methods, paths and headers.
// tokenMode: 0 = the header value as given, 1 = a valid token, 2 = valid token
// plus the given value as a second header.
func FuzzIMDS(f *testing.F) {
	f.Add("PUT", imdsTokenPath, "21600", "", uint8(0), "")
	f.Add("PUT", imdsTokenPath, "300", "", uint8(0), "10.0.0.1")
	f.Add("PUT", imdsTokenPath, "0", "", uint8(0), "")
	f.Add("GET", imdsCredsPrefix, "", "", uint8(1), "")
	f.Add("GET", "/latest/meta-data/iam/security-credentials", "", "", uint8(1), "")
	f.Add("GET", imdsCredsPrefix+testRole, "", "", uint8(1), "")
	f.Add("GET", imdsCredsPrefix+testRole, "", "IMDSTOKEN-keyless-example", uint8(0), "")
	f.Add("GET", imdsCredsPrefix+testRole, "", "x", uint8(2), "")
	f.Add("GET", "/latest/meta-data/placement/availability-zone/", "", "", uint8(1), "")
	f.Add("GET", imdsIdentityDoc, "", "", uint8(1), "")
	f.Add("GET", "/latest/meta-data/placement/region", "", "", uint8(0), "")
	f.Add("HEAD", imdsCredsPrefix, "", "", uint8(1), "")

	prov := newFakeProvider(testEpoch.Add(time.Hour))
	h, err := NewIMDS(IMDSOptions{
		RoleName: testRole, Credentials: prov, Region: "us-west-2", InstanceID: "i-0123456789abcdef0",
		Now: func() time.Time { return testEpoch }, Rand: bytes.NewReader(make([]byte, 32)),
	})
	if err != nil {
		f.Fatal(err)
	}
	valid := do(h, http.MethodPut, imdsTokenPath, hdr(imdsTTLHeader, "300")).body

	f.Fuzz(func(t *testing.T, method, path, ttl, token string, tokenMode uint8, xff string) {
		hd := http.Header{}
		if ttl != "" {
			hd.Set(imdsTTLHeader, ttl)
		}
		switch tokenMode % 3 {
		case 0:
			if token != "" {
				hd.Set(imdsTokenHeader, token)
			}
		case 1:
			hd.Set(imdsTokenHeader, valid)
		case 2:
			hd.Add(imdsTokenHeader, valid)
			hd.Add(imdsTokenHeader, token)
		}
		if xff != "" {
			hd.Set("X-Forwarded-For", xff)
		}
		res := do(h, method, path, hd)
		if res.header.Get("Content-Type") != "text/plain" {
			t.Fatalf("content type %q", res.header.Get("Content-Type"))
		}
		if xff != "" && res.status != http.StatusForbidden {
			t.Fatalf("forwarded request answered %d", res.status)
		}
		switch res.status {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
			if res.body != http.StatusText(res.status) {
				t.Fatalf("error body %q", res.body)
			}
			assertNoSecrets(t, "error", res.body, testAccessKey)
			return
		default:
			t.Fatalf("unexpected status %d", res.status)
		}
		if path == imdsTokenPath {
			n, err := strconv.Atoi(ttl)
			if method != http.MethodPut || err != nil || n < 1 || n > 21600 || ttlEcho(res) != strconv.Itoa(n) {
				t.Fatalf("token issued for %s ttl=%q echo=%q", method, ttl, ttlEcho(res))
			}
			return
		}
		if method != http.MethodGet || tokenMode%3 != 1 && (tokenMode%3 != 0 || token != valid) {
			t.Fatalf("%s %q answered 200 with token mode %d", method, path, tokenMode%3)
		}
		if path == imdsCredsPrefix+testRole {
			var doc imdsCredentials
			if err := json.Unmarshal([]byte(res.body), &doc); err != nil || doc.Code != "Success" || doc.SecretAccessKey != testSecret {
				t.Fatalf("credential document %q", res.body)
			}
		} else if strings.Contains(res.body, testSecret) {
			t.Fatalf("secret served at %q", path)
		}
	})
}

// FuzzContainer drives the container handler with arbitrary requests.
func FuzzContainer(f *testing.F) {
	f.Add("GET", "/creds", testAuth, "")
	f.Add("GET", "/v1/credentials", "secret-auth-token-from-file", "")
	f.Add("GET", "/", "", "")
	f.Add("POST", "/creds", testAuth, "")
	f.Add("GET", "/creds", testAuth, "127.0.0.1")
	f.Add("GET", "/creds", "Basic abc12", "")

	prov := newFakeProvider(testEpoch.Add(time.Hour))
	h, err := NewContainer(ContainerOptions{Credentials: prov, AuthToken: testAuth, Now: func() time.Time { return testEpoch }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, auth, xff string) {
		hd := http.Header{}
		if auth != "" {
			hd.Set("Authorization", auth)
		}
		if xff != "" {
			hd.Set("X-Forwarded-For", xff)
		}
		res := do(h, method, path, hd)
		if res.header.Get("Content-Type") != "application/json" {
			t.Fatalf("content type %q", res.header.Get("Content-Type"))
		}
		if res.status == http.StatusOK {
			if method != http.MethodGet || auth != testAuth || xff != "" {
				t.Fatalf("200 for %s auth=%q xff=%q", method, auth, xff)
			}
			var doc containerJSON
			if err := json.Unmarshal([]byte(res.body), &doc); err != nil || doc.SecretAccessKey != testSecret {
				t.Fatalf("credential document %q", res.body)
			}
			return
		}
		var e containerError
		if err := json.Unmarshal([]byte(res.body), &e); err != nil || e.Code == "" || e.Message == "" {
			t.Fatalf("error body %q", res.body)
		}
		assertNoSecrets(t, "error", res.body, testAccessKey, testAuth)
		switch res.status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("unexpected status %d", res.status)
		}
	})
}

// FuzzParseTTL checks the TTL parser against strconv.
func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"300", "21600", "0", "21601", "-1", "+1", "00300", " 1", "1e3", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseTTL(s)
		ref, err := strconv.ParseUint(s, 10, 64)
		refOK := err == nil && len(s) <= 5 && ref >= 1 && ref <= 21600 && !strings.HasPrefix(s, "+")
		if ok != refOK || ok && uint64(n) != ref {
			t.Fatalf("parseTTL(%q) = %d,%v; strconv says %d,%v", s, n, ok, ref, refOK)
		}
	})
}
