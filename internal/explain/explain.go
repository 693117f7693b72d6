package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/exchange"
)

// indent is the left margin of a step's data and fix lines.
const indent = "         "

// Render writes a trace step by step: what was checked, what was found, and the fix.
func Render(w io.Writer, tr *exchange.Trace) {
	for _, s := range tr.Steps {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  [%s] %-20s %s\n", mark, s.Stage, s.Detail)
		renderData(w, s.Data)
		if s.Fix != "" {
			fmt.Fprintf(w, "%sfix: %s\n", indent, s.Fix)
		}
	}
}

// renderData prints a step's structured data: a trust-policy evaluation, or a list of
// items (mapped attributes, condition clauses, bindings considered) one per line.
func renderData(w io.Writer, data any) {
	if data == nil {
		return
	}
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	if tp, ok := decodeTrustPolicy(b); ok {
		renderTrustPolicy(w, tp)
		return
	}
	var items []map[string]any
	if json.Unmarshal(b, &items) != nil {
		fmt.Fprintf(w, "%s%s\n", indent, b)
		return
	}
	for _, it := range items {
		var parts []string
		for _, k := range []string{"Key", "Expression", "Value", "Err", "Index", "Role", "Member", "Outcome", "Detail"} {
			if v, ok := it[k]; ok && v != nil && v != "" {
				parts = append(parts, fmt.Sprintf("%s=%v", strings.ToLower(k), compact(v)))
			}
		}
		if len(parts) == 0 {
			b, _ := json.Marshal(it)
			parts = append(parts, string(b))
		}
		fmt.Fprintf(w, "%s- %s\n", indent, strings.Join(parts, "  "))
	}
}

func compact(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// Event is the part of an audit event explain needs.
type Event struct {
	DecisionID     string            `json:"decision_id"`
	Time           string            `json:"time"`
	Dialect        string            `json:"dialect"`
	Method         string            `json:"method"`
	Outcome        string            `json:"outcome"`
	Reason         string            `json:"reason"`
	Detail         string            `json:"detail"`
	Provider       string            `json:"provider"`
	Principal      string            `json:"principal"`
	ServiceAccount string            `json:"service_account"`
	Correlation    map[string]string `json:"correlation"`
	AWS            *audit.AWSRecord  `json:"aws"`
	Trace          *exchange.Trace   `json:"trace"`
}

// RenderEvent writes a stored decision.
func RenderEvent(w io.Writer, raw []byte) error {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("decision is not an audit event: %w", err)
	}
	fmt.Fprintf(w, "decision %s  %s  %s %s  outcome=%s", ev.DecisionID, ev.Time, ev.Dialect, ev.Method, ev.Outcome)
	if ev.Reason != "" {
		fmt.Fprintf(w, " reason=%s", ev.Reason)
	}
	fmt.Fprintln(w)
	field := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-16s %s\n", label+":", value)
		}
	}
	if ev.AWS != nil {
		renderAWS(field, ev.AWS)
	}
	field("provider", ev.Provider)
	field("principal", ev.Principal)
	field("service account", ev.ServiceAccount)
	field("correlation", pairs(ev.Correlation))
	if ev.Trace != nil {
		Render(w, ev.Trace)
	}
	return nil
}

// renderAWS prints the CloudTrail-shaped fields of an AWS dialect event.
func renderAWS(field func(label, value string), a *audit.AWSRecord) {
	if a.ErrorCode != "" {
		field("aws error", a.ErrorCode+": "+a.ErrorMessage)
	}
	u := a.UserIdentity
	switch {
	case u.Type == "WebIdentityUser" && u.UserName != "":
		field("aws identity", u.Type+" "+u.UserName)
	case u.ARN != "":
		id := u.Type + " " + u.ARN
		if u.AccessKeyID != "" {
			id += " (access key " + u.AccessKeyID + ")"
		}
		field("aws identity", id)
	case u.AccessKeyID != "":
		field("aws identity", "access key "+u.AccessKeyID)
	}
	if p := a.RequestParameters; p != nil {
		kv := map[string]string{"roleArn": p.RoleArn, "roleSessionName": p.RoleSessionName, "sourceIdentity": p.SourceIdentity}
		if p.DurationSeconds != 0 {
			kv["durationSeconds"] = fmt.Sprint(p.DurationSeconds)
		}
		for k, v := range p.PrincipalTags {
			kv["principalTags."+k] = v
		}
		if len(p.TransitiveTagKeys) > 0 {
			kv["transitiveTagKeys"] = strings.Join(p.TransitiveTagKeys, ",")
		}
		field("aws request", pairs(kv))
	}
	if r := a.ResponseElements; r != nil {
		kv := map[string]string{"sourceIdentity": r.SourceIdentity, "account": r.Account, "userId": r.UserID, "arn": r.ARN}
		if r.AssumedRoleUser != nil {
			kv["assumedRoleUser"] = r.AssumedRoleUser.ARN
		}
		if r.Credentials != nil {
			kv["accessKeyId"], kv["expiration"] = r.Credentials.AccessKeyID, r.Credentials.Expiration
		}
		field("aws response", pairs(kv))
	}
}

// pairs writes k=v for the non-empty values, keys sorted.
func pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, "  ")
}
