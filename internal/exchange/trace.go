package exchange

import "fmt"

// Step is one stage of a decision as recorded for audit and explain.
type Step struct {
	Stage  string `json:"stage"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Data   any    `json:"data,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Trace is the ordered record of a decision's stages.
type Trace struct {
	Steps []Step `json:"steps"`
}

func (t *Trace) ok(stage, format string, args ...any) {
	t.Steps = append(t.Steps, Step{Stage: stage, OK: true, Detail: fmt.Sprintf(format, args...)})
}

func (t *Trace) okData(stage string, data any, format string, args ...any) {
	t.Steps = append(t.Steps, Step{Stage: stage, OK: true, Detail: fmt.Sprintf(format, args...), Data: data})
}

func (t *Trace) fail(stage, fix string, data any, format string, args ...any) {
	t.Steps = append(t.Steps, Step{Stage: stage, OK: false, Detail: fmt.Sprintf(format, args...), Data: data, Fix: fix})
}
