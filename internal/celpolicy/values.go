package celpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"
)

// wrapAssertion adapts the claims once per evaluation.
func wrapAssertion(env *cel.Env, assertion map[string]any) ref.Val {
	return env.CELTypeAdapter().NativeToValue(assertion)
}

// activation resolves assertion, google and attribute; google and attribute are
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
		return sortedMap{Mapper: types.NewStringInterfaceMap(a, v), native: v, adapter: a}
	case []any:
		return types.NewList(a, v)
	case []string:
		return types.NewStringList(a, v)
	}
	return a.base.NativeToValue(v)
}

// sortedMap iterates a claims object in key order, so that comprehensions
// over it (assertion.map(k, ...), format) are deterministic.
type sortedMap struct {
	traits.Mapper
	native  map[string]any
	adapter types.Adapter
}

func (m sortedMap) Iterator() traits.Iterator {
	keys := slices.Sorted(maps.Keys(m.native))
	return types.NewStringList(m.adapter, keys).Iterator()
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
