package celpolicy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/operators"
)

// Sentinel errors for evaluation failures. Every one of them denies.
var (
	// ErrEvaluation: an expression failed (missing claim, no such overload,
	// wrong result type, cancelled, cost limit).
	ErrEvaluation = errors.New("celpolicy: evaluation failed")
	// ErrCostLimit: an evaluation exceeded Options.CostLimit. Always wrapped
	// together with ErrEvaluation.
	ErrCostLimit = errors.New("celpolicy: cost limit exceeded")
	// ErrSubjectEmpty: google.subject mapped to "".
	ErrSubjectEmpty = errors.New("celpolicy: google.subject is empty")
	// ErrSubjectTooLong: google.subject is over MaxSubjectBytes bytes.
	ErrSubjectTooLong = errors.New("celpolicy: google.subject is too long")
	// ErrAttributesTooLarge: all mapped values together exceed MaxAttributesBytes.
	ErrAttributesTooLarge = errors.New("celpolicy: mapped attributes are too large")
)

// EvalError reports a failed mapping or condition evaluation. Its Error text
// is internal detail (it may quote claim values) for audit and explain; Public
// is safe to return to an unauthenticated caller.
type EvalError struct {
	Key        string // mapping key; "" for the condition or for whole-mapping checks
	Expression string // the failing expression, when there is one
	Err        error  // wraps one of the sentinels above
}

func (e *EvalError) Error() string {
	return where(e.Key, e.Expression == "" && e.Key == "") + ": " + e.Err.Error()
}

func (e *EvalError) Unwrap() error { return e.Err }

// Public returns a short message without claim values.
func (e *EvalError) Public() string {
	switch {
	case errors.Is(e.Err, ErrSubjectEmpty):
		return "the mapped google.subject is empty"
	case errors.Is(e.Err, ErrSubjectTooLong):
		return fmt.Sprintf("the mapped google.subject is longer than %d bytes", MaxSubjectBytes)
	case errors.Is(e.Err, ErrAttributesTooLarge):
		return fmt.Sprintf("the mapped attributes exceed %d bytes", MaxAttributesBytes)
	case e.Key == "" && e.Expression != "":
		return "the attribute condition could not be evaluated"
	default:
		return "the attribute mapping could not be evaluated"
	}
}

func where(key string, mapping bool) string {
	switch {
	case key != "":
		return fmt.Sprintf("attributeMapping[%q]", key)
	case mapping:
		return "attributeMapping"
	default:
		return "attributeCondition"
	}
}

// CompileError is a configuration error in one mapping expression or in the
// condition. Message is short and meant for operators.
type CompileError struct {
	Key     string // mapping key, or "" for the condition
	Message string
	// Line and Column locate the first problem in the expression (1-based);
	// zero when the problem is not at a position (key name, length, type).
	Line, Column int
}

func (e *CompileError) Error() string {
	pos := ""
	switch {
	case e.Line > 1:
		pos = fmt.Sprintf("line %d, column %d: ", e.Line, e.Column)
	case e.Column > 0:
		pos = fmt.Sprintf("column %d: ", e.Column)
	}
	return where(e.Key, false) + ": " + pos + e.Message
}

var (
	expectingSet   = regexp.MustCompile(` expecting (\{[^}]*\}|'[^']*'|<?[A-Za-z_]+>?)`)
	quotedOverload = regexp.MustCompile(`'(_\[_\]|_[^' ]*_|[!-]_|@in)'`)
)

// compileErrorFromIssues turns cel-go issues into one operator-friendly error.
func compileErrorFromIssues(key string, iss *cel.Issues) *CompileError {
	errs := iss.Errors()
	if len(errs) == 0 {
		return &CompileError{Key: key, Message: friendlyMessage(iss.String())}
	}
	msgs := make([]string, 0, len(errs))
	seen := map[string]bool{}
	for _, e := range errs {
		m := friendlyMessage(e.Message)
		if !seen[m] {
			seen[m] = true
			msgs = append(msgs, m)
		}
	}
	const maxShown = 3
	if len(msgs) > maxShown {
		msgs = append(msgs[:maxShown], fmt.Sprintf("and %d more", len(msgs)-maxShown))
	}
	ce := &CompileError{Key: key, Message: strings.Join(msgs, "; ")}
	if loc := errs[0].Location; loc != nil && loc.Line() > 0 {
		ce.Line, ce.Column = loc.Line(), loc.Column()+1
	}
	return ce
}

// friendlyMessage shortens cel-go's parser and checker messages.
func friendlyMessage(m string) string {
	m = strings.TrimSpace(m)
	m = strings.Replace(m, " (in container '')", "", 1)
	if rest, ok := strings.CutPrefix(m, "Syntax error: "); ok {
		rest = expectingSet.ReplaceAllString(rest, "")
		switch {
		case strings.Contains(rest, "'<EOF>'"):
			rest = "unexpected end of expression"
		case strings.HasPrefix(rest, "mismatched input "), strings.HasPrefix(rest, "extraneous input "):
			rest = "unexpected " + rest[strings.IndexByte(rest, ' ')+len(" input "):]
		case strings.HasPrefix(rest, "token recognition error at: "):
			rest = "unrecognized text " + strings.TrimPrefix(rest, "token recognition error at: ")
		case strings.HasPrefix(rest, "no viable alternative at input "):
			rest = "cannot parse " + strings.TrimPrefix(rest, "no viable alternative at input ")
		}
		return "syntax error: " + rest
	}
	return quotedOverload.ReplaceAllStringFunc(m, func(q string) string {
		switch fn := strings.Trim(q, "'"); fn {
		case operators.Index:
			return "'[]'"
		case operators.Conditional:
			return "'?:'"
		default:
			if d, ok := operators.FindReverse(fn); ok && d != "" {
				return "'" + d + "'"
			}
			return q
		}
	})
}
