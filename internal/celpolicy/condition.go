package celpolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Condition is a compiled attributeCondition. It is immutable and safe for
// concurrent use.
type Condition struct {
	env       *cel.Env
	expr      string
	prg       cel.Program
	clauses   []clause
	refs      []reference
	costLimit uint64
}

type clause struct {
	text string
	prg  cel.Program
}

// ClauseTrace is one top-level clause of the condition and its value: "true",
// "false", "error: ..." or "not evaluated: ...".
type ClauseTrace struct {
	Expression string
	Value      string
}

// ConditionResult is the outcome of a condition. FailedClause is the first
// clause that was false (else the first that failed) when Allowed is false.
type ConditionResult struct {
	Allowed      bool
	FailedClause string
	Clauses      []ClauseTrace
}

// CompileCondition validates and compiles an attributeCondition.
func CompileCondition(expr string, opts Options) (*Condition, *CompileError) {
	if p := sourceProblem(expr, MaxConditionLength); p != "" {
		return nil, &CompileError{Message: p}
	}
	env, err := newEnv(true)
	if err != nil {
		return nil, &CompileError{Message: "internal error: " + err.Error()}
	}
	checked, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, compileErrorFromIssues("", iss)
	}
	if t := checked.OutputType(); t.Kind() != types.BoolKind {
		return nil, &CompileError{Message: fmt.Sprintf("the condition must produce a bool, found '%s' (compare explicitly, e.g. assertion.flag == true)", cel.FormatCELType(t))}
	}
	limit := opts.costLimit()
	prg, err := env.Program(checked, programOptions(limit)...)
	if err != nil {
		return nil, &CompileError{Message: friendlyMessage(err.Error())}
	}
	c := &Condition{env: env, expr: expr, prg: prg, costLimit: limit, refs: conditionReferences(checked.NativeRep())}
	c.clauses = splitClauses(env, checked, expr, limit)
	if c.clauses == nil {
		c.clauses = []clause{{text: strings.TrimSpace(expr), prg: prg}}
	}
	return c, nil
}

// splitClauses compiles each top-level && operand on its own, or returns nil
// when the textual split does not reproduce the parsed conjunction exactly.
func splitClauses(env *cel.Env, whole *cel.Ast, expr string, limit uint64) []clause {
	texts := splitConjunction(expr)
	if len(texts) < 2 {
		return nil
	}
	want := flattenAnd(whole.NativeRep().Expr(), nil)
	var got []ast.Expr
	out := make([]clause, 0, len(texts))
	for _, t := range texts {
		a, iss := env.Compile(t)
		if iss.Err() != nil {
			return nil
		}
		prg, err := env.Program(a, programOptions(limit)...)
		if err != nil {
			return nil
		}
		got = flattenAnd(a.NativeRep().Expr(), got)
		out = append(out, clause{text: t, prg: prg})
	}
	if len(got) != len(want) {
		return nil
	}
	for i := range got {
		if !ast.EquivExpr(got[i], want[i]) {
			return nil
		}
	}
	return out
}

func flattenAnd(e ast.Expr, out []ast.Expr) []ast.Expr {
	if e.Kind() == ast.CallKind {
		if call := e.AsCall(); call.FunctionName() == operators.LogicalAnd && len(call.Args()) == 2 {
			out = flattenAnd(call.Args()[0], out)
			return flattenAnd(call.Args()[1], out)
		}
	}
	return append(out, e)
}

// Expression returns the condition's source.
func (c *Condition) Expression() string { return c.expr }

// Clauses returns the top-level clauses as written.
func (c *Condition) Clauses() []string {
	out := make([]string, len(c.clauses))
	for i, cl := range c.clauses {
		out[i] = cl.text
	}
	return out
}

// Evaluate runs the condition. See EvaluateContext.
func (c *Condition) Evaluate(assertion map[string]any, attrs *Attributes) (ConditionResult, error) {
	return c.EvaluateContext(context.Background(), assertion, attrs)
}

// EvaluateContext runs the condition over the credential's claims and the
// mapped attributes. Allowed is true only when the condition evaluated to
// true; any error (cost, runtime error, cancellation) returns Allowed false
// and an *EvalError. On a denial the clauses are evaluated one by one to
// name the failing one; that costs up to one more CostLimit.
func (c *Condition) EvaluateContext(ctx context.Context, assertion map[string]any, attrs *Attributes) (ConditionResult, error) {
	vars := &activation{assertion: wrapAssertion(c.env, assertion), attrs: attrs}
	out, _, err := eval(ctx, c.prg, vars)
	if err == nil && out == types.True {
		res := ConditionResult{Allowed: true, Clauses: make([]ClauseTrace, len(c.clauses))}
		for i, cl := range c.clauses {
			res.Clauses[i] = ClauseTrace{Expression: cl.text, Value: "true"}
		}
		return res, nil
	}
	if err == nil && out != types.False {
		err = fmt.Errorf("%w: the condition produced %s, want bool", ErrEvaluation, typeName(out))
	}
	var res ConditionResult
	if len(c.clauses) == 1 {
		res.Clauses = []ClauseTrace{{Expression: c.clauses[0].text, Value: clauseValue(out, err)}}
	} else {
		res.Clauses = c.traceClauses(ctx, vars, errors.Is(err, ErrCostLimit))
	}
	res.FailedClause = failedClause(res.Clauses)
	if res.FailedClause == "" {
		res.FailedClause = strings.TrimSpace(c.expr)
	}
	if err != nil {
		return res, &EvalError{Expression: c.expr, Err: err}
	}
	return res, nil
}

func (c *Condition) traceClauses(ctx context.Context, vars *activation, skip bool) []ClauseTrace {
	traces := make([]ClauseTrace, len(c.clauses))
	var spent uint64
	for i, cl := range c.clauses {
		traces[i].Expression = cl.text
		switch {
		case skip:
			traces[i].Value = "not evaluated: the condition exceeded its cost limit"
			continue
		case spent > c.costLimit:
			traces[i].Value = "not evaluated: the cost budget is spent"
			continue
		}
		out, cost, err := eval(ctx, cl.prg, vars)
		spent += cost
		traces[i].Value = clauseValue(out, err)
	}
	return traces
}

func clauseValue(out ref.Val, err error) string {
	switch {
	case err != nil:
		return "error: " + strings.TrimPrefix(err.Error(), ErrEvaluation.Error()+": ")
	case out == types.True:
		return "true"
	case out == types.False:
		return "false"
	default:
		return "error: produced " + typeName(out) + ", want bool"
	}
}

func failedClause(traces []ClauseTrace) string {
	for _, t := range traces {
		if t.Value == "false" {
			return t.Expression
		}
	}
	for _, t := range traces {
		if strings.HasPrefix(t.Value, "error: ") {
			return t.Expression
		}
	}
	return ""
}

// CheckMapping reports references in the condition that the mapping cannot
// satisfy (google.groups or attribute.NAME it does not map): they would
// always fail, so every credential would be denied. References inside has()
// are allowed.
func (c *Condition) CheckMapping(m *Mapping) []*CompileError {
	mapped := map[string]bool{}
	var names []string
	for _, e := range m.entries {
		mapped[e.key] = true
		if e.kind == kindCustom {
			names = append(names, e.key)
		}
	}
	var errs []*CompileError
	seen := map[string]bool{}
	for _, r := range c.refs {
		key := r.variable + "." + r.field
		if r.testOnly || seen[key] || key == varGoogle+".subject" || mapped[key] {
			continue
		}
		seen[key] = true
		msg := fmt.Sprintf("'%s' is not in the attribute mapping, so the condition always fails", key)
		if r.variable == varAttribute {
			msg = fmt.Sprintf("'%s' is not in the attribute mapping%s, so the condition always fails", key, didYouMean(key, names))
		}
		errs = append(errs, &CompileError{Message: msg})
	}
	slices.SortFunc(errs, func(a, b *CompileError) int { return strings.Compare(a.Message, b.Message) })
	return errs
}
