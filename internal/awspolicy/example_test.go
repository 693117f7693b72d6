package awspolicy_test

import (
	"fmt"

	"github.com/keylessdev/keyless/internal/awspolicy"
)

func Example() {
	p, err := awspolicy.Parse([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": {
	    "Effect": "Allow",
	    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
	    "Action": "sts:AssumeRoleWithWebIdentity",
	    "Condition": {
	      "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
	      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}
	    }
	  }
	}`))
	if err != nil {
		panic(err)
	}
	d := p.Evaluate(awspolicy.Request{
		Action:    awspolicy.ActionAssumeRoleWithWebIdentity,
		Federated: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
		Context: map[string][]string{
			"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"},
			"token.actions.githubusercontent.com:sub": {"repo:other-org/app:ref:refs/heads/main"},
		},
	})
	fmt.Println(d.Allowed)
	fmt.Println(d.Reason)
	// Output:
	// false
	// denied: Statement[0] condition StringLike "token.actions.githubusercontent.com:sub" failed: request value "repo:other-org/app:ref:refs/heads/main" matches none of ["repo:octo-org/*"]
}
