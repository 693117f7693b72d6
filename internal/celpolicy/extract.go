package celpolicy

import (
	"errors"
	"fmt"
	"strings"
)

// extractTemplate is a parsed extract() template: literal prefix, one {name}
// placeholder, literal suffix.
type extractTemplate struct {
	prefix, name, suffix string
}

var (
	errTemplateNoPlaceholder = errors.New("has no {name} placeholder")
	errTemplateMany          = errors.New("has more than one placeholder")
	errTemplateUnbalanced    = errors.New("has unbalanced braces")
	errTemplateName          = errors.New("placeholder name must be 1 or more letters, digits or '_'")
)

// parseExtractTemplate parses Google's extract() template syntax: exactly one
// "{name}" placeholder, with optional literal text before and after it and no
// other brace anywhere.
func parseExtractTemplate(t string) (extractTemplate, error) {
	open := strings.IndexByte(t, '{')
	closing := strings.IndexByte(t, '}')
	switch {
	case open < 0 && closing < 0:
		return extractTemplate{}, errTemplateNoPlaceholder
	case open < 0 || closing < 0 || closing < open:
		return extractTemplate{}, errTemplateUnbalanced
	}
	name := t[open+1 : closing]
	if strings.IndexByte(name, '{') >= 0 {
		return extractTemplate{}, errTemplateUnbalanced
	}
	rest := t[closing+1:]
	if strings.ContainsAny(rest, "{}") {
		if strings.IndexByte(rest, '{') >= 0 && strings.IndexByte(rest, '}') > strings.IndexByte(rest, '{') {
			return extractTemplate{}, errTemplateMany
		}
		return extractTemplate{}, errTemplateUnbalanced
	}
	if !validPlaceholderName(name) {
		return extractTemplate{}, errTemplateName
	}
	return extractTemplate{prefix: t[:open], name: name, suffix: rest}, nil
}

func validPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// apply returns the text of s between the first occurrence of the prefix and
// the next occurrence of the suffix after it (the rest of s when the suffix is
// empty), or "" when s does not match the template.
func (t extractTemplate) apply(s string) string {
	i := strings.Index(s, t.prefix)
	if i < 0 {
		return ""
	}
	rest := s[i+len(t.prefix):]
	if t.suffix == "" {
		return rest
	}
	j := strings.Index(rest, t.suffix)
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// extract is the Go form of CEL's string.extract(template).
func extract(s, template string) (string, error) {
	t, err := parseExtractTemplate(template)
	if err != nil {
		return "", fmt.Errorf("extract(): template %q %w", template, err)
	}
	return t.apply(s), nil
}
