// Package awspolicy parses and evaluates AWS IAM role trust policies as STS
// applies them to AssumeRoleWithWebIdentity. It is a leaf package.
//
// # Grammar
//
// Parse accepts one JSON object of at most MaxPolicyBytes (32 KiB; AWS counts
// 2048–4096 characters without whitespace, we bound bytes including
// whitespace so pretty-printed documents fit). Duplicate member names at any
// level, unknown members, NotPrincipal, Resource/NotResource, unknown
// condition operators (including wrong case) and policy variables (${...})
// are errors naming the JSON path, e.g. Statement[1].Condition.StringEquals.
// Version ("2012-10-17" or "2008-10-17") is required. Statement is an object
// or an array. Principal is "*" or an object of Federated/AWS/Service
// names; only Federated (exact, case-sensitive match) and the wildcard forms
// "*" and {"AWS":"*"} can match a web identity caller. Action/NotAction are
// "service:Action" patterns with '*' and '?', matched case-insensitively.
//
// # Evaluation
//
// Default deny. Any matching Deny statement denies, whatever Allows say.
// Otherwise one matching Allow allows. A statement matches when its principal,
// its action and every condition match: all operators in a Condition block
// AND, all keys under an operator AND, several policy values for one key OR.
//
// Condition key names are case-insensitive. Values are case-sensitive except
// for the ...IgnoreCase operators and Bool. StringLike/StringNotLike (and the
// Arn* operators, per ARN component) use anchored globs: '*' any run, '?' one
// character, no escaping, matched in O(len(pattern)·len(value)) worst case.
//
// A key is absent when the request has no value for it. On an absent key:
// positive operators are false; negated operators (StringNotEquals,
// StringNotLike, NumericNotEquals, DateNotEquals, ArnNot*, NotIpAddress) are
// true; any operator with the IfExists suffix is true; Null "true" is true
// and Null "false" is false; ForAnyValue: is false; ForAllValues: is TRUE
// (the well-known pitfall: an Allow with only ForAllValues conditions allows
// requests that lack the key; Lint warns about it).
//
// Multi-valued keys (e.g. amr): ForAnyValue:Op is true when some request value
// satisfies Op; ForAllValues:Op when every request value does. For a negated
// Op a request value "satisfies" it when it matches none of the policy values.
// Without a qualifier, AWS treats the request's values as a set and the
// documentation says a single-valued operator "matches if any" value matches;
// we follow that: a positive operator is true when some request value matches
// some policy value, and a negated operator is true when no request value
// matches any policy value.
//
// A request value that is not of the operator's type (not a number, date,
// boolean, IP address or ARN) makes the condition false, for negated operators
// too, so malformed input never satisfies a condition. Under ForAnyValue such a
// value is skipped.
//
// Evaluate returns a Decision whose trace lists every statement and condition
// with the request values seen and why each matched or not; the Reason names
// the failing key. Traces quote claim values, never tokens.
package awspolicy
