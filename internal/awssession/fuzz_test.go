package awssession

import (
	"encoding/base64"
	"testing"
)

// FuzzOpen: arbitrary access key ids and tokens never panic and never open.
func FuzzOpen(f *testing.F) {
	s := newSealer(f)
	c := issue(f, s, testSession())
	raw, _ := base64.RawURLEncoding.DecodeString(c.SessionToken)
	f.Add(c.AccessKeyID, c.SessionToken)
	f.Add(c.AccessKeyID, c.SessionToken[:len(c.SessionToken)-1]+"A")
	f.Add(c.AccessKeyID, base64.RawURLEncoding.EncodeToString(raw[:headerLen+seedLen+16]))
	f.Add("ASIAKEYLESSEXAMPLE01", "IQoJb3JpZ2luX2VjEKeylessSessionTokenExample")
	f.Add("AKIAIOSFODNN7EXAMPLE", "")
	f.Add("ASIAAAAAAAAAAAAAAAAA", "AQAAAAE")
	f.Fuzz(func(t *testing.T, akid, token string) {
		if akid == c.AccessKeyID && token == c.SessionToken {
			return
		}
		sess, secret, err := s.Open(akid, token, testNow)
		if err == nil {
			t.Fatalf("forged token opened: %+v", sess)
		}
		if secret != "" {
			t.Fatal("secret returned on failure")
		}
	})
}
