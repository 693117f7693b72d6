package iam

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
)

// Limits on IAM conditions (keyless's own; they match the attribute
// condition limit of SPEC §5.1 for the expression).
const (
	MaxConditionExpressionLen  = 4096 // characters
	MaxConditionTitleLen       = 100  // characters
	MaxConditionDescriptionLen = 256  // characters
	conditionCostLimit         = 10_000
)

// requestTimeVar is the only attribute IAM conditions may reference in
// keyless: the time of the request, as a CEL timestamp.
const requestTimeVar = "request.time"

// isConditionRoot reports the attribute roots of Google IAM conditions;
// referencing any of them other than request.time is reported by name.
func isConditionRoot(name string) bool {
	switch name {
	case "request", "resource", "api", "destination", "origin":
		return true
	}
	return false
}

// condition is one compiled IAM condition. cel.Program is safe for
// concurrent use.
type condition struct {
	prg cel.Program
}

func newConditionEnv() (*cel.Env, error) {
	return cel.NewEnv(cel.Variable(requestTimeVar, cel.TimestampType))
}

// compileCondition checks the Expr's fields and compiles its expression.
// Each problem is returned with its field name relative to the condition.
func compileCondition(env *cel.Env, e *Expr) (*condition, []*PolicyError) {
	var errs []*PolicyError
	add := func(field string, err error) { errs = append(errs, &PolicyError{Path: field, Err: err}) }
	if n := utf8.RuneCountInString(e.Title); e.Title == "" {
		add("title", errorf(ErrInvalidCondition, "required"))
	} else if n > MaxConditionTitleLen {
		add("title", errorf(ErrInvalidCondition, "%d characters, the limit is %d", n, MaxConditionTitleLen))
	}
	if n := utf8.RuneCountInString(e.Description); n > MaxConditionDescriptionLen {
		add("description", errorf(ErrInvalidCondition, "%d characters, the limit is %d", n, MaxConditionDescriptionLen))
	}
	switch n := utf8.RuneCountInString(e.Expression); {
	case strings.TrimSpace(e.Expression) == "":
		add("expression", errorf(ErrInvalidCondition, "required"))
		return nil, errs
	case n > MaxConditionExpressionLen:
		add("expression", errorf(ErrInvalidCondition, "%d characters, the limit is %d", n, MaxConditionExpressionLen))
		return nil, errs
	}
	c, err := compileExpression(env, e.Expression)
	if err != nil {
		add("expression", err)
		return nil, errs
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func compileExpression(env *cel.Env, src string) (*condition, error) {
	parsed, iss := env.Parse(src)
	if iss.Err() != nil {
		return nil, errorf(ErrInvalidCondition, "%s", iss.Err())
	}
	if err := checkAttributes(parsed); err != nil {
		return nil, err
	}
	checked, iss := env.Check(parsed)
	if iss.Err() != nil {
		return nil, errorf(ErrInvalidCondition, "%s", iss.Err())
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		return nil, errorf(ErrInvalidCondition, "the expression must evaluate to bool, not %s", checked.OutputType())
	}
	// Refuse at compile time what could exceed the run-time cost limit;
	// request.time is the only input, so the static bound is tight.
	est, err := env.EstimateCost(checked, noSizeHints{})
	if err != nil {
		return nil, errorf(ErrInvalidCondition, "cost estimate: %s", err)
	}
	if est.Max > conditionCostLimit {
		return nil, errorf(ErrInvalidCondition, "the expression may cost up to %d, the limit is %d", est.Max, conditionCostLimit)
	}
	prg, err := env.Program(checked, cel.CostLimit(conditionCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, errorf(ErrInvalidCondition, "%s", err)
	}
	// Test-evaluate once to reject expressions that fail whatever the time
	// (unknown time zone, malformed timestamp literal).
	c := &condition{prg: prg}
	if _, err := c.eval(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return nil, errorf(ErrInvalidCondition, "evaluation fails: %s", err)
	}
	return c, nil
}

// checkAttributes names the first Google IAM condition attribute other than
// request.time, so the error says "resource.name" rather than CEL's
// "undeclared reference to 'resource'".
func checkAttributes(a *cel.Ast) error {
	for _, id := range ast.MatchDescendants(ast.NavigateAST(a.NativeRep()), ast.KindMatcher(ast.IdentKind)) {
		name := id.AsIdent()
		if !isConditionRoot(name) {
			continue
		}
		path := name
		if parent, ok := id.Parent(); ok {
			switch parent.Kind() {
			case ast.SelectKind:
				path += "." + parent.AsSelect().FieldName()
			case ast.CallKind:
				if call := parent.AsCall(); call.IsMemberFunction() && call.Target().ID() == id.ID() {
					path += "." + call.FunctionName() + "()"
				}
			}
		}
		if path != requestTimeVar {
			return errorf(ErrInvalidCondition, "unsupported attribute %q: keyless IAM conditions support %s only", path, requestTimeVar)
		}
	}
	return nil
}

// eval evaluates the condition at now. An error means the binding does not apply.
func (c *condition) eval(now time.Time) (bool, error) {
	out, _, err := c.prg.Eval(timeActivation{now: now})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition evaluated to %s, not bool", out.Type())
	}
	return b, nil
}

// noSizeHints leaves every size and call cost to CEL's defaults.
type noSizeHints struct{}

func (noSizeHints) EstimateSize(cost.AstNode) *cost.SizeEstimate { return nil }
func (noSizeHints) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

// timeActivation binds request.time without allocating a map per evaluation.
type timeActivation struct{ now time.Time }

func (a timeActivation) ResolveName(name string) (any, bool) {
	if name == requestTimeVar {
		return types.Timestamp{Time: a.now}, true
	}
	return nil, false
}

func (timeActivation) Parent() interpreter.Activation { return nil }
