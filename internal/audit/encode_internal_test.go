package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func benchEvent() Event {
	now := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	return Event{
		Time: now, DecisionID: "01JTHX2Q8M0000000000000000", Dialect: "google.sts", Method: "token",
		Outcome: OutcomeAllow, Reason: "ok", Detail: "exchange allowed for binding roles/iam.workloadIdentityUser",
		Provider:           "projects/123456789012/locations/global/workloadIdentityPools/p/providers/gh",
		Principal:          "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/p/subject/repo:o/r:ref:refs/heads/main",
		Attributes:         map[string][]string{"attribute.repository": {"o/r"}, "attribute.ref": {"refs/heads/main"}},
		SubjectTokenSHA256: TokenHash("s"), IssuedTokenSHA256: TokenHash("i"), IssuedJTI: "jti",
		Trace: json.RawMessage(`{"stages":[{"name":"verify","ok":true},{"name":"map","ok":true}]}`),
	}
}

// BenchmarkEncodeEvent is the CPU a caller spends per event before queuing.
func BenchmarkEncodeEvent(b *testing.B) {
	ev := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEncodeNormalizes(t *testing.T) {
	t.Parallel()
	ev := benchEvent()
	ev.Time = time.Date(2025, 5, 6, 9, 8, 9, 123456789, time.FixedZone("X", 7200))
	exp := ev.Time.Add(time.Hour)
	ev.Expiry = &exp
	rec, err := encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 5, 6, 7, 8, 9, 123456000, time.UTC)
	if rec.Time != want {
		t.Errorf("record time %v, want %v", rec.Time, want)
	}
	if !strings.Contains(string(rec.Data), `"time":"2025-05-06T07:08:09.123456Z"`) ||
		!strings.Contains(string(rec.Data), `"expiry":"2025-05-06T08:08:09.123456Z"`) {
		t.Errorf("times not normalized in %s", rec.Data)
	}
	if *ev.Expiry != exp {
		t.Error("encode modified the caller's Expiry")
	}
}
