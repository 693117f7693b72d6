package audit_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keylessdev/keyless/internal/audit"
)

var t0 = time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.UTC)

func newEvent(outcome string) audit.Event {
	exp := t0.Add(time.Hour)
	return audit.Event{
		Time:               t0,
		DecisionID:         audit.NewDecisionID(t0, rand.Reader),
		Dialect:            "google.sts",
		Method:             "token",
		Outcome:            outcome,
		Reason:             "attribute_condition",
		Detail:             "condition assertion.repository_owner == 'my-org' was false",
		Provider:           "projects/123456789012/locations/global/workloadIdentityPools/p/providers/gh",
		Principal:          "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/p/subject/repo:o/r",
		Attributes:         map[string][]string{"attribute.repository": {"o/r"}},
		ServiceAccount:     "deploy@proj.iam.gserviceaccount.com",
		Delegates:          []string{"a@proj.iam.gserviceaccount.com"},
		CallerIP:           "127.0.0.1",
		UserAgent:          "google-api-go-client/0.5",
		SubjectTokenSHA256: audit.TokenHash("subject"),
		IssuedTokenSHA256:  audit.TokenHash("issued"),
		IssuedJTI:          "jti-1",
		Expiry:             &exp,
		Correlation:        map[string]string{"run_id": "42"},
		Trace:              json.RawMessage(`{"stages":[{"name":"verify","ok":true}]}`),
	}
}

func TestTokenHash(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	} {
		if got := audit.TokenHash(in); got != want {
			t.Errorf("TokenHash(%q) = %s, want %s", in, got, want)
		}
	}
}

// Guard: an Event field whose JSON name mentions a token must be a hash.
// The full list is pinned so that adding a field is a reviewed change.
func TestEventHasNoTokenFields(t *testing.T) {
	t.Parallel()
	var names []string
	typ := reflect.TypeFor[audit.Event]()
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Errorf("field %s has no explicit JSON name", f.Name)
			continue
		}
		names = append(names, name)
		if strings.Contains(strings.ToLower(name), "token") {
			if !strings.HasSuffix(name, "_sha256") || f.Type.Kind() != reflect.String {
				t.Errorf("field %s (%q) may carry a token; only *_sha256 string hashes are allowed", f.Name, name)
			}
		}
	}
	want := []string{"v", "time", "decision_id", "dialect", "method", "outcome", "reason", "detail", "provider",
		"principal", "attributes", "service_account", "delegates", "caller_ip", "user_agent",
		"subject_token_sha256", "issued_token_sha256", "issued_jti", "expiry", "correlation", "trace", "aws"}
	if !slices.Equal(names, want) {
		t.Errorf("Event JSON fields changed; review for secrets and update this list:\n%s", cmp.Diff(want, names))
	}
}

// Guard: the CloudTrail-shaped record has no field that could hold a secret access
// key or a session token, at any depth.
func TestAWSRecordHasNoSecretFields(t *testing.T) {
	t.Parallel()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			name := strings.ToLower(f.Tag.Get("json"))
			if name == "subjectfromwebidentitytoken,omitempty" { // the token's sub claim (CloudTrail's name)
				continue
			}
			if strings.Contains(name, "secret") || strings.Contains(name, "token") || strings.Contains(name, "signature") {
				t.Errorf("%s.%s (%q) may carry a secret", typ.Name(), f.Name, name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[audit.AWSRecord]())
	if len(seen) < 5 {
		t.Fatalf("walked only %d types", len(seen))
	}
}

func TestDecodeEventRoundTrip(t *testing.T) {
	t.Parallel()
	ev := newEvent(audit.OutcomeAllow)
	ev.Version = audit.EventVersion
	ev.Time = ev.Time.Truncate(time.Microsecond)
	exp := ev.Expiry.Truncate(time.Microsecond)
	ev.Expiry = &exp
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := audit.DecodeEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ev, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestDecodeEventRejects(t *testing.T) {
	t.Parallel()
	good, _ := json.Marshal(func() audit.Event { e := newEvent("deny"); e.Version = 1; return e }())
	for name, c := range map[string]struct {
		data string
		want error
	}{
		"not json":       {`{`, audit.ErrInvalidEvent},
		"array":          {`[]`, audit.ErrInvalidEvent},
		"no version":     {`{"decision_id":"x"}`, audit.ErrUnsupportedVersion},
		"future version": {strings.Replace(string(good), `"v":1`, `"v":2`, 1), audit.ErrUnsupportedVersion},
		"bad outcome":    {strings.Replace(string(good), `"outcome":"deny"`, `"outcome":"maybe"`, 1), audit.ErrInvalidEvent},
		"bad id":         {`{"v":1,"time":"2025-01-01T00:00:00Z","decision_id":"x","dialect":"d","method":"m","outcome":"allow"}`, audit.ErrInvalidEvent},
		"wrong type":     {`{"v":1,"time":"2025-01-01T00:00:00Z","attributes":{"a":"b"}}`, audit.ErrInvalidEvent},
	} {
		if _, err := audit.DecodeEvent([]byte(c.data)); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}
