package celpolicy

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
)

// Limits. All but DefaultCostLimit are Google's (see doc.go).
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
