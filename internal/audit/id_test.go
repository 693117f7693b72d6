package audit_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/keylessdev/keyless/internal/audit"
)

func TestNewDecisionIDKnownAnswers(t *testing.T) {
	t.Parallel()
	zero10 := bytes.NewReader(make([]byte, 10))
	ff10 := bytes.NewReader(bytes.Repeat([]byte{0xff}, 10))
	for _, c := range []struct {
		now  time.Time
		rand *bytes.Reader
		want string
	}{
		{time.UnixMilli(0), zero10, "00000000000000000000000000"},
		{time.UnixMilli(1), bytes.NewReader(make([]byte, 10)), "00000000010000000000000000"},
		{time.UnixMilli(32), bytes.NewReader(make([]byte, 10)), "00000000100000000000000000"},
		{time.UnixMilli(1<<48 - 1), ff10, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
		// 80 random bits: the last byte lands in the last 5-bit group, shifted.
		{time.UnixMilli(0), bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1f}), "0000000000000000000000000Z"},
		{time.UnixMilli(0), bytes.NewReader([]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "0000000000G000000000000000"},
		// Clamped: before the epoch and past 48 bits.
		{time.UnixMilli(-5), bytes.NewReader(make([]byte, 10)), "00000000000000000000000000"},
		{time.UnixMilli(1 << 50), bytes.NewReader(make([]byte, 10)), "7ZZZZZZZZZ0000000000000000"},
	} {
		if got := audit.NewDecisionID(c.now, c.rand); got != c.want {
			t.Errorf("NewDecisionID(%d ms) = %s, want %s", c.now.UnixMilli(), got, c.want)
		}
	}
}

func TestDecisionIDRoundTripAndSort(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 2000 {
		now := start.Add(time.Duration(i*37) * time.Millisecond).Add(999 * time.Microsecond)
		id := audit.NewDecisionID(now, rand.Reader)
		if len(id) != audit.DecisionIDLen || strings.ContainsAny(id, "ILOUabcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("bad id %q", id)
		}
		got, err := audit.ParseDecisionID(id)
		if err != nil {
			t.Fatalf("ParseDecisionID(%s): %v", id, err)
		}
		if want := now.Truncate(time.Millisecond); !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("ParseDecisionID(%s) = %v, want %v", id, got, want)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Error("ids from increasing milliseconds do not sort lexicographically")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Error("duplicate ids")
	}
}

func TestParseDecisionIDRejects(t *testing.T) {
	t.Parallel()
	valid := audit.NewDecisionID(time.Now(), rand.Reader)
	for _, s := range []string{
		"", valid[:25], valid + "0",
		"8ZZZZZZZZZZZZZZZZZZZZZZZZZ", // overflows 128 bits
		"01arz3ndektsv4rrffq69g5fav", // lower case is not canonical
		"01ARZ3NDEKTSV4RRFFQ69G5FAI", "01ARZ3NDEKTSV4RRFFQ69G5FAL",
		"01ARZ3NDEKTSV4RRFFQ69G5FAO", "01ARZ3NDEKTSV4RRFFQ69G5FAU",
		"01ARZ3NDEK-SV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FA\x00",
		"01ARZ3NDEÉSV4RRFFQ69G5FAV",
	} {
		if _, err := audit.ParseDecisionID(s); !errors.Is(err, audit.ErrInvalidDecisionID) {
			t.Errorf("ParseDecisionID(%q): err = %v, want ErrInvalidDecisionID", s, err)
		}
	}
	if _, err := audit.ParseDecisionID("01ARZ3NDEKTSV4RRFFQ69G5FAV"); err != nil {
		t.Errorf("ULID spec example rejected: %v", err)
	}
}

func TestNewDecisionIDPanicsOnRandFailure(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewDecisionID with a failing reader did not panic")
		}
	}()
	audit.NewDecisionID(time.Now(), iotest.ErrReader(errors.New("entropy gone")))
}

func TestNewDecisionIDShortRandPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewDecisionID with 9 random bytes did not panic")
		}
	}()
	audit.NewDecisionID(time.Now(), bytes.NewReader(make([]byte, 9)))
}
