package audit_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keylessdev/keyless/internal/audit"
)

func FuzzParseDecisionID(f *testing.F) {
	for _, s := range []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "00000000000000000000000000",
		"8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "01arz3ndektsv4rrffq69g5fav", "", "01ARZ3NDEKTSV4RRFFQ69G5FAI"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := audit.ParseDecisionID(s)
		if err != nil {
			return
		}
		// A valid id re-encodes to itself from its time and random part.
		rnd := decodeRandom(t, s)
		if got := audit.NewDecisionID(tm, bytes.NewReader(rnd)); got != s {
			t.Fatalf("re-encoding %q gave %q", s, got)
		}
	})
}

// decodeRandom extracts the 80 random bits of a canonical id.
func decodeRandom(t *testing.T, s string) []byte {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var hi, lo uint64
	for i := range len(s) {
		v := uint64(bytes.IndexByte([]byte(alphabet), s[i]))
		hi = hi<<5 | lo>>59
		lo = lo<<5 | v
	}
	out := make([]byte, 10)
	for i := range 10 {
		// bytes 6..15 of the 128-bit value
		idx := 6 + i
		if idx < 8 {
			out[i] = byte(hi >> (8 * (7 - idx)))
		} else {
			out[i] = byte(lo >> (8 * (15 - idx)))
		}
	}
	return out
}

func FuzzNewDecisionID(f *testing.F) {
	f.Add(int64(0), []byte("0123456789"))
	f.Add(int64(1<<48-1), bytes.Repeat([]byte{0xff}, 10))
	f.Add(int64(1_735_689_600_000), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Fuzz(func(t *testing.T, ms int64, rnd []byte) {
		if len(rnd) < 10 || ms < 0 || ms >= 1<<48 {
			return
		}
		id := audit.NewDecisionID(time.UnixMilli(ms), bytes.NewReader(rnd))
		tm, err := audit.ParseDecisionID(id)
		if err != nil {
			t.Fatalf("NewDecisionID produced unparsable %q: %v", id, err)
		}
		if tm.UnixMilli() != ms {
			t.Fatalf("%q encodes %d ms, want %d", id, tm.UnixMilli(), ms)
		}
		if !bytes.Equal(decodeRandom(t, id), rnd[:10]) {
			t.Fatalf("%q lost random bits", id)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	ev := newEvent(audit.OutcomeAllow)
	ev.Version = 1
	good, _ := json.Marshal(ev)
	f.Add(good)
	f.Add([]byte(`{"v":1,"time":"2025-01-01T00:00:00Z","decision_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","dialect":"aws.sts","method":"AssumeRoleWithWebIdentity","outcome":"deny","reason":"audience"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"trace":{"stages":[1,2,{"x":null}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := audit.DecodeEvent(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		ev2, err := audit.DecodeEvent(again)
		if err != nil {
			t.Fatalf("decode of re-encoded event: %v\n%s", err, again)
		}
		if d := cmp.Diff(ev, ev2, cmp.Comparer(func(a, b json.RawMessage) bool {
			if len(a) == 0 || len(b) == 0 {
				return len(a) == len(b)
			}
			var x, y any
			return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && cmp.Equal(x, y)
		}), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
			t.Fatalf("round trip differs:\n%s", d)
		}
	})
}
