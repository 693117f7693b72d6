package awsreq

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestErrors(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	e := &Error{Stage: StageFormat, Detail: "d", Err: cause}
	if !errors.Is(e, cause) || e.Error() != "awsreq: format: d: cause" || StageOf(e) != StageFormat {
		t.Fatalf("error plumbing: %v", e)
	}
	if StageOf(cause) != "" {
		t.Fatal("StageOf of a plain error")
	}
	seen := map[string]bool{}
	for _, s := range []Stage{StageFormat, StageHost, StageAction, StageBinding, StageDate, StageSignature, StageResponse, StagePolicy, "other"} {
		m := (&Error{Stage: s, Detail: "secret-detail"}).PublicMessage()
		if seen[m] || strings.Contains(m, "secret-detail") {
			t.Fatalf("public message %q for %s", m, s)
		}
		seen[m] = true
	}
	if got := truncate(strings.Repeat("a", 100)); len(got) != 67 {
		t.Fatalf("truncate: %q", got)
	}
}

func TestHeaderValuesNonCanonicalKey(t *testing.T) {
	t.Parallel()
	h := http.Header{"x-amz-date": {"a"}}
	if v := headerValues(h, "X-Amz-Date"); len(v) != 1 || v[0] != "a" {
		t.Fatalf("got %v", v)
	}
	if v := headerValues(h, "Host"); v != nil {
		t.Fatalf("got %v", v)
	}
}
