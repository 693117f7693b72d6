package awspolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxPolicyBytes bounds a policy document. AWS limits trust policies to 2048
// characters by default (quota up to 4096), counted without whitespace; we
// accept pretty-printed documents well beyond that but still bound the work a
// single policy can cause.
const MaxPolicyBytes = 32 << 10

// Effect is a statement's effect.
type Effect string

// Effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed trust policy. It is immutable and safe for concurrent use.
type Policy struct {
	version    string
	id         string
	statements []statement
}

type statement struct {
	sid        string
	effect     Effect
	anyone     bool // Principal "*" or {"AWS": "*"}
	federated  []string
	aws        []string
	service    []string
	actions    []string // lower-cased patterns
	notAction  bool
	conditions []condition
}

// Parse parses and validates an IAM role trust policy document. It is strict:
// unknown or duplicate members, unknown operators, policy variables,
// NotPrincipal and Resource are errors (*ParseError, wrapping
// ErrInvalidPolicy).
func Parse(doc []byte) (*Policy, error) {
	if len(doc) > MaxPolicyBytes {
		return nil, perr("", fmt.Sprintf("policy is %d bytes, the limit is %d", len(doc), MaxPolicyBytes))
	}
	if !utf8.Valid(doc) {
		return nil, perr("", "policy is not valid UTF-8")
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, perr("", "policy is empty")
	}
	members, err := objectMembers(doc, "")
	if err != nil {
		return nil, err
	}
	p := &Policy{}
	var haveStatement bool
	for _, m := range members {
		switch m.name {
		case "Version":
			v, err := plainString(m.value, "Version")
			if err != nil {
				return nil, err
			}
			if v != "2012-10-17" && v != "2008-10-17" {
				return nil, perr("Version", fmt.Sprintf("%q is not a policy language version; use \"2012-10-17\"", v))
			}
			p.version = v
		case "Id":
			if p.id, err = plainString(m.value, "Id"); err != nil {
				return nil, err
			}
		case "Statement":
			haveStatement = true
			if err := p.parseStatements(m.value); err != nil {
				return nil, err
			}
		default:
			return nil, perr(m.name, "unknown member (expected Version, Id, Statement)")
		}
	}
	if p.version == "" {
		return nil, perr("Version", `is required; use "2012-10-17"`)
	}
	if !haveStatement {
		return nil, perr("Statement", "is required")
	}
	return p, nil
}

func plainString(raw []byte, path string) (string, error) {
	raw = bytes.TrimSpace(raw)
	var v string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		return "", perr(path, "must be a string, found "+describe(raw))
	}
	return v, nil
}

func (p *Policy) parseStatements(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		s, err := parseStatement(raw, "Statement")
		if err != nil {
			return err
		}
		p.statements = []statement{s}
		return nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		return perr("Statement", "must be an object or an array of objects, found "+describe(raw))
	}
	items, err := arrayItems(raw, "Statement")
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return perr("Statement", "must contain at least one statement")
	}
	for i, it := range items {
		s, err := parseStatement(it, fmt.Sprintf("Statement[%d]", i))
		if err != nil {
			return err
		}
		p.statements = append(p.statements, s)
	}
	return nil
}

func parseStatement(raw []byte, path string) (statement, error) {
	var s statement
	members, err := objectMembers(raw, path)
	if err != nil {
		return s, err
	}
	var havePrincipal, haveAction bool
	for _, m := range members {
		mp := join(path, m.name)
		switch m.name {
		case "Sid":
			if s.sid, err = plainString(m.value, mp); err != nil {
				return s, err
			}
		case "Effect":
			e, err := plainString(m.value, mp)
			if err != nil {
				return s, err
			}
			if e != string(Allow) && e != string(Deny) {
				return s, perr(mp, fmt.Sprintf("%q must be \"Allow\" or \"Deny\"", e))
			}
			s.effect = Effect(e)
		case "Principal":
			havePrincipal = true
			if err := s.parsePrincipal(m.value, mp); err != nil {
				return s, err
			}
		case "NotPrincipal":
			return s, perr(mp, "NotPrincipal is not supported; name the principal with Principal")
		case "Action", "NotAction":
			if haveAction {
				return s, perr(mp, "a statement has either Action or NotAction, not both")
			}
			haveAction = true
			s.notAction = m.name == "NotAction"
			if s.actions, err = parseActions(m.value, mp); err != nil {
				return s, err
			}
		case "Condition":
			if s.conditions, err = parseConditions(m.value, mp); err != nil {
				return s, err
			}
		case "Resource", "NotResource":
			return s, perr(mp, "trust policies have no Resource (the role itself is the resource)")
		default:
			return s, perr(mp, "unknown member (expected Sid, Effect, Principal, Action, NotAction, Condition)")
		}
	}
	switch {
	case s.effect == "":
		return s, perr(join(path, "Effect"), `is required ("Allow" or "Deny")`)
	case !havePrincipal:
		return s, perr(join(path, "Principal"), "is required in a trust policy")
	case !haveAction:
		return s, perr(join(path, "Action"), "is required")
	}
	return s, nil
}

func (s *statement) parsePrincipal(raw []byte, path string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		v, err := plainString(raw, path)
		if err != nil {
			return err
		}
		if v != "*" {
			return perr(path, `must be "*" or an object such as {"Federated": "arn:aws:iam::123456789012:oidc-provider/HOST"}`)
		}
		s.anyone = true
		return nil
	}
	members, err := objectMembers(raw, path)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		return perr(path, "must name at least one principal")
	}
	for _, m := range members {
		mp := join(path, m.name)
		if m.name != "Federated" && m.name != "AWS" && m.name != "Service" {
			return perr(mp, "unknown principal type (expected Federated, AWS or Service)")
		}
		vals, err := stringOrList(m.value, mp)
		if err != nil {
			return err
		}
		kept := vals[:0:0]
		for i, v := range vals {
			vp := mp
			if len(vals) > 1 {
				vp = fmt.Sprintf("%s[%d]", mp, i)
			}
			if v == "" {
				return perr(vp, "must not be empty")
			}
			if m.name == "AWS" && v == "*" {
				s.anyone = true
				continue
			}
			if strings.ContainsAny(v, "*?") {
				return perr(vp, "wildcards are not allowed in principal names")
			}
			kept = append(kept, v)
		}
		switch m.name {
		case "Federated":
			s.federated = append(s.federated, kept...)
		case "AWS":
			s.aws = append(s.aws, kept...)
		case "Service":
			s.service = append(s.service, kept...)
		}
	}
	return nil
}

func parseActions(raw []byte, path string) ([]string, error) {
	vals, err := stringOrList(raw, path)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		vp := path
		if len(vals) > 1 {
			vp = fmt.Sprintf("%s[%d]", path, i)
		}
		svc, act, ok := strings.Cut(v, ":")
		if v != "*" && (!ok || svc == "" || act == "" || strings.Contains(act, ":")) {
			return nil, perr(vp, fmt.Sprintf("%q is not an action; use service:Action, e.g. \"sts:AssumeRoleWithWebIdentity\"", v))
		}
		out[i] = strings.ToLower(v)
	}
	return out, nil
}

func parseConditions(raw []byte, path string) ([]condition, error) {
	ops, err := objectMembers(raw, path)
	if err != nil {
		return nil, err
	}
	var out []condition
	for _, op := range ops {
		opPath := join(path, op.name)
		spec, q, ifExists, msg := parseOperator(op.name)
		if msg != "" {
			return nil, perr(opPath, msg)
		}
		keys, err := objectMembers(op.value, opPath)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, perr(opPath, "must name at least one condition key")
		}
		seen := map[string]string{}
		for _, k := range keys {
			kp := join(opPath, k.name)
			if err := checkKey(k.name, kp); err != nil {
				return nil, err
			}
			lk := strings.ToLower(k.name)
			if prev, dup := seen[lk]; dup {
				return nil, perr(kp, fmt.Sprintf("same key as %q (condition keys are case-insensitive)", prev))
			}
			seen[lk] = k.name
			vals, err := scalarOrList(k.value, kp)
			if err != nil {
				return nil, err
			}
			c := condition{operator: op.name, spec: spec, qualifier: q, ifExists: ifExists, key: k.name, values: vals}
			if err := c.compile(kp); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func checkKey(k, path string) error {
	prefix, name, ok := strings.Cut(k, ":")
	switch {
	case strings.Contains(k, "${"):
		return perr(path, "policy variables (${...}) are not supported")
	case !ok || prefix == "" || name == "":
		return perr(path, strconv.Quote(k)+" is not a condition key; keys look like \"token.actions.githubusercontent.com:sub\" or \"aws:SourceIp\"")
	}
	return nil
}

func arrayItems(raw []byte, path string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, perr(path, "malformed array")
	}
	return items, nil
}
