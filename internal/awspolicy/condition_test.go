package awspolicy

import (
	"fmt"
	"strings"
	"testing"
)

const gh = "token.actions.githubusercontent.com"

// condPolicy builds a one-statement Allow policy with the given Condition block.
func condPolicy(t *testing.T, cond string) *Policy {
	t.Helper()
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow",
		"Principal":{"Federated":"fed"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":%s}}`, cond)
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", cond, err)
	}
	return p
}

func TestConditionOperators(t *testing.T) {
	t.Parallel()
	absent := map[string][]string(nil)
	one := func(k, v string) map[string][]string { return map[string][]string{k: {v}} }
	many := func(k string, v ...string) map[string][]string { return map[string][]string{k: v} }
	tests := []struct {
		name string
		cond string
		ctx  map[string][]string
		want bool
	}{
		// StringEquals: exact, case-sensitive values, case-insensitive keys.
		{"StringEquals match", `{"StringEquals":{"p:aud":"sts.amazonaws.com"}}`, one("p:aud", "sts.amazonaws.com"), true},
		{"StringEquals value case", `{"StringEquals":{"p:aud":"sts.amazonaws.com"}}`, one("p:aud", "STS.amazonaws.com"), false},
		{"StringEquals key case", `{"StringEquals":{"P:AUD":"x"}}`, one("p:aud", "x"), true},
		{"StringEquals key case ctx", `{"StringEquals":{"p:aud":"x"}}`, one("P:Aud", "x"), true},
		{"StringEquals missing", `{"StringEquals":{"p:aud":"x"}}`, absent, false},
		{"StringEquals empty list is missing", `{"StringEquals":{"p:aud":"x"}}`, map[string][]string{"p:aud": {}}, false},
		{"StringEquals policy values OR", `{"StringEquals":{"p:aud":["a","b"]}}`, one("p:aud", "b"), true},
		{"StringEquals literal star", `{"StringEquals":{"p:sub":"repo:*"}}`, one("p:sub", "repo:x"), false},
		{"StringEquals multi request any", `{"StringEquals":{"p:amr":"b"}}`, many("p:amr", "a", "b"), true},
		{"StringEquals multi request none", `{"StringEquals":{"p:amr":"c"}}`, many("p:amr", "a", "b"), false},
		{"StringEquals number value", `{"StringEquals":{"p:id":123}}`, one("p:id", "123"), true},
		{"StringEquals bool value", `{"StringEquals":{"p:b":true}}`, one("p:b", "true"), true},
		// StringNotEquals.
		{"StringNotEquals differs", `{"StringNotEquals":{"p:sub":"x"}}`, one("p:sub", "y"), true},
		{"StringNotEquals equal", `{"StringNotEquals":{"p:sub":"x"}}`, one("p:sub", "x"), false},
		{"StringNotEquals missing is true", `{"StringNotEquals":{"p:sub":"x"}}`, absent, true},
		{"StringNotEquals multi one equal", `{"StringNotEquals":{"p:amr":"x"}}`, many("p:amr", "y", "x"), false},
		{"StringNotEquals any of list", `{"StringNotEquals":{"p:sub":["x","y"]}}`, one("p:sub", "y"), false},
		// IgnoreCase.
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"p:sub":"AbC"}}`, one("p:sub", "aBc"), true},
		{"StringEqualsIgnoreCase differs", `{"StringEqualsIgnoreCase":{"p:sub":"AbC"}}`, one("p:sub", "abd"), false},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"p:sub":"AbC"}}`, one("p:sub", "abc"), false},
		{"StringNotEqualsIgnoreCase missing", `{"StringNotEqualsIgnoreCase":{"p:sub":"AbC"}}`, absent, true},
		// StringLike.
		{"StringLike star", `{"StringLike":{"p:sub":"repo:org/*"}}`, one("p:sub", "repo:org/r:ref:refs/heads/main"), true},
		{"StringLike other org", `{"StringLike":{"p:sub":"repo:org/*"}}`, one("p:sub", "repo:org2/r"), false},
		{"StringLike anchored", `{"StringLike":{"p:sub":"org/*"}}`, one("p:sub", "repo:org/r"), false},
		{"StringLike question", `{"StringLike":{"p:sub":"a?c"}}`, one("p:sub", "abc"), true},
		{"StringLike question one char", `{"StringLike":{"p:sub":"a?c"}}`, one("p:sub", "ac"), false},
		{"StringLike case-sensitive", `{"StringLike":{"p:sub":"Repo:*"}}`, one("p:sub", "repo:x"), false},
		{"StringLike missing", `{"StringLike":{"p:sub":"*"}}`, absent, false},
		{"StringNotLike match", `{"StringNotLike":{"p:sub":"repo:evil/*"}}`, one("p:sub", "repo:evil/x"), false},
		{"StringNotLike no match", `{"StringNotLike":{"p:sub":"repo:evil/*"}}`, one("p:sub", "repo:good/x"), true},
		{"StringNotLike missing", `{"StringNotLike":{"p:sub":"repo:evil/*"}}`, absent, true},
		// IfExists.
		{"StringEqualsIfExists missing", `{"StringEqualsIfExists":{"p:env":"prod"}}`, absent, true},
		{"StringEqualsIfExists present wrong", `{"StringEqualsIfExists":{"p:env":"prod"}}`, one("p:env", "dev"), false},
		{"StringEqualsIfExists present right", `{"StringEqualsIfExists":{"p:env":"prod"}}`, one("p:env", "prod"), true},
		{"StringNotLikeIfExists present", `{"StringNotLikeIfExists":{"p:env":"d*"}}`, one("p:env", "dev"), false},
		// Null.
		{"Null true absent", `{"Null":{"p:env":"true"}}`, absent, true},
		{"Null true present", `{"Null":{"p:env":"true"}}`, one("p:env", "x"), false},
		{"Null false present", `{"Null":{"p:env":false}}`, one("p:env", "x"), true},
		{"Null false absent", `{"Null":{"p:env":"false"}}`, absent, false},
		// Bool.
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, one("aws:SecureTransport", "true"), true},
		{"Bool json true", `{"Bool":{"aws:SecureTransport":true}}`, one("aws:SecureTransport", "TRUE"), true},
		{"Bool false", `{"Bool":{"aws:SecureTransport":"true"}}`, one("aws:SecureTransport", "false"), false},
		{"Bool garbage", `{"Bool":{"aws:SecureTransport":"true"}}`, one("aws:SecureTransport", "yes"), false},
		{"Bool missing", `{"Bool":{"aws:SecureTransport":"true"}}`, absent, false},
		// Numeric.
		{"NumericEquals", `{"NumericEquals":{"p:n":"10"}}`, one("p:n", "10.0"), true},
		{"NumericLessThan", `{"NumericLessThan":{"p:n":10}}`, one("p:n", "9"), true},
		{"NumericLessThan equal", `{"NumericLessThan":{"p:n":10}}`, one("p:n", "10"), false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"p:n":10}}`, one("p:n", "10"), true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"p:n":10}}`, one("p:n", "11"), true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"p:n":10}}`, one("p:n", "9"), false},
		{"NumericNotEquals", `{"NumericNotEquals":{"p:n":10}}`, one("p:n", "11"), true},
		{"NumericNotEquals not a number", `{"NumericNotEquals":{"p:n":10}}`, one("p:n", "abc"), false},
		{"NumericEquals NaN", `{"NumericEquals":{"p:n":10}}`, one("p:n", "NaN"), false},
		// Date.
		{"DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, one("aws:CurrentTime", "2025-12-31T23:59:59Z"), true},
		{"DateLessThan epoch", `{"DateLessThan":{"aws:EpochTime":"1767225600"}}`, one("aws:EpochTime", "1767225599"), true},
		{"DateGreaterThan day", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01"}}`, one("aws:CurrentTime", "2025-06-01T00:00:00Z"), false},
		{"DateEquals", `{"DateEquals":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, one("aws:CurrentTime", "1767225600"), true},
		{"DateNotEquals garbage", `{"DateNotEquals":{"aws:CurrentTime":"2026-01-01"}}`, one("aws:CurrentTime", "soon"), false},
		// IP.
		{"IpAddress in", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, one("aws:SourceIp", "10.1.2.3"), true},
		{"IpAddress out", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, one("aws:SourceIp", "11.1.2.3"), false},
		{"IpAddress mapped", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, one("aws:SourceIp", "::ffff:10.1.2.3"), true},
		{"IpAddress single", `{"IpAddress":{"aws:SourceIp":"2001:db8::1"}}`, one("aws:SourceIp", "2001:db8::1"), true},
		{"NotIpAddress in", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, one("aws:SourceIp", "10.1.2.3"), false},
		{"NotIpAddress garbage", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, one("aws:SourceIp", "x"), false},
		// Arn.
		{"ArnLike", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/ci-*"}}`, one("aws:SourceArn", "arn:aws:iam::123456789012:role/ci-build"), true},
		{"ArnLike component", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/ci-*"}}`, one("aws:SourceArn", "arn:aws:s3::1:role/ci-x"), false},
		{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"arn:aws:iam::1:role/a"}}`, one("aws:SourceArn", "arn:aws:iam::1:role/a"), true},
		{"ArnNotEquals not arn", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:iam::1:role/a"}}`, one("aws:SourceArn", "nope"), false},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:iam::1:role/*"}}`, one("aws:SourceArn", "arn:aws:iam::2:role/a"), true},
		// Set qualifiers.
		{"ForAnyValue match", `{"ForAnyValue:StringLike":{"p:amr":"authenticated"}}`, many("p:amr", "unauthenticated", "authenticated"), true},
		{"ForAnyValue none", `{"ForAnyValue:StringLike":{"p:amr":"authenticated"}}`, many("p:amr", "unauthenticated"), false},
		{"ForAnyValue missing", `{"ForAnyValue:StringLike":{"p:amr":"authenticated"}}`, absent, false},
		{"ForAnyValue IfExists missing", `{"ForAnyValue:StringLikeIfExists":{"p:amr":"authenticated"}}`, absent, true},
		{"ForAllValues all", `{"ForAllValues:StringEquals":{"p:t":["a","b"]}}`, many("p:t", "a", "b"), true},
		{"ForAllValues one outside", `{"ForAllValues:StringEquals":{"p:t":["a","b"]}}`, many("p:t", "a", "c"), false},
		{"ForAllValues missing is TRUE", `{"ForAllValues:StringEquals":{"p:t":["a","b"]}}`, absent, true},
		{"ForAllValues empty is TRUE", `{"ForAllValues:StringEquals":{"p:t":"a"}}`, map[string][]string{"p:t": {}}, true},
		{"ForAnyValue negated", `{"ForAnyValue:StringNotEquals":{"p:t":"a"}}`, many("p:t", "a", "b"), true},
		{"ForAnyValue negated all equal", `{"ForAnyValue:StringNotEquals":{"p:t":"a"}}`, many("p:t", "a", "a"), false},
		{"ForAllValues negated", `{"ForAllValues:StringNotLike":{"p:t":"x*"}}`, many("p:t", "a", "xb"), false},
		{"ForAllValues negated ok", `{"ForAllValues:StringNotLike":{"p:t":"x*"}}`, many("p:t", "a", "b"), true},
		{"ForAllValues numeric garbage", `{"ForAllValues:NumericLessThan":{"p:n":5}}`, many("p:n", "1", "z"), false},
		{"ForAnyValue numeric garbage skipped", `{"ForAnyValue:NumericLessThan":{"p:n":5}}`, many("p:n", "z", "1"), true},
		// AND of keys and operators.
		{"keys AND", `{"StringEquals":{"p:aud":"a","p:sub":"s"}}`, map[string][]string{"p:aud": {"a"}, "p:sub": {"x"}}, false},
		{"keys AND ok", `{"StringEquals":{"p:aud":"a","p:sub":"s"}}`, map[string][]string{"p:aud": {"a"}, "p:sub": {"s"}}, true},
		{"operators AND", `{"StringEquals":{"p:aud":"a"},"StringLike":{"p:sub":"s*"}}`, map[string][]string{"p:aud": {"a"}, "p:sub": {"x"}}, false},
		{"ctx keys merged by case", `{"StringEquals":{"p:amr":"b"}}`, map[string][]string{"p:amr": {"a"}, "P:AMR": {"b"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := condPolicy(t, tc.cond)
			d := p.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: "fed", Context: tc.ctx})
			if d.Allowed != tc.want {
				t.Fatalf("Allowed = %v, want %v; reason %q; trace %+v", d.Allowed, tc.want, d.Reason, d.Statements[0].Conditions)
			}
			if !tc.want && !strings.Contains(d.Reason, "condition") {
				t.Errorf("reason %q does not name the failing condition", d.Reason)
			}
		})
	}
}

func TestConditionTraceNamesFailingKey(t *testing.T) {
	t.Parallel()
	p := condPolicy(t, `{"StringEquals":{"`+gh+`:aud":"sts.amazonaws.com"},"StringLike":{"`+gh+`:sub":"repo:org/*"}}`)
	d := p.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: "fed", Context: map[string][]string{
		gh + ":aud": {"sts.amazonaws.com"}, gh + ":sub": {"repo:other/r:ref:refs/heads/main"},
	}})
	if d.Allowed {
		t.Fatal("allowed")
	}
	want := `condition StringLike "` + gh + `:sub" failed: request value "repo:other/r:ref:refs/heads/main" matches none of ["repo:org/*"]`
	if !strings.Contains(d.Reason, want) {
		t.Fatalf("reason = %q, want it to contain %q", d.Reason, want)
	}
	cs := d.Statements[0].Conditions
	if len(cs) != 2 || !cs[0].Matched || cs[1].Matched || cs[1].Key != gh+":sub" || cs[1].RequestValues[0] != "repo:other/r:ref:refs/heads/main" {
		t.Fatalf("trace = %+v", cs)
	}
}
