package awssession

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/credential/awsreq"
)

// signGCI builds a GetCallerIdentity request signed with c the way the AWS
// SDKs do (session token signed as x-amz-security-token).
func signGCI(t *testing.T, c Credentials, ts time.Time) awsreq.SignedRequest {
	t.Helper()
	r := awsreq.SignedRequest{
		Method: "POST", Host: "sts.keyless.test", Path: "/",
		Headers: http.Header{
			"Content-Type":         {"application/x-www-form-urlencoded; charset=utf-8"},
			"X-Amz-Date":           {ts.UTC().Format("20060102T150405Z")},
			"X-Amz-Security-Token": {c.SessionToken},
		},
		Body: []byte("Action=GetCallerIdentity&Version=2011-06-15"),
	}
	signed := []string{"content-type", "host", "x-amz-date", "x-amz-security-token"}
	a := &awsreq.Auth{AccessKeyID: c.AccessKeyID, Date: ts.UTC().Format("20060102"), Region: "us-east-1", Service: "sts", SignedHeaders: signed, Timestamp: ts}
	sig, err := awsreq.ComputeSignature(r, a, c.SecretAccessKey)
	if err != nil {
		t.Fatal(err)
	}
	r.Headers.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/"+a.Scope()+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+hex.EncodeToString(sig))
	return r
}

// verifyGCI is what the server will do: parse, open the token, verify.
func verifyGCI(s *Sealer, r awsreq.SignedRequest, now time.Time) (Session, error) {
	a, err := awsreq.ParseAuth(r)
	if err != nil {
		return Session{}, err
	}
	sess, secret, err := s.Open(a.AccessKeyID, a.SessionToken, now)
	if err != nil {
		return Session{}, err
	}
	return sess, awsreq.Verify(r, a, secret, now, 0)
}

func TestSigV4EndToEnd(t *testing.T) {
	t.Parallel()
	issuer := newSealer(t)
	replica := newSealer(t) // another process with the same keys
	c := issue(t, issuer, testSession())
	now := testNow.Add(10 * time.Minute)

	sess, err := verifyGCI(replica, signGCI(t, c, now), now)
	if err != nil {
		t.Fatalf("valid request rejected: %v", err)
	}
	if sess.ARN() != "arn:aws:sts::123456789012:assumed-role/keyless-role/cli-session" {
		t.Errorf("ARN = %s", sess.ARN())
	}

	// Signed with another session's secret: the signature does not verify.
	other := issue(t, issuer, func() Session { s := testSession(); s.SessionName = "other-session"; return s }())
	forged := c
	forged.SecretAccessKey = other.SecretAccessKey
	if _, err := verifyGCI(replica, signGCI(t, forged, now), now); awsreq.StageOf(err) != awsreq.StageSignature {
		t.Fatalf("wrong secret: err = %v", err)
	}
	// Another session's token under this access key id: mismatch.
	mixed := c
	mixed.SessionToken = other.SessionToken
	if _, err := verifyGCI(replica, signGCI(t, mixed, now), now); !errors.Is(err, ErrMismatch) {
		t.Fatalf("mixed token: err = %v", err)
	}
	// After expiry the token is refused even with a fresh signature.
	late := testNow.Add(time.Hour)
	if _, err := verifyGCI(replica, signGCI(t, c, late), late); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: err = %v", err)
	}
}
