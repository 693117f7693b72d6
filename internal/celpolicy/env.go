package celpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// Limits (Google's, see doc.go).
const (
	DefaultCostLimit           = 100_000
	MaxMappingExpressionLength = 2048 // characters
	MaxConditionLength         = 4096 // characters
	MaxCustomAttributes        = 50
	MaxAttributeNameLength     = 100
	MaxSubjectBytes            = 127
	MaxAttributesBytes         = 8 * 1024

	interruptCheckFrequency = 100
	extractOverloadID       = "string_extract_string"
)

// Options configures compilation.
type Options struct {
	// CostLimit bounds the CEL runtime cost of one evaluation: of each
	// expression, and of a whole mapping or condition (the running total is
	// checked between expressions). 0 means DefaultCostLimit.
	CostLimit uint64
}

func (o Options) costLimit() uint64 {
	if o.CostLimit == 0 {
		return DefaultCostLimit
	}
	return o.CostLimit
}

const (
	varAssertion = "assertion"
	varGoogle    = "google"
	varAttribute = "attribute"
)

// newEnv builds the CEL environment: standard library, ext.Strings,
// ext.Encoders and extract(); variables assertion (mappings), plus google and
// attribute (condition). Nothing in it reads the clock or other ambient state.
func newEnv(condition bool) (*cel.Env, error) {
	dynMap := cel.MapType(cel.StringType, cel.DynType)
	opts := []cel.EnvOption{
		cel.Variable(varAssertion, dynMap),
		ext.Strings(),
		ext.Encoders(),
		cel.Function("extract",
			cel.MemberOverload(extractOverloadID, []*cel.Type{cel.StringType, cel.StringType}, cel.StringType,
				cel.BinaryBinding(extractBinding))),
		cel.ASTValidators(cel.ValidateRegexLiterals(), extractValidator{}),
	}
	if condition {
		opts = append(opts,
			cel.Variable(varGoogle, dynMap),
			cel.Variable(varAttribute, dynMap),
			cel.ASTValidators(referenceValidator{}))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, err
	}
	return env.Extend(cel.CustomTypeAdapter(claimAdapter{base: env.CELTypeAdapter()}))
}

// wrapAssertion adapts the claims once per evaluation.
func wrapAssertion(env *cel.Env, assertion map[string]any) ref.Val {
	return env.CELTypeAdapter().NativeToValue(assertion)
}

// activation resolves the condition's variables; google and attribute are
// built only when an expression reads them.
type activation struct {
	assertion         ref.Val
	attrs             *Attributes
	google, attribute map[string]any
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varAssertion:
		return a.assertion, true
	case varGoogle:
		if a.google == nil {
			a.google = googleValue(a.attrs)
		}
		return a.google, true
	case varAttribute:
		if a.attribute == nil {
			a.attribute = attributeValue(a.attrs)
		}
		return a.attribute, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// googleValue has subject (always) and groups (when mapped).
func googleValue(attrs *Attributes) map[string]any {
	g := make(map[string]any, 2)
	if attrs != nil {
		g["subject"] = attrs.Subject
		if attrs.Groups != nil {
			g["groups"] = attrs.Groups
		}
	}
	return g
}

// attributeValue maps NAME to a string, or to a list for list-valued
// attributes.
func attributeValue(attrs *Attributes) map[string]any {
	if attrs == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(attrs.Custom))
	for name, values := range attrs.Custom {
		if attrs.ListValued[name] || len(values) != 1 {
			out[name] = values
		} else {
			out[name] = values[0]
		}
	}
	return out
}

func programOptions(limit uint64) []cel.ProgramOption {
	return []cel.ProgramOption{
		cel.EvalOptions(cel.OptOptimize),
		cel.CostLimit(limit),
		cel.InterruptCheckFrequency(interruptCheckFrequency),
		cel.CostTrackerOptions(cost.OverloadTracker(extractOverloadID, extractCost)),
	}
}

// extractCost charges extract() like the other linear string functions.
func extractCost(args []ref.Val, _ ref.Val) *uint64 {
	var n uint64 = 1
	for _, a := range args {
		if s, ok := a.(types.String); ok {
			n += uint64(len(s)) / 10
		}
	}
	return &n
}

func extractBinding(recv, tmpl ref.Val) ref.Val {
	s, ok1 := recv.(types.String)
	t, ok2 := tmpl.(types.String)
	if !ok1 || !ok2 {
		return types.NoSuchOverloadErr()
	}
	out, err := extract(string(s), string(t))
	if err != nil {
		return types.NewErrFromString(err.Error())
	}
	return types.String(out)
}

// extractValidator rejects invalid literal extract() templates at compile time.
type extractValidator struct{}

func (extractValidator) Name() string { return "keyless.celpolicy.extract" }

func (extractValidator) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	for _, call := range ast.MatchDescendants(ast.NavigateAST(a), ast.FunctionMatcher("extract")) {
		args := call.AsCall().Args()
		if len(args) != 1 || args[0].Kind() != ast.LiteralKind {
			continue
		}
		lit, ok := args[0].AsLiteral().(types.String)
		if !ok {
			continue
		}
		if _, err := parseExtractTemplate(string(lit)); err != nil {
			iss.ReportErrorAtID(args[0].ID(), "invalid extract() template %q: it %v", string(lit), err)
		}
	}
}

// referenceValidator checks google.X and attribute.X references in a
// condition: google has only subject and groups; attribute names follow the
// mapping key rules.
type referenceValidator struct{}

func (referenceValidator) Name() string { return "keyless.celpolicy.references" }

func (referenceValidator) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	for _, r := range conditionReferences(a) {
		switch r.variable {
		case varGoogle:
			if r.field != "subject" && r.field != "groups" {
				iss.ReportErrorAtID(r.id, "unknown attribute 'google.%s'%s; workload identity pools have google.subject and google.groups",
					r.field, didYouMean(varGoogle+"."+r.field, []string{keySubject, keyGroups}))
			}
		case varAttribute:
			if msg := attributeNameProblem(r.field); msg != "" {
				iss.ReportErrorAtID(r.id, "%s", msg)
			}
		}
	}
}

type reference struct {
	id       int64
	variable string // google or attribute
	field    string
	testOnly bool // inside has()
}

// conditionReferences lists google.F / attribute.F selections and
// google['F'] / attribute['F'] index expressions with literal keys.
func conditionReferences(a *ast.AST) []reference {
	var out []reference
	isVar := func(e ast.Expr) (string, bool) {
		if e.Kind() != ast.IdentKind {
			return "", false
		}
		name := e.AsIdent()
		return name, name == varGoogle || name == varAttribute
	}
	root := ast.NavigateAST(a)
	for _, e := range ast.MatchDescendants(root, func(e ast.NavigableExpr) bool {
		return e.Kind() == ast.SelectKind || e.Kind() == ast.CallKind && e.AsCall().FunctionName() == operators.Index
	}) {
		if e.Kind() == ast.SelectKind {
			sel := e.AsSelect()
			if v, ok := isVar(sel.Operand()); ok {
				out = append(out, reference{id: e.ID(), variable: v, field: sel.FieldName(), testOnly: sel.IsTestOnly()})
			}
			continue
		}
		args := e.AsCall().Args()
		if len(args) != 2 || args[1].Kind() != ast.LiteralKind {
			continue
		}
		key, ok := args[1].AsLiteral().(types.String)
		if v, isV := isVar(args[0]); isV && ok {
			out = append(out, reference{id: e.ID(), variable: v, field: string(key)})
		}
	}
	return out
}

// claimAdapter converts claim values (encoding/json output, decoded with or
// without UseNumber) lazily as expressions read them: json.Number becomes int
// when it is an integer that fits int64, uint when it fits uint64, else double;
// numbers outside the double range are errors.
type claimAdapter struct{ base types.Adapter }

func (a claimAdapter) NativeToValue(v any) ref.Val {
	switch v := v.(type) {
	case nil:
		return types.NullValue
	case ref.Val:
		return v
	case string:
		return types.String(v)
	case bool:
		return types.Bool(v)
	case json.Number:
		return numberValue(v)
	case float64:
		return types.Double(v)
	case int64:
		return types.Int(v)
	case int:
		return types.Int(v)
	case map[string]any:
		return types.NewStringInterfaceMap(a, v)
	case []any:
		return types.NewList(a, v)
	case []string:
		return types.NewStringList(a, v)
	}
	return a.base.NativeToValue(v)
}

func numberValue(n json.Number) ref.Val {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return types.Int(i)
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return types.Uint(u)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return types.NewErr("claim number %.40q is out of range", s)
	}
	return types.Double(f)
}

// eval runs one program; cost is its actual cost (0 when unknown).
func eval(ctx context.Context, prg cel.Program, vars any) (ref.Val, uint64, error) {
	var (
		out ref.Val
		det *cel.EvalDetails
		err error
	)
	if ctx.Done() == nil {
		out, det, err = prg.Eval(vars) // cannot be cancelled: skip the interrupt machinery
	} else {
		out, det, err = prg.ContextEval(ctx, vars)
	}
	var spent uint64
	if det != nil && det.ActualCost() != nil {
		spent = *det.ActualCost()
	}
	if err != nil {
		return nil, spent, classifyEvalError(err)
	}
	return out, spent, nil
}

func classifyEvalError(err error) error {
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return fmt.Errorf("%w: %w", ErrEvaluation, ErrCostLimit)
	}
	return fmt.Errorf("%w: %v", ErrEvaluation, err)
}

// attributeNameProblem returns why NAME is not a valid custom attribute name,
// or "".
func attributeNameProblem(name string) string {
	if name == "" || len(name) > MaxAttributeNameLength {
		return fmt.Sprintf("attribute name %q must be 1 to %d characters", name, MaxAttributeNameLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			if lower := strings.ToLower(name); lower != name && attributeNameProblem(lower) == "" {
				return fmt.Sprintf("attribute name %q must be lowercase (did you mean %q?)", name, lower)
			}
			return fmt.Sprintf("attribute name %q may only contain a-z, 0-9 and '_'", name)
		}
	}
	return ""
}

// didYouMean suggests the closest candidate within a small edit distance.
func didYouMean(got string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(got), c)
		if limit := max(1, len(c)/3); d <= limit && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean '%s'?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
