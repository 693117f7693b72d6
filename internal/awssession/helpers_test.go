package awssession

import (
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 22, 22, 0, 0, 0, time.UTC)

func testKey(id uint32, fill byte) Key {
	k := Key{ID: id}
	for i := range k.Secret {
		k.Secret[i] = fill + byte(i)
	}
	return k
}

func newSealer(t testing.TB, keys ...Key) *Sealer {
	t.Helper()
	if len(keys) == 0 {
		keys = []Key{testKey(1, 0x10)}
	}
	s, err := NewSealer(keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// detRand is a deterministic io.Reader for reproducible tests.
func detRand(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

func testSession() Session {
	return Session{
		AccountID:      "123456789012",
		RoleName:       "keyless-role",
		RolePath:       "/team/ci/",
		SessionName:    "cli-session",
		RoleID:         "AROAKEYLESSROLEEXAMPL",
		Issued:         testNow,
		Expiry:         testNow.Add(time.Hour),
		SourceIdentity: "alice@example.com",
		Subject:        "repo:keyless/keyless:ref:refs/heads/main",
		Provider:       "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
		Audience:       "sts.amazonaws.com",
		DecisionID:     "01JDECISION0000000000000000",
		Tags:           map[string]string{"team": "platform", "env": "prod"},
		Correlation:    map[string]string{"jti": "3f2a", "run_id": "42"},
	}
}

func issue(t testing.TB, s *Sealer, sess Session) Credentials {
	t.Helper()
	c, err := s.Issue(sess, detRand(uint64(len(sess.SessionName))+uint64(sess.Issued.Unix())))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
