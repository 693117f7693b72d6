package awsreq

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/google/externalaccount"
)

type fakeAWSSupplier struct{}

func (fakeAWSSupplier) AwsRegion(context.Context, externalaccount.SupplierOptions) (string, error) {
	return "us-west-2", nil
}

func (fakeAWSSupplier) AwsSecurityCredentials(context.Context, externalaccount.SupplierOptions) (*externalaccount.AwsSecurityCredentials, error) {
	return &externalaccount.AwsSecurityCredentials{AccessKeyID: suiteAKID, SecretAccessKey: suiteSecret, SessionToken: testSession}, nil
}

// TestOAuth2ClientToken uses golang.org/x/oauth2's external-account client as
// an independent signer: it POSTs a real aws4_request token to a loopback
// STS, and the captured token must parse, pass Check and verify.
func TestOAuth2ClientToken(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var captured string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		mu.Lock()
		captured = form.Get("subject_token")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"x","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	ts, err := externalaccount.NewTokenSource(context.Background(), externalaccount.Config{
		Audience:                       testAudience,
		SubjectTokenType:               SubjectTokenType,
		TokenURL:                       srv.URL,
		Scopes:                         []string{"https://www.googleapis.com/auth/cloud-platform"},
		AwsSecurityCredentialsSupplier: fakeAWSSupplier{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	now := time.Now() // the library signs with the real clock
	mu.Lock()
	tok := captured
	mu.Unlock()
	g, err := ParseSubjectToken(tok)
	if err != nil {
		t.Fatalf("ParseSubjectToken: %v", err)
	}
	if err := g.Check(Policy{Audience: testAudience, Now: now, RequireSignedBinding: true}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := Verify(g.SignedRequest(), g.Auth, suiteSecret, now, 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := Verify(g.SignedRequest(), g.Auth, suiteSecret+"x", now, 0); StageOf(err) != StageSignature {
		t.Fatalf("wrong secret: %v", err)
	}
}
