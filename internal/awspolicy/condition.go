package awspolicy

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

type kind int

const (
	kindString kind = iota
	kindStringIgnoreCase
	kindStringLike
	kindNumeric
	kindDate
	kindBool
	kindArn
	kindIP
	kindNull
)

type cmp int

const (
	cmpEq cmp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// opSpec describes a base operator (without qualifier or IfExists).
type opSpec struct {
	kind    kind
	cmp     cmp
	negated bool // evaluated as NOT(positive counterpart) per request value
}

var operators = map[string]opSpec{
	"StringEquals":              {kind: kindString},
	"StringNotEquals":           {kind: kindString, negated: true},
	"StringEqualsIgnoreCase":    {kind: kindStringIgnoreCase},
	"StringNotEqualsIgnoreCase": {kind: kindStringIgnoreCase, negated: true},
	"StringLike":                {kind: kindStringLike},
	"StringNotLike":             {kind: kindStringLike, negated: true},
	"NumericEquals":             {kind: kindNumeric},
	"NumericNotEquals":          {kind: kindNumeric, negated: true},
	"NumericLessThan":           {kind: kindNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {kind: kindNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {kind: kindNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {kind: kindNumeric, cmp: cmpGe},
	"DateEquals":                {kind: kindDate},
	"DateNotEquals":             {kind: kindDate, negated: true},
	"DateLessThan":              {kind: kindDate, cmp: cmpLt},
	"DateLessThanEquals":        {kind: kindDate, cmp: cmpLe},
	"DateGreaterThan":           {kind: kindDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {kind: kindDate, cmp: cmpGe},
	"Bool":                      {kind: kindBool},
	"ArnEquals":                 {kind: kindArn},
	"ArnLike":                   {kind: kindArn},
	"ArnNotEquals":              {kind: kindArn, negated: true},
	"ArnNotLike":                {kind: kindArn, negated: true},
	"IpAddress":                 {kind: kindIP},
	"NotIpAddress":              {kind: kindIP, negated: true},
	"Null":                      {kind: kindNull},
}

type qualifier int

const (
	qualNone qualifier = iota
	qualForAny
	qualForAll
)

// condition is one (operator, key) pair of a Condition block.
type condition struct {
	operator  string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	spec      opSpec
	qualifier qualifier
	ifExists  bool
	key       string // as written
	values    []string

	nums     []float64
	times    []time.Time
	prefixes []netip.Prefix
	arns     [][arnParts]string
	bools    []bool // Bool and Null
}

// parseOperator splits "ForAllValues:StringLikeIfExists" into its parts.
func parseOperator(name string) (spec opSpec, q qualifier, ifExists bool, msg string) {
	rest := name
	switch {
	case strings.HasPrefix(rest, "ForAnyValue:"):
		q, rest = qualForAny, strings.TrimPrefix(rest, "ForAnyValue:")
	case strings.HasPrefix(rest, "ForAllValues:"):
		q, rest = qualForAll, strings.TrimPrefix(rest, "ForAllValues:")
	}
	base := rest
	if s, ok := operators[rest]; ok {
		spec = s
	} else if b, ok := strings.CutSuffix(rest, "IfExists"); ok {
		if s, ok := operators[b]; ok {
			spec, base, ifExists = s, b, true
		}
	}
	if _, ok := operators[base]; !ok {
		for known := range operators {
			if strings.EqualFold(known, base) || strings.EqualFold(known+"IfExists", base) {
				return spec, q, false, "unknown condition operator " + strconv.Quote(name) + " (operator names are case-sensitive; did you mean " + strconv.Quote(known) + "?)"
			}
		}
		return spec, q, false, "unknown condition operator " + strconv.Quote(name)
	}
	if spec.kind == kindNull && (ifExists || q != qualNone) {
		return spec, q, false, "the Null operator takes neither a ForAnyValue:/ForAllValues: qualifier nor the IfExists suffix"
	}
	return spec, q, ifExists, ""
}

// compile parses the policy values for the operator's type.
func (c *condition) compile(path string) error {
	for i, v := range c.values {
		vp := path
		if len(c.values) > 1 {
			vp = path + "[" + strconv.Itoa(i) + "]"
		}
		if strings.Contains(v, "${") {
			return perr(vp, "policy variables (${...}) are not supported")
		}
		switch c.spec.kind {
		case kindNumeric:
			f, ok := parseNumber(v)
			if !ok {
				return perr(vp, strconv.Quote(v)+" is not a number")
			}
			c.nums = append(c.nums, f)
		case kindDate:
			t, ok := parseDate(v)
			if !ok {
				return perr(vp, strconv.Quote(v)+" is not an ISO 8601 date (2006-01-02 or 2006-01-02T15:04:05Z) or epoch seconds")
			}
			c.times = append(c.times, t)
		case kindBool, kindNull:
			b, ok := parseBool(v)
			if !ok {
				return perr(vp, strconv.Quote(v)+` must be "true" or "false"`)
			}
			c.bools = append(c.bools, b)
		case kindIP:
			p, ok := parsePrefix(v)
			if !ok {
				return perr(vp, strconv.Quote(v)+" is not an IP address or CIDR block")
			}
			c.prefixes = append(c.prefixes, p)
		case kindArn:
			a, ok := splitArn(v)
			if !ok {
				return perr(vp, strconv.Quote(v)+" is not an ARN (arn:partition:service:region:account:resource)")
			}
			c.arns = append(c.arns, a)
		}
	}
	return nil
}

// matchOne reports whether one request value satisfies the positive form of
// the operator against any policy value. ok is false when the request value
// is not of the operator's type (not a number, date, boolean, IP or ARN).
func (c *condition) matchOne(v string) (match, ok bool) {
	switch c.spec.kind {
	case kindString:
		for _, p := range c.values {
			if v == p {
				return true, true
			}
		}
	case kindStringIgnoreCase:
		for _, p := range c.values {
			if strings.EqualFold(v, p) {
				return true, true
			}
		}
	case kindStringLike:
		for _, p := range c.values {
			if globMatch(p, v) {
				return true, true
			}
		}
	case kindNumeric:
		f, ok := parseNumber(v)
		if !ok {
			return false, false
		}
		for _, p := range c.nums {
			if compare(c.spec.cmp, cmpFloat(f, p)) {
				return true, true
			}
		}
	case kindDate:
		t, ok := parseDate(v)
		if !ok {
			return false, false
		}
		for _, p := range c.times {
			if compare(c.spec.cmp, t.Compare(p)) {
				return true, true
			}
		}
	case kindBool:
		b, ok := parseBool(v)
		if !ok {
			return false, false
		}
		for _, p := range c.bools {
			if b == p {
				return true, true
			}
		}
	case kindArn:
		a, ok := splitArn(v)
		if !ok {
			return false, false
		}
		for _, p := range c.arns {
			if arnMatch(p, a) {
				return true, true
			}
		}
	case kindIP:
		ip, err := netip.ParseAddr(v)
		if err != nil {
			return false, false
		}
		ip = ip.Unmap()
		for _, p := range c.prefixes {
			if p.Contains(ip) {
				return true, true
			}
		}
	}
	return false, true
}

func compare(c cmp, r int) bool {
	switch c {
	case cmpLt:
		return r < 0
	case cmpLe:
		return r <= 0
	case cmpGt:
		return r > 0
	case cmpGe:
		return r >= 0
	default:
		return r == 0
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseNumber(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "xXpP_") { // no hex floats or digit separators
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func parseDate(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < -62135596800 || n > 253402300799 { // years 0001..9999
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

const arnParts = 6

func splitArn(s string) ([arnParts]string, bool) {
	var out [arnParts]string
	parts := strings.SplitN(s, ":", arnParts)
	if len(parts) != arnParts || parts[0] != "arn" {
		return out, false
	}
	copy(out[:], parts)
	return out, true
}

// arnMatch compares each of the six components separately, each as a glob.
func arnMatch(pattern, v [arnParts]string) bool {
	for i := range pattern {
		if !globMatch(pattern[i], v[i]) {
			return false
		}
	}
	return true
}
