package celpolicy_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/keylessdev/keyless/internal/celpolicy"
)

func Example() {
	mapping, errs := celpolicy.CompileMapping(map[string]string{
		"google.subject":       "assertion.sub",
		"attribute.repository": "assertion.repository",
	}, celpolicy.Options{})
	if errs != nil {
		panic(errs)
	}
	condition, cerr := celpolicy.CompileCondition(
		"assertion.repository_owner == 'my-org' && attribute.repository.startsWith('my-org/')", celpolicy.Options{})
	if cerr != nil {
		panic(cerr)
	}

	dec := json.NewDecoder(strings.NewReader(`{"sub":"repo:evil/app:ref:refs/heads/main","repository":"evil/app","repository_owner":"evil"}`))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		panic(err)
	}
	attrs, _, err := mapping.Evaluate(claims)
	if err != nil {
		panic(err)
	}
	res, err := condition.Evaluate(claims, attrs)
	fmt.Println(attrs.Subject, res.Allowed, err)
	fmt.Println("failed:", res.FailedClause)
	for _, c := range res.Clauses {
		fmt.Printf("  %s => %s\n", c.Expression, c.Value)
	}
	// Output:
	// repo:evil/app:ref:refs/heads/main false <nil>
	// failed: assertion.repository_owner == 'my-org'
	//   assertion.repository_owner == 'my-org' => false
	//   attribute.repository.startsWith('my-org/') => false
}

func ExampleCompileCondition_didYouMean() {
	_, err := celpolicy.CompileCondition("assertions.repository_owner == 'my-org'", celpolicy.Options{})
	fmt.Println(err)
	// Output:
	// attributeCondition: column 1: undeclared reference to 'assertions' (did you mean 'assertion'?)
}
