package awspolicy

import (
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		githubPolicy, eksPolicy,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":["*","a"]},"NotAction":"s:*",
		  "Condition":{"ForAllValues:StringNotLikeIfExists":{"p:t":["a*",1,true]},"Null":{"p:x":"false"},
		  "IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/*"},
		  "DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"},"NumericGreaterThan":{"p:n":1e3}}}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"f"},"Action":"sts:*","Condition":{"StringEquals":{"a:b":"c","a:b":"d"}}}}`,
		`{}`, `[`, `{"Version":"2012-10-17","Statement":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Evaluating never panics.
		_ = p.Evaluate(Request{Action: ActionAssumeRoleWithWebIdentity, Federated: "f",
			Context: map[string][]string{"p:t": {"a", "1"}, "aws:SourceIp": {"10.0.0.1"}, "p:n": {"x"}}})
		_ = p.Lint()
		b, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxPolicyBytes {
			return // canonical form can be longer than the input
		}
		p2, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal) = %v\n%s", err, b)
		}
		b2, err := p2.MarshalJSON()
		if err != nil || string(b2) != string(b) {
			t.Fatalf("round trip not stable:\n%s\n%s", b, b2)
		}
	})
}
