package iam

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Outcome says what happened to one member of one binding during Explain.
type Outcome string

const (
	OutcomeMatched             Outcome = "matched"
	OutcomeRoleLacksPermission Outcome = "role lacks permission"
	OutcomeMemberMismatch      Outcome = "member does not match"
	OutcomeConditionFalse      Outcome = "condition false"
	OutcomeConditionError      Outcome = "condition error"
)

// BindingTrace is one line of an explanation. A binding whose role lacks the
// permission has one line with an empty Member; otherwise there is one line
// per member.
type BindingTrace struct {
	Index   int
	Role    string
	Member  string
	Outcome Outcome
	Detail  string // why (mismatch reason, condition title or error); may quote caller identity values, never credentials
}

func (t BindingTrace) String() string {
	s := fmt.Sprintf("bindings[%d] %s", t.Index, t.Role)
	if t.Member != "" {
		s += " " + t.Member
	}
	s += ": " + string(t.Outcome)
	if t.Detail != "" {
		s += ": " + t.Detail
	}
	return s
}

// Decision is the result of Check or Explain. When Allowed, Binding, Role and
// Member name the grant used: the lowest-index binding that applies, and its
// lowest-index matching member. Trace is set by Explain only.
type Decision struct {
	Allowed bool
	Binding int // -1 when denied
	Role    string
	Member  string
	Trace   []BindingTrace
}

func deny() Decision { return Decision{Binding: -1} }

// Check decides whether the caller holds permission on the policy's
// resource at time now. It costs one map lookup per identity fact of the
// caller (subject, each group, each attribute value, pool, service account)
// plus the evaluation of the conditions of bindings whose members matched;
// it does not scan bindings. A condition that fails to evaluate does not
// grant. Check and Explain always agree on Allowed, Binding and Member.
func (cp *CompiledPolicy) Check(c Caller, permission string, now time.Time) Decision {
	if cp == nil {
		return deny()
	}
	ix := cp.byPerm[permission]
	if ix == nil {
		return deny()
	}
	var buf [16]grant
	cands := ix.candidates(c, buf[:0])
	if len(cands) == 0 {
		return deny()
	}
	slices.SortFunc(cands, func(a, b grant) int {
		return cmp.Or(cmp.Compare(a.binding, b.binding), cmp.Compare(a.member, b.member))
	})
	last := int32(-1)
	for _, g := range cands {
		if g.binding == last {
			continue // the binding's condition already failed
		}
		last = g.binding
		b := &cp.bindings[g.binding]
		if b.cond != nil {
			if ok, err := b.cond.eval(now); err != nil || !ok {
				continue
			}
		}
		return Decision{Allowed: true, Binding: int(g.binding), Role: b.role, Member: b.raw[g.member]}
	}
	return deny()
}

// candidates appends every grant of ix whose member matches c.
func (ix *permIndex) candidates(c Caller, out []grant) []grant {
	if c.ServiceAccount != "" && len(ix.serviceAccounts) > 0 {
		out = append(out, ix.serviceAccounts[c.ServiceAccount]...)
	}
	f := c.Federated
	if f == nil || f.Subject == "" {
		return out
	}
	if len(ix.gke) > 0 && f.ProjectID != "" {
		out = append(out, ix.gke[gkeKey{f.Pool.PoolID, f.ProjectID, f.Subject}]...)
	}
	pi := ix.pools[f.Pool]
	if pi == nil {
		return out
	}
	out = append(out, pi.all...)
	if len(pi.subjects) > 0 {
		out = append(out, pi.subjects[f.Subject]...)
	}
	if len(pi.groups) > 0 {
		for _, g := range f.Groups {
			out = append(out, pi.groups[g]...)
		}
	}
	if len(pi.attrs) > 0 {
		for name, vals := range f.Attributes {
			byValue := pi.attrs[name]
			if byValue == nil {
				continue
			}
			for _, v := range vals {
				out = append(out, byValue[v]...)
			}
		}
	}
	return out
}

// Explain decides like Check and records, for every binding, why it did or
// did not grant the permission. It scans the whole policy; use it for
// explain, audit detail and tests, not on the hot path.
func (cp *CompiledPolicy) Explain(c Caller, permission string, now time.Time) Decision {
	d := deny()
	if cp == nil {
		return d
	}
	for i := range cp.bindings {
		b := &cp.bindings[i]
		if !slices.Contains(b.perms, permission) {
			d.Trace = append(d.Trace, BindingTrace{Index: i, Role: b.role, Outcome: OutcomeRoleLacksPermission,
				Detail: fmt.Sprintf("%s does not grant %s", b.role, permission)})
			continue
		}
		condDone := false
		var condOK bool
		var condErr error
		for j, m := range b.members {
			t := BindingTrace{Index: i, Role: b.role, Member: b.raw[j]}
			ok, why := m.match(c)
			switch {
			case !ok:
				t.Outcome, t.Detail = OutcomeMemberMismatch, why
			case b.cond == nil:
				t.Outcome = OutcomeMatched
			default:
				if !condDone {
					condOK, condErr = b.cond.eval(now)
					condDone = true
				}
				switch {
				case condErr != nil:
					t.Outcome, t.Detail = OutcomeConditionError, fmt.Sprintf("condition %q: %s", b.title, condErr)
				case !condOK:
					t.Outcome, t.Detail = OutcomeConditionFalse, fmt.Sprintf("condition %q is false at %s", b.title, now.UTC().Format(time.RFC3339))
				default:
					t.Outcome, t.Detail = OutcomeMatched, fmt.Sprintf("condition %q is true", b.title)
				}
			}
			if t.Outcome == OutcomeMatched && !d.Allowed {
				d.Allowed, d.Binding, d.Role, d.Member = true, i, b.role, b.raw[j]
			}
			d.Trace = append(d.Trace, t)
		}
	}
	return d
}
