package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/keylessdev/keyless/internal/store"
)

// EventVersion is the version of the Event JSON shape this package writes.
const EventVersion = 1

// MaxEventSize bounds an encoded event.
const MaxEventSize = 1 << 20

// Outcomes.
const (
	OutcomeAllow = "allow"
	OutcomeDeny  = "deny"
	OutcomeError = "error"
)

var (
	// ErrInvalidEvent: an event fails validation; it was not recorded.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrUnsupportedVersion: DecodeEvent met an event version it cannot read.
	ErrUnsupportedVersion = errors.New("audit: unsupported event version")
)

// Event is one audited decision. Token fields hold TokenHash values only.
type Event struct {
	Version            int                 `json:"v"` // EventVersion; 0 is filled in by Record
	Time               time.Time           `json:"time"`
	DecisionID         string              `json:"decision_id"`
	Dialect            string              `json:"dialect"`          // "google.sts", "google.iamcredentials", "aws.sts", ...
	Method             string              `json:"method"`           // "token", "generateAccessToken", ...
	Outcome            string              `json:"outcome"`          // OutcomeAllow | OutcomeDeny | OutcomeError
	Reason             string              `json:"reason,omitempty"` // machine code: "attribute_condition", "audience", ...
	Detail             string              `json:"detail,omitempty"` // full internal reason; never tokens
	Provider           string              `json:"provider,omitempty"`
	Principal          string              `json:"principal,omitempty"` // principal://...
	Attributes         map[string][]string `json:"attributes,omitempty"`
	ServiceAccount     string              `json:"service_account,omitempty"`
	Delegates          []string            `json:"delegates,omitempty"`
	CallerIP           string              `json:"caller_ip,omitempty"`
	UserAgent          string              `json:"user_agent,omitempty"`
	SubjectTokenSHA256 string              `json:"subject_token_sha256,omitempty"` // TokenHash of the presented credential
	IssuedTokenSHA256  string              `json:"issued_token_sha256,omitempty"`  // TokenHash of the minted token
	IssuedJTI          string              `json:"issued_jti,omitempty"`
	Expiry             *time.Time          `json:"expiry,omitempty"`
	Correlation        map[string]string   `json:"correlation,omitempty"` // jti, run_id, ...
	Trace              json.RawMessage     `json:"trace,omitempty"`       // stage-by-stage trace for explain
	AWS                *AWSRecord          `json:"aws,omitempty"`         // CloudTrail-shaped record (AWS dialect)
}

// TokenHash returns the hex SHA-256 of token: the only form in which a token
// may appear in an event.
func TokenHash(token string) string {
	// Hash the string's bytes in place: tokens are kilobytes and this runs twice per
	// decision; sha256 only reads its input.
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
	return hex.EncodeToString(sum[:])
}

// DecodeEvent parses an event as stored or written to the sink.
func DecodeEvent(data []byte) (Event, error) {
	var probe struct {
		Version int `json:"v"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if probe.Version != EventVersion {
		return Event{}, fmt.Errorf("%w: %d", ErrUnsupportedVersion, probe.Version)
	}
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if err := ev.validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// normalize returns a copy of ev ready to encode: version filled in, times
// in UTC at microsecond precision (what the store keeps), JWT-shaped text
// redacted. Maps and slices are copied when changed, never modified.
func normalize(ev Event) Event {
	if ev.Version == 0 {
		ev.Version = EventVersion
	}
	ev.Time = ev.Time.UTC().Truncate(time.Microsecond)
	if ev.Expiry != nil {
		e := ev.Expiry.UTC().Truncate(time.Microsecond)
		ev.Expiry = &e
	}
	for _, f := range []*string{&ev.Reason, &ev.Detail, &ev.Provider, &ev.Principal, &ev.ServiceAccount,
		&ev.CallerIP, &ev.UserAgent, &ev.IssuedJTI} {
		*f = redactJWTs(*f)
	}
	ev.Delegates = redactSlice(ev.Delegates)
	if ev.Attributes != nil {
		out := make(map[string][]string, len(ev.Attributes))
		for k, v := range ev.Attributes {
			out[redactJWTs(k)] = redactSlice(v)
		}
		ev.Attributes = out
	}
	if ev.Correlation != nil {
		out := make(map[string]string, len(ev.Correlation))
		for k, v := range ev.Correlation {
			out[redactJWTs(k)] = redactJWTs(v)
		}
		ev.Correlation = out
	}
	if ev.AWS != nil {
		ev.AWS = redactAWS(ev.AWS)
	}
	if len(ev.Trace) > 0 {
		// Replacements are plain ASCII without quotes or backslashes, and a
		// token cannot straddle JSON syntax, so the result stays valid JSON.
		if r := redactJWTs(string(ev.Trace)); r != string(ev.Trace) {
			ev.Trace = json.RawMessage(r)
		}
	}
	return ev
}

func redactSlice(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = redactJWTs(s)
	}
	return out
}

func (ev *Event) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidEvent}, args...)...)
	}
	switch {
	case ev.Version != EventVersion:
		return bad("version %d, want %d", ev.Version, EventVersion)
	case ev.Time.IsZero():
		return bad("no time")
	case ev.Dialect == "":
		return bad("no dialect")
	case ev.Method == "":
		return bad("no method")
	}
	if _, err := ParseDecisionID(ev.DecisionID); err != nil {
		return bad("decision id: %v", err)
	}
	switch ev.Outcome {
	case OutcomeAllow, OutcomeDeny, OutcomeError:
	default:
		return bad("outcome %q", ev.Outcome)
	}
	for name, h := range map[string]string{"subject_token_sha256": ev.SubjectTokenSHA256, "issued_token_sha256": ev.IssuedTokenSHA256} {
		if h != "" && !isSHA256Hex(h) {
			// Never echo the value: it may be the raw token put in by mistake.
			return bad("%s is not a lower-case hex SHA-256 (use TokenHash)", name)
		}
	}
	if len(ev.Trace) > 0 && !json.Valid(ev.Trace) {
		return bad("trace is not valid JSON")
	}
	return nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// encode validates and normalizes ev and returns its store record (whose
// Data is the JSON line without the newline).
func encode(ev Event) (store.AuditRecord, error) {
	ev = normalize(ev)
	if err := ev.validate(); err != nil {
		return store.AuditRecord{}, err
	}
	// The trace is already JSON (validated above): splice it in as the last member
	// instead of letting encoding/json re-compact it, which cost as much as encoding the
	// rest of the event. Only a trace with line breaks is compacted (JSON-lines sink).
	trace := ev.Trace
	ev.Trace = nil
	data, err := json.Marshal(ev)
	if err != nil {
		return store.AuditRecord{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if len(trace) > 0 {
		if bytes.ContainsAny(trace, "\r\n") {
			var buf bytes.Buffer
			if err := json.Compact(&buf, trace); err != nil {
				return store.AuditRecord{}, fmt.Errorf("%w: trace: %v", ErrInvalidEvent, err)
			}
			trace = buf.Bytes()
		}
		data = append(data[:len(data)-1], `,"trace":`...)
		data = append(append(data, trace...), '}')
	}
	if len(data) > MaxEventSize {
		return store.AuditRecord{}, fmt.Errorf("%w: encoded event is %d bytes, the limit is %d", ErrInvalidEvent, len(data), MaxEventSize)
	}
	return store.AuditRecord{
		ID: ev.DecisionID, Time: ev.Time, Dialect: ev.Dialect, Method: ev.Method,
		Outcome: ev.Outcome, Reason: ev.Reason, Data: data,
	}, nil
}
