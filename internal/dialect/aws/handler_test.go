package aws_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/config"
	awsdialect "github.com/keylessdev/keyless/internal/dialect/aws"
	"github.com/keylessdev/keyless/internal/keylesstest"
	"github.com/keylessdev/keyless/internal/testissuer"
)

// FuzzHandler sends arbitrary STS requests through the AWS dialect and the real engine:
// every answer is an STS XML document with a 2xx/4xx status (never a 5xx, which would
// mean a server fault on client input), and no request parameter longer than a few
// bytes is echoed back (the web identity token in particular).
func FuzzHandler(f *testing.F) {
	fx := keylesstest.Start(f, func(c *config.Config, is *testissuer.Issuer) { keylesstest.WithAWS(c, is) })
	tok := fx.AWSToken(f, "app", nil)
	h := &awsdialect.Handler{Engine: fx.Engine}
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {keylesstest.AWSRoleARN()},
		"RoleSessionName": {"fuzz"}, "WebIdentityToken": {tok}}
	f.Add("POST", "application/x-www-form-urlencoded", "", form.Encode(), "")
	form.Set("DurationSeconds", "99999")
	f.Add("POST", "application/x-www-form-urlencoded; charset=utf-8", "", form.Encode(), "")
	f.Add("POST", "application/x-www-form-urlencoded", "", "Action=GetCallerIdentity&Version=2011-06-15",
		"AWS4-HMAC-SHA256 Credential=ASIAAAAAAAAAAAAAAAAA/20261123/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	f.Add("GET", "", "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAAAAAAAAAAAAAAAAA%2F20261123%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261123T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "")
	f.Add("POST", "text/plain", "", "Action=AssumeRole", "")
	f.Add("PUT", "", "", "", "")
	f.Fuzz(func(t *testing.T, method, ctype, query, body, auth string) {
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			return
		}
		req := httptest.NewRequest(method, "http://127.0.0.1/", strings.NewReader(body))
		req.URL.RawQuery = query
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth != "" && !strings.ContainsAny(auth, "\r\n") {
			req.Header.Set("Authorization", auth)
			req.Header.Set("X-Amz-Date", "20261123T000000Z")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for client input: %s", rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") != "text/xml" || !bytes.HasPrefix(rec.Body.Bytes(), []byte("<")) {
			t.Fatalf("not an STS XML answer: %q %s", rec.Header().Get("Content-Type"), rec.Body)
		}
		if rec.Code == http.StatusOK {
			return
		}
		vals, _ := url.ParseQuery(body)
		if w := vals.Get("WebIdentityToken"); len(w) > 8 && strings.Contains(rec.Body.String(), w) {
			t.Fatal("the web identity token was echoed in the error")
		}
	})
}
