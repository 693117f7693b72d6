package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalid matches (errors.Is) every Problems value: the config was read but is not usable.
var ErrInvalid = errors.New("config: invalid configuration")

// Problem is one thing wrong with a config, addressed by its field path
// (google.projects[0].workloadIdentityPools[1].providers[0].attributeCondition) and, when the
// config came from a file, by the line and column where that field is written.
type Problem struct {
	// File is the config file's name; empty for configs that did not come from a file.
	File string
	// Path is the field path in the config's JSON field names; "" for the whole document.
	Path string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Message says what was found, what is expected and, where useful, how to fix it.
	Message string
}

// String renders "FILE:LINE:COLUMN: PATH: MESSAGE", leaving out the parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
	}
	if p.Line > 0 {
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteByte(':')
		if p.Column > 0 {
			b.WriteString(strconv.Itoa(p.Column))
			b.WriteByte(':')
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one config. As an error it lists them one per line.
type Problems []Problem

// Error lists every problem, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is reports whether target is ErrInvalid.
func (ps Problems) Is(target error) bool { return target == ErrInvalid }

// sortProblems orders problems by line, then by path (indexes compared as numbers), then by
// message. Problems with no line come after those with one.
func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Line != b.Line {
			switch {
			case a.Line == 0:
				return 1
			case b.Line == 0:
				return -1
			}
			return a.Line - b.Line
		}
		if c := comparePaths(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		return strings.Compare(a.Message, b.Message)
	})
}

// comparePaths compares two field paths so that projects[2] sorts before projects[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

const (
	// maxProblems bounds the problems one document can produce; past it, the report ends
	// with a note instead of growing with hostile input.
	maxProblems = 1000
	// maxShown bounds how much of a configured value a message repeats.
	maxShown = 128
)

// newProblem formats a message, shortening long string arguments (the path already says
// where the value is).
func newProblem(path, format string, args ...any) Problem {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = shown(s)
		}
	}
	return Problem{Path: path, Message: fmt.Sprintf(format, args...)}
}

// shown shortens a configured value for repeating in a message.
func shown(s string) string {
	if utf8.RuneCountInString(s) <= maxShown {
		return s
	}
	return string([]rune(s)[:maxShown]) + "…"
}

// finish sorts problems and, past maxProblems, keeps the first ones and ends with a note.
func finish(ps Problems) Problems {
	sortProblems(ps)
	if len(ps) > maxProblems {
		ps = append(ps[:maxProblems:maxProblems], Problem{File: ps[0].File,
			Message: fmt.Sprintf("more than %d problems; fix these and run again to see the rest", maxProblems)})
	}
	return ps
}

// Field path construction. Paths use the JSON field names; map keys are quoted.

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func joinIndex(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func joinKey(parent, key string) string {
	return parent + "[" + strconv.Quote(key) + "]"
}

// parentPath removes the last segment of a path; ok is false for the root.
func parentPath(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	if strings.HasSuffix(p, `"]`) {
		// A quoted map key: find the `["` whose quoted string runs to the end.
		for i := strings.LastIndex(p, `["`); i >= 0; i = strings.LastIndex(p[:i], `["`) {
			if q, err := strconv.QuotedPrefix(p[i+1:]); err == nil && i+1+len(q)+1 == len(p) {
				return p[:i], true
			}
		}
	}
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i], true
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i], true
	}
	return "", true
}
