package awspolicy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	stmt := func(body string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"f"},"Action":"sts:AssumeRoleWithWebIdentity"},` + body + `]}`
	}
	cond := func(c string) string {
		return stmt(`{"Effect":"Allow","Principal":{"Federated":"f"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + c + `}`)
	}
	tests := []struct {
		name, doc, path, msg string
	}{
		{"empty", ``, "", "policy is empty"},
		{"not object", `[]`, "", "must be a JSON object"},
		{"truncated", `{"Version":"2012-10-17"`, "", "malformed JSON"},
		{"trailing", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*"}} {}`, "", "unexpected data"},
		{"invalid utf8", "{\"Version\":\"\xff\"}", "", "UTF-8"},
		{"too large", `{"Id":"` + strings.Repeat("a", MaxPolicyBytes) + `"}`, "", "the limit is 32768"},
		{"dup top", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}`, "Version", "duplicate member name"},
		{"dup nested", cond(`{"StringEquals":{"p:a":"x","p:a":"y"}}`), "Statement[1].Condition.StringEquals.p:a", "duplicate member name"},
		{"dup key case", cond(`{"StringEquals":{"p:aud":"x","P:AUD":"y"}}`), "Statement[1].Condition.StringEquals.P:AUD", "case-insensitive"},
		{"dup operator", cond(`{"StringEquals":{"p:a":"x"},"StringEquals":{"p:b":"y"}}`), "Statement[1].Condition.StringEquals", "duplicate member name"},
		{"no version", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`, "Version", "is required"},
		{"bad version", `{"Version":"2012-10-18","Statement":[]}`, "Version", "not a policy language version"},
		{"version number", `{"Version":2012,"Statement":[]}`, "Version", "must be a string, found a number"},
		{"no statement", `{"Version":"2012-10-17"}`, "Statement", "is required"},
		{"empty statements", `{"Version":"2012-10-17","Statement":[]}`, "Statement", "at least one"},
		{"statement string", `{"Version":"2012-10-17","Statement":"x"}`, "Statement", "must be an object or an array"},
		{"unknown top", `{"Version":"2012-10-17","Statment":[]}`, "Statment", "unknown member"},
		{"unknown stmt member", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Foo":1}`), "Statement[1].Foo", "unknown member"},
		{"no effect", stmt(`{"Principal":"*","Action":"*"}`), "Statement[1].Effect", "is required"},
		{"bad effect", stmt(`{"Effect":"allow","Principal":"*","Action":"*"}`), "Statement[1].Effect", `must be "Allow" or "Deny"`},
		{"no principal", stmt(`{"Effect":"Allow","Action":"*"}`), "Statement[1].Principal", "is required"},
		{"not principal", stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"*"}`), "Statement[1].NotPrincipal", "not supported"},
		{"principal string", stmt(`{"Effect":"Allow","Principal":"f","Action":"*"}`), "Statement[1].Principal", `must be "*"`},
		{"principal empty", stmt(`{"Effect":"Allow","Principal":{},"Action":"*"}`), "Statement[1].Principal", "at least one"},
		{"principal type", stmt(`{"Effect":"Allow","Principal":{"CanonicalUser":"x"},"Action":"*"}`), "Statement[1].Principal.CanonicalUser", "unknown principal type"},
		{"federated wildcard", stmt(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/*"},"Action":"*"}`), "Statement[1].Principal.Federated", "wildcards"},
		{"federated empty", stmt(`{"Effect":"Allow","Principal":{"Federated":["a",""]},"Action":"*"}`), "Statement[1].Principal.Federated[1]", "must not be empty"},
		{"federated number", stmt(`{"Effect":"Allow","Principal":{"Federated":[1]},"Action":"*"}`), "Statement[1].Principal.Federated[0]", "must be a string"},
		{"no action", stmt(`{"Effect":"Allow","Principal":"*"}`), "Statement[1].Action", "is required"},
		{"both actions", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","NotAction":"*"}`), "Statement[1].NotAction", "not both"},
		{"bad action", stmt(`{"Effect":"Allow","Principal":"*","Action":"AssumeRoleWithWebIdentity"}`), "Statement[1].Action", "not an action"},
		{"empty action list", stmt(`{"Effect":"Allow","Principal":"*","Action":[]}`), "Statement[1].Action", "empty array"},
		{"resource", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), "Statement[1].Resource", "no Resource"},
		{"unknown operator", cond(`{"StringEqual":{"p:a":"x"}}`), "Statement[1].Condition.StringEqual", `unknown condition operator "StringEqual"`},
		{"operator case", cond(`{"stringequals":{"p:a":"x"}}`), "Statement[1].Condition.stringequals", `did you mean "StringEquals"`},
		{"bad qualifier", cond(`{"ForSomeValues:StringEquals":{"p:a":"x"}}`), "Statement[1].Condition.ForSomeValues:StringEquals", "unknown condition operator"},
		{"null ifexists", cond(`{"NullIfExists":{"p:a":"true"}}`), "Statement[1].Condition.NullIfExists", "Null operator"},
		{"null qualifier", cond(`{"ForAnyValue:Null":{"p:a":"true"}}`), "Statement[1].Condition.ForAnyValue:Null", "Null operator"},
		{"empty operator", cond(`{"StringEquals":{}}`), "Statement[1].Condition.StringEquals", "at least one condition key"},
		{"condition array", cond(`[]`), "Statement[1].Condition", "must be a JSON object"},
		{"key without colon", cond(`{"StringEquals":{"sub":"x"}}`), "Statement[1].Condition.StringEquals.sub", "not a condition key"},
		{"policy variable key", cond(`{"StringEquals":{"${aws:username}:x":"x"}}`), "Statement[1].Condition.StringEquals.${aws:username}:x", "policy variables"},
		{"policy variable value", cond(`{"StringLike":{"p:sub":"repo:${aws:username}/*"}}`), "Statement[1].Condition.StringLike.p:sub", "policy variables"},
		{"value object", cond(`{"StringEquals":{"p:a":{"x":1}}}`), "Statement[1].Condition.StringEquals.p:a", "must be a string, number or boolean"},
		{"value null", cond(`{"StringEquals":{"p:a":null}}`), "Statement[1].Condition.StringEquals.p:a", "found null"},
		{"value empty list", cond(`{"StringEquals":{"p:a":[]}}`), "Statement[1].Condition.StringEquals.p:a", "empty array"},
		{"value nested list", cond(`{"StringEquals":{"p:a":["x",["y"]]}}`), "Statement[1].Condition.StringEquals.p:a[1]", "found an array"},
		{"numeric value", cond(`{"NumericLessThan":{"p:n":"ten"}}`), "Statement[1].Condition.NumericLessThan.p:n", "not a number"},
		{"numeric NaN", cond(`{"NumericLessThan":{"p:n":"NaN"}}`), "Statement[1].Condition.NumericLessThan.p:n", "not a number"},
		{"numeric hex", cond(`{"NumericLessThan":{"p:n":"0x10"}}`), "Statement[1].Condition.NumericLessThan.p:n", "not a number"},
		{"date value", cond(`{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), "Statement[1].Condition.DateLessThan.aws:CurrentTime", "not an ISO 8601 date"},
		{"bool value", cond(`{"Bool":{"aws:SecureTransport":"yes"}}`), "Statement[1].Condition.Bool.aws:SecureTransport", `must be "true" or "false"`},
		{"null value", cond(`{"Null":{"p:a":1}}`), "Statement[1].Condition.Null.p:a", `must be "true" or "false"`},
		{"ip value", cond(`{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","10.0.0.0/33"]}}`), "Statement[1].Condition.IpAddress.aws:SourceIp[1]", "not an IP address"},
		{"arn value", cond(`{"ArnLike":{"aws:SourceArn":"arn:aws:iam"}}`), "Statement[1].Condition.ArnLike.aws:SourceArn", "not an ARN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.doc))
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Parse = %v, want *ParseError", err)
			}
			if pe.Path != tc.path || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("got path %q msg %q; want path %q msg containing %q", pe.Path, pe.Msg, tc.path, tc.msg)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("Error() = %q does not name %q", err.Error(), tc.path)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		githubPolicy, eksPolicy,
		`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`,
		`{"Version":"2012-10-17","Id":"i","Statement":[{"Sid":"","Effect":"Deny","Principal":{"AWS":"*"},"Action":["sts:*"]}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity",
		  "Condition":{"StringEquals":{"accounts.google.com:aud":"123.apps.googleusercontent.com"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"},
		  "DateGreaterThan":{"aws:CurrentTime":1700000000},"StringLike":{"p:s":"literal $ and { ok"}}}}`,
	} {
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("Parse: %v\n%s", err, doc)
		}
	}
}
