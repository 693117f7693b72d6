package awssession

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	sess := testSession()
	sess.Issued = sess.Issued.Add(300 * time.Millisecond) // sub-second parts are dropped
	c := issue(t, s, sess)

	if !c.Expiration.Equal(testNow.Add(time.Hour)) || c.Expiration.Location() != time.UTC {
		t.Errorf("Expiration = %v", c.Expiration)
	}
	got, secret, err := s.Open(c.AccessKeyID, c.SessionToken, testNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := testSession()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session mismatch (-want +got):\n%s", diff)
	}
	if secret != c.SecretAccessKey {
		t.Error("Open derived a different secret than Issue returned")
	}
	if len(secret) != SecretAccessKeyLen {
		t.Errorf("secret length %d", len(secret))
	}
	if _, err := base64.StdEncoding.Strict().DecodeString(secret); err != nil {
		t.Errorf("secret is not standard base64: %v", err)
	}
	if strings.Contains(c.SessionToken, "=") || len(c.SessionToken) > MaxTokenLen {
		t.Errorf("token has padding or is too long (%d)", len(c.SessionToken))
	}
}

func TestIdentifiers(t *testing.T) {
	t.Parallel()
	sess := testSession()
	if got, want := sess.ARN(), "arn:aws:sts::123456789012:assumed-role/keyless-role/cli-session"; got != want {
		t.Errorf("ARN = %q, want %q", got, want)
	}
	if got, want := sess.AssumedRoleID(), "AROAKEYLESSROLEEXAMPL:cli-session"; got != want {
		t.Errorf("AssumedRoleID = %q, want %q", got, want)
	}
}

func TestAccessKeyIDFormat(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	seen := map[string]bool{}
	for i := range 200 {
		c, err := s.Issue(testSession(), detRand(uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		id := c.AccessKeyID
		if len(id) != 20 || !strings.HasPrefix(id, "ASIA") || strings.Trim(id[4:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("bad access key id %q", id)
		}
		if !ValidAccessKeyID(id) {
			t.Fatalf("ValidAccessKeyID(%q) = false", id)
		}
		if seen[id] {
			t.Fatalf("duplicate access key id %q", id)
		}
		seen[id] = true
		if strings.Contains(c.SessionToken, id) || strings.Contains(c.SessionToken, c.SecretAccessKey) {
			t.Fatal("token contains the access key id or secret in clear")
		}
	}
	for _, bad := range []string{"", "ASIA", "AKIAAAAAAAAAAAAAAAAA", "ASIAAAAAAAAAAAAAAAA1", "ASIAAAAAAAAAAAAAAAAa", "ASIAAAAAAAAAAAAAAAAAA", "asiaAAAAAAAAAAAAAAAA"} {
		if ValidAccessKeyID(bad) {
			t.Errorf("ValidAccessKeyID(%q) = true", bad)
		}
	}
}

func TestSecretsDifferAndAreStable(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	a, _ := s.Issue(testSession(), detRand(1))
	b, _ := s.Issue(testSession(), detRand(2))
	if a.SecretAccessKey == b.SecretAccessKey || a.AccessKeyID == b.AccessKeyID || a.SessionToken == b.SessionToken {
		t.Fatal("two sessions share a secret, key id or token")
	}
	// Same randomness, same key: identical output (derivation is deterministic).
	a2, _ := s.Issue(testSession(), detRand(1))
	if a2 != a {
		t.Fatal("issuance is not a function of its inputs")
	}
	// Known answer: pins the HKDF derivation so it cannot drift silently.
	seed := make([]byte, seedLen)
	got, err := deriveSecret(seed, "ASIAAAAAAAAAAAAAAAAA")
	if err != nil {
		t.Fatal(err)
	}
	const want = "oDpFIAzVsmlruKbewTsEwEBcbJVabpVxZlWVFE3E" // independently computed (RFC 5869, Python hmac)
	if got2, _ := deriveSecret(seed, "ASIAAAAAAAAAAAAAAAAA"); got2 != got {
		t.Fatal("derivation not stable")
	}
	if other, _ := deriveSecret(seed, "ASIAAAAAAAAAAAAAAAAB"); other == got {
		t.Fatal("secret does not depend on the access key id")
	}
	if got != want {
		t.Logf("KAT value: %s", got)
		t.Fatal("secret derivation changed")
	}
	// Another replica with the same keys derives the same secret.
	_, sec, err := newSealer(t).Open(a.AccessKeyID, a.SessionToken, testNow)
	if err != nil || sec != a.SecretAccessKey {
		t.Fatalf("replica open: %v", err)
	}
}

func TestTamperEveryByte(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	c := issue(t, s, testSession())
	raw, err := base64.RawURLEncoding.DecodeString(c.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for _, mask := range []byte{0x01, 0x80} {
			mod := append([]byte(nil), raw...)
			mod[i] ^= mask
			_, _, err := s.Open(c.AccessKeyID, base64.RawURLEncoding.EncodeToString(mod), testNow)
			want := ErrTampered
			switch {
			case i == 0:
				want = ErrMalformed // version
			case i < 5:
				want = ErrUnknownKey // key id
			}
			if !errors.Is(err, want) {
				t.Fatalf("byte %d ^ %#x: err = %v, want %v", i, mask, err, want)
			}
		}
	}
	// Every character substitution in the text form is rejected too.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range c.SessionToken {
		repl := alphabet[(strings.IndexByte(alphabet, c.SessionToken[i])+17)%64]
		mod := c.SessionToken[:i] + string(repl) + c.SessionToken[i+1:]
		if _, _, err := s.Open(c.AccessKeyID, mod, testNow); err == nil {
			t.Fatalf("char %d substituted: token still opens", i)
		}
	}
	// Truncation and extension.
	for _, mod := range []string{c.SessionToken[:len(c.SessionToken)-1], c.SessionToken[:len(c.SessionToken)-4], c.SessionToken + "AAAA", c.SessionToken[:20]} {
		if _, _, err := s.Open(c.AccessKeyID, mod, testNow); err == nil {
			t.Fatal("modified length still opens")
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	c := issue(t, s, testSession())
	other, _ := s.Issue(testSession(), detRand(99))
	raw, _ := base64.RawURLEncoding.DecodeString(c.SessionToken)
	v2 := append([]byte(nil), raw...)
	v2[0] = 2
	cases := []struct {
		name        string
		akid, token string
		now         time.Time
		want        error
	}{
		{"wrong access key id", other.AccessKeyID, c.SessionToken, testNow, ErrMismatch},
		{"swapped tokens", c.AccessKeyID, other.SessionToken, testNow, ErrMismatch},
		{"malformed access key id", "AKIAIOSFODNN7EXAMPLE", c.SessionToken, testNow, ErrMalformed},
		{"empty token", c.AccessKeyID, "", testNow, ErrMalformed},
		{"not base64", c.AccessKeyID, "!!!!" + c.SessionToken[4:], testNow, ErrMalformed},
		{"padded", c.AccessKeyID, c.SessionToken + "==", testNow, ErrMalformed},
		{"std alphabet", c.AccessKeyID, strings.NewReplacer("-", "+", "_", "/").Replace(c.SessionToken) + "+", testNow, ErrMalformed},
		{"too long", c.AccessKeyID, strings.Repeat("A", MaxTokenLen+1), testNow, ErrMalformed},
		{"too short", c.AccessKeyID, base64.RawURLEncoding.EncodeToString(raw[:headerLen+seedLen+15]), testNow, ErrMalformed},
		{"version 2", c.AccessKeyID, base64.RawURLEncoding.EncodeToString(v2), testNow, ErrMalformed},
		{"expired exactly", c.AccessKeyID, c.SessionToken, testNow.Add(time.Hour), ErrExpired},
		{"expired later", c.AccessKeyID, c.SessionToken, testNow.Add(48 * time.Hour), ErrExpired},
		{"zero now", c.AccessKeyID, c.SessionToken, time.Time{}, ErrExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sess, secret, err := s.Open(tc.akid, tc.token, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if secret != "" || sess.AccountID != "" {
				t.Fatal("failed Open returned data")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatal("not an *Error")
			}
			msg := err.Error() + e.PublicMessage()
			for _, leak := range []string{c.SessionToken[:16], c.SecretAccessKey, other.SecretAccessKey, c.AccessKeyID, other.AccessKeyID} {
				if strings.Contains(msg, leak) {
					t.Fatalf("error text leaks a credential: %q", msg)
				}
			}
			wantCode := "InvalidClientTokenId"
			if tc.want == ErrExpired {
				wantCode = "ExpiredToken"
			}
			if e.AWSCode() != wantCode {
				t.Fatalf("AWSCode = %q, want %q", e.AWSCode(), wantCode)
			}
		})
	}
	// One second before expiry still opens.
	if _, _, err := s.Open(c.AccessKeyID, c.SessionToken, testNow.Add(time.Hour-time.Nanosecond)); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldK, newK := testKey(1, 0x10), testKey(2, 0x20)
	oldS := newSealer(t, oldK)
	oldC := issue(t, oldS, testSession())

	rotated := newSealer(t, newK, oldK)
	newC := issue(t, rotated, testSession())
	raw, _ := base64.RawURLEncoding.DecodeString(newC.SessionToken)
	if id := binary.BigEndian.Uint32(raw[1:5]); id != 2 {
		t.Fatalf("sealed with key %d, want 2", id)
	}
	for _, c := range []Credentials{oldC, newC} {
		if _, _, err := rotated.Open(c.AccessKeyID, c.SessionToken, testNow); err != nil {
			t.Fatalf("rotated sealer cannot open: %v", err)
		}
	}
	if _, _, err := oldS.Open(newC.AccessKeyID, newC.SessionToken, testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old-only sealer on new token: %v", err)
	}
	retired := newSealer(t, newK)
	if _, _, err := retired.Open(oldC.AccessKeyID, oldC.SessionToken, testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("retired key: %v", err)
	}
	// Same key id, different secret: authentication fails.
	impostor := newSealer(t, testKey(1, 0x77))
	if _, _, err := impostor.Open(oldC.AccessKeyID, oldC.SessionToken, testNow); !errors.Is(err, ErrTampered) {
		t.Fatalf("wrong secret for key id: %v", err)
	}
}

func TestNewSealerRejects(t *testing.T) {
	t.Parallel()
	for name, keys := range map[string][]Key{
		"none":      nil,
		"duplicate": {testKey(1, 1), testKey(1, 2)},
		"zero":      {{ID: 3}},
	} {
		if _, err := NewSealer(keys); err == nil {
			t.Errorf("%s: NewSealer accepted", name)
		}
	}
}

func TestIssueValidation(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	bigTags := map[string]string{}
	for i := range MaxTags {
		bigTags[strings.Repeat(string(rune('a'+i%26)), 100)+string(rune('A'+i/26))] = strings.Repeat("v", MaxTagValueLen)
	}
	tooMany := map[string]string{}
	for i := range MaxTags + 1 {
		tooMany[string(rune('a'+i%26))+string(rune('A'+i/26))] = "v"
	}
	mut := map[string]func(*Session){
		"account short":      func(s *Session) { s.AccountID = "12345" },
		"account letters":    func(s *Session) { s.AccountID = "12345678901a" },
		"role empty":         func(s *Session) { s.RoleName = "" },
		"role slash":         func(s *Session) { s.RoleName = "a/b" },
		"role long":          func(s *Session) { s.RoleName = strings.Repeat("r", 65) },
		"path no slash":      func(s *Session) { s.RolePath = "team/" },
		"path space":         func(s *Session) { s.RolePath = "/a b/" },
		"session short":      func(s *Session) { s.SessionName = "a" },
		"session colon":      func(s *Session) { s.SessionName = "a:b" },
		"session long":       func(s *Session) { s.SessionName = strings.Repeat("s", 65) },
		"role id prefix":     func(s *Session) { s.RoleID = "AIDAKEYLESSROLEEXAMPL" },
		"role id lower":      func(s *Session) { s.RoleID = "AROAkeyless" },
		"source identity":    func(s *Session) { s.SourceIdentity = "a b" },
		"no issued":          func(s *Session) { s.Issued = time.Time{} },
		"no expiry":          func(s *Session) { s.Expiry = time.Time{} },
		"expiry before":      func(s *Session) { s.Expiry = s.Issued.Add(-time.Second) },
		"sub-second session": func(s *Session) { s.Expiry = s.Issued.Add(time.Millisecond) },
		"too long":           func(s *Session) { s.Expiry = s.Issued.Add(MaxDuration + time.Second) },
		"subject long":       func(s *Session) { s.Subject = strings.Repeat("x", MaxFieldLen+1) },
		"audience utf8":      func(s *Session) { s.Audience = "\xff" },
		"too many tags":      func(s *Session) { s.Tags = tooMany },
		"empty tag key":      func(s *Session) { s.Tags = map[string]string{"": "v"} },
		"tag value long":     func(s *Session) { s.Tags = map[string]string{"k": strings.Repeat("v", MaxTagValueLen+1)} },
		"token too large":    func(s *Session) { s.Tags = bigTags },
		"correlation key":    func(s *Session) { s.Correlation = map[string]string{strings.Repeat("k", MaxCorrelationKeyLen+1): "v"} },
		"correlation value": func(s *Session) {
			s.Correlation = map[string]string{"jti": strings.Repeat("v", MaxCorrelationValueLen+1)}
		},
		"correlation utf8": func(s *Session) { s.Correlation = map[string]string{"jti": "\xff"} },
	}
	for name, m := range mut {
		sess := testSession()
		m(&sess)
		_, err := s.Issue(sess, rand.Reader)
		if !errors.Is(err, ErrInvalidSession) {
			t.Errorf("%s: err = %v, want ErrInvalidSession", name, err)
		}
	}
	// Minimal session (optional fields empty, path "/") and the largest
	// allowed free-text fields are accepted.
	min := Session{AccountID: "000000000000", RoleName: "r", RolePath: "/", SessionName: "s1", RoleID: "AROA1", Issued: testNow, Expiry: testNow.Add(MaxDuration)}
	if _, err := s.Issue(min, rand.Reader); err != nil {
		t.Errorf("minimal session: %v", err)
	}
	max := testSession()
	max.Subject, max.Provider, max.Audience = strings.Repeat("s", MaxFieldLen), strings.Repeat("p", MaxFieldLen), strings.Repeat("a", 100)
	max.Tags = nil
	if c, err := s.Issue(max, rand.Reader); err != nil || len(c.SessionToken) > MaxTokenLen {
		t.Errorf("large session: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestIssueRandomFailure(t *testing.T) {
	t.Parallel()
	if _, err := newSealer(t).Issue(testSession(), failingReader{}); err == nil {
		t.Fatal("Issue succeeded without randomness")
	}
	if _, err := newSealer(t).Issue(testSession(), strings.NewReader("short")); err == nil {
		t.Fatal("Issue succeeded with short randomness")
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	s := newSealer(t, testKey(5, 1), testKey(6, 2))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for range 50 {
				c, err := s.Issue(testSession(), rand.Reader)
				if err != nil {
					errs <- err
					return
				}
				_, sec, err := s.Open(c.AccessKeyID, c.SessionToken, testNow)
				if err != nil || sec != c.SecretAccessKey {
					errs <- errors.Join(err, errors.New("secret mismatch"))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func BenchmarkIssue(b *testing.B) {
	s := newSealer(b)
	sess := testSession()
	for b.Loop() {
		if _, err := s.Issue(sess, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := newSealer(b)
	c := issue(b, s, testSession())
	for b.Loop() {
		if _, _, err := s.Open(c.AccessKeyID, c.SessionToken, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAuthenticMalformedPayload seals payloads Issue never writes, to show
// Open still checks what it decrypts.
func TestAuthenticMalformedPayload(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	const akid = "ASIAAAAAAAAAAAAAAAAA"
	seed := strings.Repeat("s", seedLen)
	for name, plain := range map[string]string{
		"seed only":     seed,
		"not json":      seed + "{",
		"unknown field": seed + `{"k":"` + akid + `","e":9999999999,"x":1}`,
		"trailing data": seed + `{"k":"` + akid + `","e":9999999999}{}`,
	} {
		hdr := []byte{TokenVersion, 0, 0, 0, 1}
		nonce := make([]byte, nonceLen)
		box := s.aeads[1].Seal(append(append([]byte(nil), hdr...), nonce...), nonce, []byte(plain), hdr)
		_, _, err := s.Open(akid, base64.RawURLEncoding.EncodeToString(box), testNow)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestTokenSize(t *testing.T) {
	t.Parallel()
	c := issue(t, newSealer(t), testSession())
	if n := len(c.SessionToken); n > 1024 {
		t.Errorf("typical token is %d characters", n)
	}
	t.Logf("typical token: %d characters", len(c.SessionToken))
}
