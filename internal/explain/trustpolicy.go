package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/keylessdev/keyless/internal/awspolicy"
)

// trustPolicy is the data of a trust_policy step (exchange's policyTrace): the
// request's condition keys and one decision per action evaluated, the denied one last.
type trustPolicy struct {
	ConditionKeys map[string][]string  `json:"conditionKeys"`
	Actions       []string             `json:"actions"` // one per decision
	Decisions     []awspolicy.Decision `json:"decisions"`
	DeniedAction  string               `json:"deniedAction"`
}

// decodeTrustPolicy recognises trust-policy data: an object with a decisions list.
func decodeTrustPolicy(b []byte) (*trustPolicy, bool) {
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return nil, false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil || probe["decisions"] == nil {
		return nil, false
	}
	var tp trustPolicy
	if json.Unmarshal(b, &tp) != nil || len(tp.Decisions) == 0 {
		return nil, false
	}
	return &tp, true
}

// renderTrustPolicy prints the condition keys, then every statement of each decision
// with each condition's request and policy values.
func renderTrustPolicy(w io.Writer, tp *trustPolicy) {
	if len(tp.ConditionKeys) > 0 {
		fmt.Fprintf(w, "%scondition keys of the request:\n", indent)
		keys := make([]string, 0, len(tp.ConditionKeys))
		width := 0
		for k := range tp.ConditionKeys {
			keys = append(keys, k)
			width = max(width, len(k))
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s  %-*s  %s\n", indent, width, k, quoteList(tp.ConditionKeys[k]))
		}
	}
	for i, d := range tp.Decisions {
		// The implicit-deny reason restates the first failed condition, which the
		// statements below show; the others name the deciding statement.
		verdict := d.Reason
		if !d.Allowed && !strings.HasPrefix(d.Reason, "explicitly") {
			verdict = "denied implicitly: no Allow statement matches"
		}
		fmt.Fprintf(w, "%s%s: %s\n", indent, decisionAction(tp, i), verdict)
		for _, st := range d.Statements {
			renderStatement(w, st)
		}
	}
}

// decisionAction names the action of the i-th decision. The engine always evaluates
// sts:AssumeRoleWithWebIdentity first and stops at the first denied action.
func decisionAction(tp *trustPolicy, i int) string {
	switch {
	case i < len(tp.Actions):
		return tp.Actions[i]
	case tp.DeniedAction != "" && i == len(tp.Decisions)-1:
		return tp.DeniedAction
	case i == 0:
		return awspolicy.ActionAssumeRoleWithWebIdentity
	}
	return "action " + strconv.Itoa(i+1) + " (sts:TagSession or sts:SetSourceIdentity)"
}

func renderStatement(w io.Writer, st awspolicy.StatementTrace) {
	result := "matches"
	if !st.Matched {
		var why []string
		if !st.PrincipalMatched {
			why = append(why, "principal differs")
		}
		if !st.ActionMatched {
			why = append(why, "action not listed")
		}
		for _, c := range st.Conditions {
			if !c.Matched {
				why = append(why, "condition failed")
				break
			}
		}
		result = "does not match: " + strings.Join(why, ", ")
	}
	fmt.Fprintf(w, "%s  %s %s %s\n", indent, st.Name(), st.Effect, result)
	for _, c := range st.Conditions {
		mark := "ok  "
		if !c.Matched {
			mark = "FAIL"
		}
		line := fmt.Sprintf("%s    [%s] %s %s  request %s  policy %s", indent, mark, c.Operator, c.Key, quoteList(c.RequestValues), quoteList(c.PolicyValues))
		// The detail restates the values except in the cases worth a word: an absent
		// key (IfExists, negation, set qualifiers) or a value of the wrong type.
		if c.Detail != "" && (len(c.RequestValues) == 0 || strings.Contains(c.Detail, "is not a valid")) {
			line += "  (" + c.Detail + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// quoteList writes values as ["a", "b"], or (absent) for none.
func quoteList(vs []string) string {
	if len(vs) == 0 {
		return "(absent)"
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
