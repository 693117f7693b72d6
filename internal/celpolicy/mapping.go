package celpolicy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// Mapping keys.
const (
	keySubject      = "google.subject"
	keyGroups       = "google.groups"
	attributePrefix = "attribute."
	googlePrefix    = "google."
)

type entryKind int

const (
	kindSubject entryKind = iota
	kindGroups
	kindCustom
)

// Mapping is a compiled attributeMapping. It is immutable and safe for
// concurrent use.
type Mapping struct {
	env       *cel.Env
	entries   []mappingEntry // google.subject, google.groups, then attribute.* by name
	costLimit uint64
}

type mappingEntry struct {
	key, expr string
	name      string // NAME of attribute.NAME
	kind      entryKind
	prg       cel.Program
}

// Attributes are the values a mapping produced for one credential.
type Attributes struct {
	Subject string
	// Groups is nil when google.groups is not mapped (the condition then has
	// no google.groups) and non-nil, possibly empty, when it is.
	Groups []string
	// Custom maps attribute NAME to its values; a string result is a
	// one-element slice.
	Custom map[string][]string
	// ListValued names the custom attributes whose expression produced a list:
	// the condition sees those as lists (even with one element) and the others
	// as strings.
	ListValued map[string]bool
}

// AttrTrace is one mapping expression's outcome, for explain and audit.
type AttrTrace struct {
	Key, Expression string
	Value           []string
	Err             string
}

// CompileMapping validates and compiles an attributeMapping. It returns every
// problem found, sorted by key; the Mapping is nil when there is any.
func CompileMapping(exprs map[string]string, opts Options) (*Mapping, []*CompileError) {
	keys := make([]string, 0, len(exprs))
	for k := range exprs {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var errs []*CompileError
	if _, ok := exprs[keySubject]; !ok {
		errs = append(errs, &CompileError{Key: keySubject, Message: "google.subject must be mapped (for example to assertion.sub)"})
	}
	env, err := newEnv(false)
	if err != nil {
		return nil, append(errs, &CompileError{Message: "internal error: " + err.Error()})
	}
	limit := opts.costLimit()
	m := &Mapping{env: env, costLimit: limit}
	custom := 0
	for _, key := range keys {
		kind, name, problem := classifyKey(key)
		if problem != "" {
			errs = append(errs, &CompileError{Key: key, Message: problem})
			continue
		}
		if kind == kindCustom {
			if custom++; custom > MaxCustomAttributes {
				errs = append(errs, &CompileError{Key: key, Message: fmt.Sprintf("too many custom attributes, the limit is %d", MaxCustomAttributes)})
				continue
			}
		}
		prg, cerr := compileMappingExpr(env, key, kind, exprs[key], limit)
		if cerr != nil {
			errs = append(errs, cerr)
			continue
		}
		m.entries = append(m.entries, mappingEntry{key: key, expr: exprs[key], name: name, kind: kind, prg: prg})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *CompileError) int { return strings.Compare(a.Key, b.Key) })
		return nil, errs
	}
	slices.SortStableFunc(m.entries, func(a, b mappingEntry) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return strings.Compare(a.key, b.key)
	})
	return m, nil
}

// classifyKey validates a mapping key.
func classifyKey(key string) (entryKind, string, string) {
	switch {
	case key == keySubject:
		return kindSubject, "", ""
	case key == keyGroups:
		return kindGroups, "", ""
	case strings.HasPrefix(key, attributePrefix):
		name := key[len(attributePrefix):]
		return kindCustom, name, attributeNameProblem(name)
	case strings.HasPrefix(key, googlePrefix):
		return 0, "", fmt.Sprintf("unknown attribute %q%s; workload identity pools support google.subject and google.groups",
			key, didYouMean(key, []string{keySubject, keyGroups}))
	}
	if lower := strings.ToLower(key); lower != key {
		if _, _, p := classifyKey(lower); p == "" {
			return 0, "", fmt.Sprintf("mapping keys are case-sensitive (did you mean %q?)", lower)
		}
	}
	return 0, "", fmt.Sprintf("unknown key %q%s; keys are google.subject, google.groups or attribute.NAME",
		key, didYouMean(key, []string{keySubject, keyGroups}))
}

func compileMappingExpr(env *cel.Env, key string, kind entryKind, expr string, limit uint64) (cel.Program, *CompileError) {
	if p := sourceProblem(expr, MaxMappingExpressionLength); p != "" {
		return nil, &CompileError{Key: key, Message: p}
	}
	checked, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, compileErrorFromIssues(key, iss)
	}
	if p := mappingTypeProblem(checked.OutputType(), kind); p != "" {
		return nil, &CompileError{Key: key, Message: p}
	}
	prg, err := env.Program(checked, programOptions(limit)...)
	if err != nil {
		return nil, &CompileError{Key: key, Message: friendlyMessage(err.Error())}
	}
	return prg, nil
}

// sourceProblem checks what is checked before parsing.
func sourceProblem(expr string, limit int) string {
	switch {
	case !utf8.ValidString(expr):
		return "expression is not valid UTF-8"
	case strings.TrimSpace(expr) == "":
		return "expression is empty"
	}
	if n := utf8.RuneCountInString(expr); n > limit {
		return fmt.Sprintf("expression is %d characters, the limit is %d", n, limit)
	}
	return ""
}

// mappingTypeProblem accepts string and list(string) results, and dyn and
// list(dyn), whose values are checked at evaluation.
func mappingTypeProblem(t *cel.Type, kind entryKind) string {
	switch t.Kind() {
	case types.StringKind, types.DynKind:
		return ""
	case types.ListKind:
		if kind == kindSubject {
			return fmt.Sprintf("google.subject must be a single string, the expression produces '%s'", cel.FormatCELType(t))
		}
		if e := t.Parameters()[0].Kind(); e == types.StringKind || e == types.DynKind {
			return ""
		}
	}
	want := "a string or a list of strings"
	if kind == kindSubject {
		want = "a string"
	}
	return fmt.Sprintf("the expression must produce %s, found '%s' (convert with string(...))", want, cel.FormatCELType(t))
}

// Evaluate maps one verified credential's claims. See EvaluateContext.
func (m *Mapping) Evaluate(assertion map[string]any) (*Attributes, []AttrTrace, error) {
	return m.EvaluateContext(context.Background(), assertion)
}

// EvaluateContext maps one verified credential's claims (JSON-decoded, with or
// without UseNumber). Any failure returns nil Attributes and an *EvalError:
// the credential must be denied. The traces cover every expression, in
// evaluation order (google.subject, google.groups, attributes by name).
func (m *Mapping) EvaluateContext(ctx context.Context, assertion map[string]any) (*Attributes, []AttrTrace, error) {
	vars := &activation{assertion: wrapAssertion(m.env, assertion)}
	traces := make([]AttrTrace, len(m.entries))
	attrs := &Attributes{Custom: make(map[string][]string, len(m.entries))}
	var firstErr error
	var spent uint64
	size := 0
	singles := make([]string, len(m.entries)) // backing for one-value results
	for i, e := range m.entries {
		tr := &traces[i]
		tr.Key, tr.Expression = e.key, e.expr
		if spent > m.costLimit {
			tr.Err = "not evaluated: the mapping's cost budget is spent"
			continue
		}
		out, cost, err := eval(ctx, e.prg, vars)
		spent += cost
		var values []string
		var isList bool
		if err == nil {
			values, isList, err = resultValues(out, e.kind, singles[i:i+1:i+1])
		}
		if err == nil && e.kind == kindSubject {
			err = subjectProblem(values[0])
		}
		if err != nil {
			tr.Err = err.Error()
			if firstErr == nil {
				firstErr = &EvalError{Key: e.key, Expression: e.expr, Err: err}
			}
			continue
		}
		tr.Value = values
		for _, v := range values {
			size += len(v)
		}
		switch e.kind {
		case kindSubject:
			attrs.Subject = values[0]
		case kindGroups:
			attrs.Groups = values
		case kindCustom:
			attrs.Custom[e.name] = values
			if isList {
				if attrs.ListValued == nil {
					attrs.ListValued = map[string]bool{}
				}
				attrs.ListValued[e.name] = true
			}
		}
	}
	if firstErr == nil && spent > m.costLimit {
		firstErr = &EvalError{Err: fmt.Errorf("%w: %w: the mapping's total cost exceeds %d", ErrEvaluation, ErrCostLimit, m.costLimit)}
	}
	if firstErr == nil && size > MaxAttributesBytes {
		firstErr = &EvalError{Err: fmt.Errorf("%w: %d bytes, the limit is %d", ErrAttributesTooLarge, size, MaxAttributesBytes)}
	}
	if firstErr != nil {
		return nil, traces, firstErr
	}
	return attrs, traces, nil
}

func subjectProblem(s string) error {
	switch {
	case s == "":
		return ErrSubjectEmpty
	case len(s) > MaxSubjectBytes:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrSubjectTooLong, len(s), MaxSubjectBytes)
	}
	return nil
}

// resultValues converts an expression result: a string, a scalar (int, uint,
// double, bool: its CEL string form, so that numeric claims such as GitLab's
// runner_id map), or a list of strings (not for google.subject). single is a
// one-element slice to use for a single value.
func resultValues(out ref.Val, kind entryKind, single []string) ([]string, bool, error) {
	switch v := out.(type) {
	case types.String:
		single[0] = string(v)
		return checkUTF8(single, false)
	case types.Int, types.Uint, types.Double, types.Bool:
		s, ok := v.ConvertToType(types.StringType).(types.String)
		if !ok {
			return nil, false, fmt.Errorf("%w: cannot convert %s to a string", ErrEvaluation, typeName(v))
		}
		single[0] = string(s)
		return single, false, nil
	case traits.Lister:
		if kind == kindSubject {
			return nil, false, fmt.Errorf("%w: google.subject must be a string, got a list", ErrEvaluation)
		}
		n, _ := v.Size().(types.Int)
		values := make([]string, 0, max(0, int(n)))
		it := v.Iterator()
		for i := 0; it.HasNext() == types.True; i++ {
			el := it.Next()
			s, ok := el.(types.String)
			if !ok {
				return nil, false, fmt.Errorf("%w: list element %d is %s, want string", ErrEvaluation, i, typeName(el))
			}
			values = append(values, string(s))
		}
		return checkUTF8(values, true)
	}
	return nil, false, fmt.Errorf("%w: the expression produced %s, want a string or a list of strings", ErrEvaluation, typeName(out))
}

func checkUTF8(values []string, isList bool) ([]string, bool, error) {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return nil, false, fmt.Errorf("%w: the value is not valid UTF-8", ErrEvaluation)
		}
	}
	return values, isList, nil
}

func typeName(v ref.Val) string {
	if v == nil {
		return "nothing"
	}
	if v == types.NullValue {
		return "null"
	}
	return v.Type().TypeName()
}

// Keys returns the mapped keys in evaluation order.
func (m *Mapping) Keys() []string {
	out := make([]string, len(m.entries))
	for i, e := range m.entries {
		out[i] = e.key
	}
	return out
}

// Expression returns the source of one mapped key.
func (m *Mapping) Expression(key string) (string, bool) {
	for _, e := range m.entries {
		if e.key == key {
			return e.expr, true
		}
	}
	return "", false
}
