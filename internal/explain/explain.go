// Package explain renders decision traces for people: `keyless explain`, `keyless demo`
// and anyone reading an audit event. The trace comes from the same pipeline that made
// (or would make) the decision; this package only formats it.
package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/keylessdev/keyless/internal/exchange"
)

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
			fmt.Fprintf(w, "         fix: %s\n", s.Fix)
		}
	}
}

// renderData prints a step's structured data (mapped attributes, condition clauses,
// bindings considered) one item per line.
func renderData(w io.Writer, data any) {
	if data == nil {
		return
	}
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	var items []map[string]any
	if json.Unmarshal(b, &items) != nil {
		fmt.Fprintf(w, "         %s\n", b)
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
		fmt.Fprintf(w, "         - %s\n", strings.Join(parts, "  "))
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
	DecisionID     string          `json:"decision_id"`
	Time           string          `json:"time"`
	Dialect        string          `json:"dialect"`
	Method         string          `json:"method"`
	Outcome        string          `json:"outcome"`
	Reason         string          `json:"reason"`
	Detail         string          `json:"detail"`
	Provider       string          `json:"provider"`
	Principal      string          `json:"principal"`
	ServiceAccount string          `json:"service_account"`
	Trace          *exchange.Trace `json:"trace"`
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
	if ev.Provider != "" {
		fmt.Fprintf(w, "  provider:        %s\n", ev.Provider)
	}
	if ev.Principal != "" {
		fmt.Fprintf(w, "  principal:       %s\n", ev.Principal)
	}
	if ev.ServiceAccount != "" {
		fmt.Fprintf(w, "  service account: %s\n", ev.ServiceAccount)
	}
	if ev.Trace != nil {
		Render(w, ev.Trace)
	}
	return nil
}
