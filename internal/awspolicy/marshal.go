package awspolicy

import (
	"encoding/json"
	"strings"
)

// MarshalJSON returns the policy in a canonical form: Statement is always an
// array, principal, action and condition values are arrays of strings, and
// object members are sorted. Parse(MarshalJSON()) yields an equivalent policy.
// Action patterns come back lower-cased (matching is case-insensitive).
func (p *Policy) MarshalJSON() ([]byte, error) {
	type stmt struct {
		Sid       string                         `json:"Sid,omitempty"`
		Effect    Effect                         `json:"Effect"`
		Principal any                            `json:"Principal"`
		Action    []string                       `json:"Action,omitempty"`
		NotAction []string                       `json:"NotAction,omitempty"`
		Condition map[string]map[string][]string `json:"Condition,omitempty"`
	}
	type doc struct {
		Version   string `json:"Version"`
		ID        string `json:"Id,omitempty"`
		Statement []stmt `json:"Statement"`
	}
	out := doc{Version: p.version, ID: p.id, Statement: make([]stmt, 0, len(p.statements))}
	for _, s := range p.statements {
		o := stmt{Sid: s.sid, Effect: s.effect}
		if s.anyone && len(s.federated) == 0 && len(s.aws) == 0 && len(s.service) == 0 {
			o.Principal = "*"
		} else {
			pr := map[string][]string{}
			aws := s.aws
			if s.anyone {
				aws = append([]string{"*"}, aws...)
			}
			for k, v := range map[string][]string{"Federated": s.federated, "AWS": aws, "Service": s.service} {
				if len(v) > 0 {
					pr[k] = v
				}
			}
			o.Principal = pr
		}
		if s.notAction {
			o.NotAction = s.actions
		} else {
			o.Action = s.actions
		}
		if len(s.conditions) > 0 {
			o.Condition = map[string]map[string][]string{}
			for _, c := range s.conditions {
				if o.Condition[c.operator] == nil {
					o.Condition[c.operator] = map[string][]string{}
				}
				o.Condition[c.operator][c.key] = c.values
			}
		}
		out.Statement = append(out.Statement, o)
	}
	return json.Marshal(out)
}

// Statements returns the number of statements.
func (p *Policy) Statements() int { return len(p.statements) }

// FederatedPrincipals lists every Principal.Federated value, in order, so a
// caller can check that the named OIDC providers exist.
func (p *Policy) FederatedPrincipals() []string {
	var out []string
	for _, s := range p.statements {
		out = append(out, s.federated...)
	}
	return out
}

// hasKeyFold reports whether ks holds k ignoring case.
func hasKeyFold(ks []string, k string) bool {
	for _, x := range ks {
		if strings.EqualFold(x, k) {
			return true
		}
	}
	return false
}
