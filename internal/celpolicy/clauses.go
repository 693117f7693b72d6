package celpolicy

import (
	"strings"
)

// splitConjunction splits a condition's source text into its top-level "&&"
// operands, verbatim (trimmed; parentheses around the whole expression are
// dropped). An expression that is not a conjunction at top level (one with a
// top-level "||" or "?:") is a single clause. The caller checks the split
// against the parsed AST, so a lexing mistake here can only lose detail, not
// change a decision.
func splitConjunction(src string) []string {
	s := strings.TrimSpace(src)
	for {
		inner, ok := unwrapParens(s)
		if !ok {
			break
		}
		s = inner
	}
	var parts []string
	start, depth := 0, 0
	l := lexer{src: s}
	for {
		tok, pos, ok := l.next()
		if !ok {
			return []string{s}
		}
		switch tok {
		case tokEOF:
			parts = append(parts, strings.TrimSpace(s[start:]))
			for _, p := range parts {
				if p == "" {
					return []string{s}
				}
			}
			return parts
		case tokOpen:
			depth++
		case tokClose:
			depth--
		case tokAnd:
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:pos]))
				start = pos + 2
			}
		case tokOr, tokQuestion:
			if depth == 0 {
				return []string{s}
			}
		}
	}
}

// unwrapParens returns s without one pair of parentheses that encloses all of
// it.
func unwrapParens(s string) (string, bool) {
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return "", false
	}
	l := lexer{src: s}
	depth := 0
	for {
		tok, pos, ok := l.next()
		if !ok || tok == tokEOF {
			return "", false
		}
		switch tok {
		case tokOpen:
			depth++
		case tokClose:
			depth--
			if depth == 0 {
				if pos != len(s)-1 {
					return "", false
				}
				return strings.TrimSpace(s[1:pos]), true
			}
		}
	}
}

type token int

const (
	tokOther token = iota
	tokOpen
	tokClose
	tokAnd
	tokOr
	tokQuestion
	tokEOF
)

// lexer finds the structural tokens of CEL source: brackets, &&, ||, ?,
// skipping string and bytes literals (quoted, triple-quoted, raw) and
// comments.
type lexer struct {
	src string
	i   int
}

// next returns the next structural token and its offset; ok is false on an
// unterminated literal.
func (l *lexer) next() (token, int, bool) {
	s := l.src
	for l.i < len(s) {
		i := l.i
		c := s[i]
		switch {
		case c == '(' || c == '[' || c == '{':
			l.i++
			return tokOpen, i, true
		case c == ')' || c == ']' || c == '}':
			l.i++
			return tokClose, i, true
		case c == '&' && strings.HasPrefix(s[i:], "&&"):
			l.i += 2
			return tokAnd, i, true
		case c == '|' && strings.HasPrefix(s[i:], "||"):
			l.i += 2
			return tokOr, i, true
		case c == '?':
			l.i++
			return tokQuestion, i, true
		case c == '/' && strings.HasPrefix(s[i:], "//"):
			if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
				l.i = i + nl + 1
			} else {
				l.i = len(s)
			}
		case c == '\'' || c == '"' || c == '`':
			end, ok := skipQuoted(s, i, l.rawPrefix(i))
			if !ok {
				return tokOther, i, false
			}
			l.i = end
		default:
			l.i++
		}
	}
	return tokEOF, len(s), true
}

// rawPrefix reports whether the quote at i is preceded by a string prefix
// containing r or R (r, R, rb, br, ...), which disables escapes.
func (l *lexer) rawPrefix(i int) bool {
	j := i
	for j > 0 && i-j < 2 && strings.IndexByte("rRbB", l.src[j-1]) >= 0 {
		j--
	}
	if j == i || j > 0 && isIdentChar(l.src[j-1]) {
		return false
	}
	return strings.ContainsAny(l.src[j:i], "rR")
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipQuoted returns the offset just past the literal starting at i.
func skipQuoted(s string, i int, raw bool) (int, bool) {
	q := s[i]
	if q == '`' {
		end := strings.IndexByte(s[i+1:], '`')
		return i + 1 + end + 1, end >= 0
	}
	delim := s[i : i+1]
	if strings.HasPrefix(s[i:], strings.Repeat(delim, 3)) {
		delim = s[i : i+3]
	}
	for j := i + len(delim); j < len(s); j++ {
		switch {
		case s[j] == '\\' && !raw:
			j++
		case strings.HasPrefix(s[j:], delim):
			return j + len(delim), true
		case s[j] == '\n' && len(delim) == 1:
			return 0, false
		}
	}
	return 0, false
}
