package awspolicy

import (
	"fmt"
	"strconv"
	"strings"
)

// ActionAssumeRoleWithWebIdentity is the action STS checks for web identity.
const ActionAssumeRoleWithWebIdentity = "sts:AssumeRoleWithWebIdentity"

// Request is what STS evaluates a trust policy against.
type Request struct {
	// Action, e.g. ActionAssumeRoleWithWebIdentity. Matched case-insensitively.
	Action string
	// Federated is the calling principal: the IAM OIDC provider ARN
	// (arn:aws:iam::ACCT:oidc-provider/HOST/PATH) or a built-in provider name
	// such as "accounts.google.com". Matched exactly.
	Federated string
	// Context holds the condition keys of the request, e.g.
	// "token.actions.githubusercontent.com:sub" -> ["repo:org/repo:ref:refs/heads/main"].
	// Key names are matched case-insensitively; a key with no values is absent.
	Context map[string][]string
}

// Decision is the outcome of Evaluate with a trace for audit and explain. The
// trace quotes request values (claims), never tokens.
type Decision struct {
	Allowed    bool
	Reason     string
	Statements []StatementTrace
}

// StatementTrace records how one statement fared.
type StatementTrace struct {
	Index            int
	Sid              string
	Effect           Effect
	PrincipalMatched bool
	ActionMatched    bool
	Conditions       []ConditionTrace // every condition, in document order
	Matched          bool             // principal, action and all conditions matched
}

// ConditionTrace records one (operator, key) test.
type ConditionTrace struct {
	Operator      string   // as written, e.g. "ForAnyValue:StringLike"
	Key           string   // as written in the policy
	PolicyValues  []string // the values the policy lists
	RequestValues []string // the request's values for Key; nil when absent
	Matched       bool
	Detail        string // why it matched or not, in words
}

// Name returns where the statement sits, e.g. `Statement[1] (Sid "GitHub")`.
func (t StatementTrace) Name() string {
	n := fmt.Sprintf("Statement[%d]", t.Index)
	if t.Sid != "" {
		n += " (Sid " + strconv.Quote(t.Sid) + ")"
	}
	return n
}

// Evaluate applies AWS evaluation logic: a request is allowed when at least
// one Allow statement matches and no Deny statement matches; otherwise it is
// denied. Every statement and condition is evaluated so that the trace is
// complete.
func (p *Policy) Evaluate(r Request) Decision {
	d := Decision{Statements: make([]StatementTrace, len(p.statements))}
	action := strings.ToLower(r.Action)
	allowIdx, denyIdx := -1, -1
	for i := range p.statements {
		st := &p.statements[i]
		t := StatementTrace{Index: i, Sid: st.sid, Effect: st.effect}
		t.PrincipalMatched = st.principalMatches(r.Federated)
		t.ActionMatched = st.actionMatches(action)
		t.Conditions = make([]ConditionTrace, len(st.conditions))
		all := true
		for j := range st.conditions {
			t.Conditions[j] = st.conditions[j].evaluate(r.Context)
			all = all && t.Conditions[j].Matched
		}
		t.Matched = t.PrincipalMatched && t.ActionMatched && all
		if t.Matched {
			if st.effect == Deny && denyIdx < 0 {
				denyIdx = i
			} else if st.effect == Allow && allowIdx < 0 {
				allowIdx = i
			}
		}
		d.Statements[i] = t
	}
	switch {
	case r.Action == "":
		d.Reason = "denied: the request names no action"
	case denyIdx >= 0:
		d.Reason = "explicitly denied by " + d.Statements[denyIdx].Name()
	case allowIdx >= 0:
		d.Allowed = true
		d.Reason = "allowed by " + d.Statements[allowIdx].Name()
	default:
		d.Reason = implicitDenyReason(d.Statements, r)
	}
	return d
}

// implicitDenyReason explains the first Allow statement that named the
// principal and action, or says that none did.
func implicitDenyReason(ts []StatementTrace, r Request) string {
	for _, t := range ts {
		if t.Effect != Allow || !t.PrincipalMatched || !t.ActionMatched {
			continue
		}
		for _, c := range t.Conditions {
			if !c.Matched {
				return fmt.Sprintf("denied: %s condition %s %q failed: %s", t.Name(), c.Operator, c.Key, c.Detail)
			}
		}
	}
	return fmt.Sprintf("denied: no Allow statement names principal %q with action %q", r.Federated, r.Action)
}

func (s *statement) principalMatches(federated string) bool {
	if s.anyone {
		return true
	}
	for _, f := range s.federated {
		if f == federated {
			return true
		}
	}
	// AWS and Service principals never match a web identity caller.
	return false
}

func (s *statement) actionMatches(lowerAction string) bool {
	for _, a := range s.actions {
		if globMatch(a, lowerAction) {
			return !s.notAction
		}
	}
	return s.notAction
}

// lookup finds a condition key case-insensitively. Values of keys that differ
// only in case are merged.
func lookup(ctx map[string][]string, key string) []string {
	if v, ok := ctx[key]; ok {
		// Fast path; still merge other spellings if any exist.
		var more []string
		for k, vs := range ctx {
			if k != key && strings.EqualFold(k, key) {
				more = append(more, vs...)
			}
		}
		if more == nil {
			return v
		}
		return append(append([]string(nil), v...), more...)
	}
	var out []string
	for k, vs := range ctx {
		if strings.EqualFold(k, key) {
			out = append(out, vs...)
		}
	}
	return out
}

func (c *condition) evaluate(ctx map[string][]string) ConditionTrace {
	vals := lookup(ctx, c.key)
	t := ConditionTrace{Operator: c.operator, Key: c.key, PolicyValues: c.values}
	if len(vals) > 0 {
		t.RequestValues = vals
	}
	t.Matched, t.Detail = c.test(vals)
	return t
}

// test implements the AWS rules for missing keys, negation, IfExists and the
// set qualifiers.
func (c *condition) test(vals []string) (bool, string) {
	present := len(vals) > 0
	if c.spec.kind == kindNull {
		state := "key is present"
		if !present {
			state = "key is absent"
		}
		for _, want := range c.bools {
			if want == !present {
				return true, state
			}
		}
		return false, state
	}
	if !present {
		switch {
		case c.ifExists:
			return true, "key is absent and the operator ends in IfExists"
		case c.qualifier == qualForAll:
			return true, "key is absent: ForAllValues over no values is true"
		case c.qualifier == qualForAny:
			return false, "key is absent: ForAnyValue over no values is false"
		case c.spec.negated:
			return true, "key is absent: a negated operator is true"
		default:
			return false, "key is absent"
		}
	}
	// per reports whether one request value satisfies the operator as written.
	per := func(v string) (bool, bool) {
		m, ok := c.matchOne(v)
		if c.spec.negated {
			m = !m
		}
		return m, ok
	}
	switch c.qualifier {
	case qualForAll:
		for _, v := range vals {
			m, ok := per(v)
			if !ok {
				return false, fmt.Sprintf("request value %q is not a valid %s", v, c.typeName())
			}
			if !m {
				return false, fmt.Sprintf("request value %q does not satisfy the operator", v)
			}
		}
		return true, "every request value satisfies the operator"
	case qualForAny:
		for _, v := range vals {
			if m, ok := per(v); ok && m {
				return true, fmt.Sprintf("request value %q satisfies the operator", v)
			}
		}
		return false, fmt.Sprintf("none of the request values %q satisfies the operator", vals)
	}
	// No qualifier: a positive operator needs some request value to match
	// some policy value; a negated one needs no request value to match any.
	for _, v := range vals {
		m, ok := c.matchOne(v)
		if !ok {
			return false, fmt.Sprintf("request value %q is not a valid %s", v, c.typeName())
		}
		if m {
			if c.spec.negated {
				return false, fmt.Sprintf("request value %q matches a listed value", v)
			}
			return true, fmt.Sprintf("request value %q matches", v)
		}
	}
	if c.spec.negated {
		return true, "no request value matches a listed value"
	}
	if len(vals) == 1 {
		return false, fmt.Sprintf("request value %q matches none of %q", vals[0], c.values)
	}
	return false, fmt.Sprintf("none of the request values %q matches any of %q", vals, c.values)
}

func (c *condition) typeName() string {
	switch c.spec.kind {
	case kindNumeric:
		return "number"
	case kindDate:
		return "date"
	case kindBool:
		return "boolean"
	case kindArn:
		return "ARN"
	case kindIP:
		return "IP address"
	}
	return "string"
}
