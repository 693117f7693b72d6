package iam

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
)

// MaxPolicyMembers bounds the members of one policy, all bindings together.
// It is keyless's own bound on compile time and memory; Google allows 1,500
// principals per policy, and a policy within Google's limit is always
// within keyless's.
const MaxPolicyMembers = 5000

// maxRoleLen bounds a role name (and the work of suggesting a known one).
const maxRoleLen = 256

// Expr is a google.type.Expr: an IAM condition.
type Expr struct {
	Expression  string `json:"expression"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Location    string `json:"location,omitempty"`
}

// Binding grants Role to Members, when Condition (if any) holds.
type Binding struct {
	Role      string   `json:"role"`
	Members   []string `json:"members"`
	Condition *Expr    `json:"condition,omitempty"`
}

// Policy is a google.iam.v1.Policy attached to a service account.
type Policy struct {
	Version  int       `json:"version,omitempty"`
	Etag     string    `json:"etag,omitempty"`
	Bindings []Binding `json:"bindings,omitempty"`
}

// RequiredVersion is the version Google reports for the policy: 3 when any
// binding has a condition, 1 otherwise.
func (p Policy) RequiredVersion() int {
	for _, b := range p.Bindings {
		if b.Condition != nil {
			return 3
		}
	}
	return 1
}

// CompiledPolicy is an immutable, indexed policy, safe for concurrent use.
// A nil *CompiledPolicy denies everything.
type CompiledPolicy struct {
	bindings []compiledBinding
	byPerm   map[string]*permIndex
}

type compiledBinding struct {
	role    string
	perms   []string
	members []Member
	raw     []string // members as written
	cond    *condition
	title   string // condition title, for explanations
}

// grant locates one member of one binding. Index lists hold grants in
// increasing (binding, member) order.
type grant struct{ binding, member int32 }

type gkeKey struct{ poolID, projectID, subject string }

// permIndex finds, for one permission, the grants a caller's identity can
// hit, with one map lookup per identity fact.
type permIndex struct {
	pools           map[PoolName]*poolIndex
	serviceAccounts map[string][]grant
	gke             map[gkeKey][]grant
}

// poolIndex holds the grants of the principal and principalSet members of
// one pool.
type poolIndex struct {
	all      []grant                       // principalSet://.../*
	subjects map[string][]grant            // principal://.../subject/S
	groups   map[string][]grant            // principalSet://.../group/G
	attrs    map[string]map[string][]grant // principalSet://.../attribute.NAME/VALUE by NAME, then VALUE
}

func newPermIndex() *permIndex {
	return &permIndex{pools: map[PoolName]*poolIndex{}, serviceAccounts: map[string][]grant{}, gke: map[gkeKey][]grant{}}
}

func (ix *permIndex) pool(p PoolName) *poolIndex {
	pi := ix.pools[p]
	if pi == nil {
		pi = &poolIndex{subjects: map[string][]grant{}, groups: map[string][]grant{}, attrs: map[string]map[string][]grant{}}
		ix.pools[p] = pi
	}
	return pi
}

func (ix *permIndex) add(m Member, g grant) {
	switch m.Kind {
	case KindPrincipal:
		pi := ix.pool(m.Pool)
		pi.subjects[m.Subject] = append(pi.subjects[m.Subject], g)
	case KindPrincipalSetGroup:
		pi := ix.pool(m.Pool)
		pi.groups[m.Group] = append(pi.groups[m.Group], g)
	case KindPrincipalSetAttribute:
		pi := ix.pool(m.Pool)
		byValue := pi.attrs[m.AttrName]
		if byValue == nil {
			byValue = map[string][]grant{}
			pi.attrs[m.AttrName] = byValue
		}
		byValue[m.AttrValue] = append(byValue[m.AttrValue], g)
	case KindPrincipalSetAll:
		pi := ix.pool(m.Pool)
		pi.all = append(pi.all, g)
	case KindServiceAccount:
		ix.serviceAccounts[m.Email] = append(ix.serviceAccounts[m.Email], g)
	case KindGKEWorkload:
		k := gkeKey{GKEPoolID(m.Project), m.Project, GKESubject(m.Namespace, m.KSA)}
		ix.gke[k] = append(ix.gke[k], g)
	}
	// user:, group:, domain: and public members never match: not indexed.
}

// CompilePolicy validates p and builds its index. It returns every problem,
// each a *PolicyError located by field path (`bindings[1].members[0]`,
// `bindings[0].condition.expression`, ...), and a nil policy when there is
// any. Conditions may reference request.time only.
func CompilePolicy(p Policy) (*CompiledPolicy, []error) {
	var errs []error
	add := func(path string, err error) { errs = append(errs, &PolicyError{Path: path, Err: err}) }

	if p.Version != 0 && p.Version != 1 && p.Version != 3 {
		add("version", errorf(ErrInvalidPolicy, "%d: must be 1 or 3", p.Version))
	}
	total := 0
	for _, b := range p.Bindings {
		total += len(b.Members)
	}
	if total > MaxPolicyMembers {
		add("bindings", errorf(ErrInvalidPolicy, "%d members in total, the limit is %d", total, MaxPolicyMembers))
	}

	var env *cel.Env
	cp := &CompiledPolicy{bindings: make([]compiledBinding, len(p.Bindings)), byPerm: map[string]*permIndex{}}
	for i, b := range p.Bindings {
		at := fmt.Sprintf("bindings[%d]", i)
		cb := &cp.bindings[i]
		cb.role = b.Role
		if perms, err := checkRole(b.Role); err != nil {
			add(at+".role", err)
		} else {
			cb.perms = perms
		}
		if b.Condition != nil {
			if p.Version == 1 {
				add(at+".condition", errorf(ErrInvalidPolicy, "a policy with conditions must be version 3, not 1"))
			}
			if env == nil {
				var err error
				if env, err = newConditionEnv(); err != nil {
					add(at+".condition", errorf(ErrInvalidCondition, "CEL environment: %s", err))
					return nil, errs
				}
			}
			c, cerrs := compileCondition(env, b.Condition)
			for _, e := range cerrs {
				add(at+".condition."+e.Path, e.Err)
			}
			cb.cond, cb.title = c, b.Condition.Title
		}
		cb.raw = slices.Clone(b.Members)
		cb.members = make([]Member, len(b.Members))
		for j, s := range b.Members {
			m, err := ParseMember(s)
			if err != nil {
				add(fmt.Sprintf("%s.members[%d]", at, j), err)
				continue
			}
			cb.members[j] = m
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for i, cb := range cp.bindings {
		for _, perm := range cb.perms {
			ix := cp.byPerm[perm]
			if ix == nil {
				ix = newPermIndex()
				cp.byPerm[perm] = ix
			}
			for j, m := range cb.members {
				ix.add(m, grant{int32(i), int32(j)})
			}
		}
	}
	return cp, nil
}

func checkRole(role string) ([]string, error) {
	if role == "" {
		return nil, errorf(ErrInvalidPolicy, "required")
	}
	if perms, ok := RolePermissions(role); ok {
		return perms, nil
	}
	msg := fmt.Sprintf("unknown role %s", quoteTrunc(role))
	if len(role) <= maxRoleLen {
		if s := suggestRole(role); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	return nil, errorf(ErrUnknownRole, "%s; keyless knows %s", msg, strings.Join(KnownRoles(), ", "))
}
