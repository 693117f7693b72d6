package awspolicy

import (
	"fmt"
	"strings"
)

// Lint returns operator-facing warnings about policies that parse but are
// probably too permissive or not what was meant. Each warning starts with the
// JSON path of the statement or condition it is about.
func (p *Policy) Lint() []string {
	var out []string
	for i, s := range p.statements {
		path := fmt.Sprintf("Statement[%d]", i)
		if s.effect != Allow {
			continue
		}
		if s.anyone {
			out = append(out, path+`.Principal: "*" lets any caller assume the role`)
		}
		var keys []string
		for _, c := range s.conditions {
			cp := path + ".Condition." + c.operator + "." + c.key
			if !c.spec.negated && c.spec.kind != kindNull && c.qualifier != qualForAll && !c.ifExists {
				keys = append(keys, c.key[strings.LastIndexByte(c.key, ':')+1:])
			}
			if c.qualifier == qualForAll && !c.ifExists {
				out = append(out, cp+": ForAllValues is true when the key is absent; add a Null condition with \"false\" for this key")
			}
			for _, v := range c.values {
				if (c.spec.kind == kindString || c.spec.kind == kindStringIgnoreCase) && strings.ContainsAny(v, "*?") {
					out = append(out, cp+fmt.Sprintf(": %q is compared literally; use StringLike for wildcards", v))
				}
				if c.spec.kind == kindStringLike && !c.spec.negated && strings.Trim(v, "*") == "" {
					out = append(out, cp+fmt.Sprintf(": %q matches every value", v))
				}
			}
		}
		if len(s.federated) > 0 && s.actionMatches(strings.ToLower(ActionAssumeRoleWithWebIdentity)) {
			if !hasKeyFold(keys, "aud") {
				out = append(out, path+": no positive condition on the provider's aud key; any audience the provider accepts can assume the role")
			}
			if !hasKeyFold(keys, "sub") && !hasKeyFold(keys, "repository") && !hasKeyFold(keys, "job_workflow_ref") {
				out = append(out, path+": no positive condition on the provider's sub key; every identity of the provider can assume the role")
			}
		}
	}
	return out
}
