package celpolicy

import (
	"fmt"
	"strings"

	"github.com/keylessdev/keyless/internal/spelling"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

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
		d := spelling.Distance(strings.ToLower(got), c)
		if limit := max(1, len(c)/3); d <= limit && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean '%s'?)", best)
}
