package celpolicy

import (
	"fmt"
	"sync"
	"testing"
)

func TestConcurrentEvaluation(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, map[string]string{
		"google.subject":       "assertion.sub",
		"attribute.repository": "assertion.repository",
		"attribute.owner":      "assertion.repository_owner",
	})
	c := mustCondition(t, "attribute.owner == 'my-org' && assertion.ref == 'refs/heads/main'")
	const workers, rounds = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				owner := "my-org"
				if (w+i)%3 == 0 {
					owner = fmt.Sprintf("org-%d", w)
				}
				claims := map[string]any{"sub": fmt.Sprintf("repo:%d:%d", w, i), "repository": "r", "repository_owner": owner, "ref": "refs/heads/main"}
				attrs, _, err := m.Evaluate(claims)
				if err != nil {
					errs <- err
					return
				}
				if attrs.Subject != claims["sub"] || attrs.Custom["owner"][0] != owner {
					errs <- fmt.Errorf("worker %d round %d: got %+v", w, i, attrs)
					return
				}
				res, err := c.Evaluate(claims, attrs)
				if err != nil || res.Allowed != (owner == "my-org") {
					errs <- fmt.Errorf("worker %d round %d: %+v %v", w, i, res, err)
					return
				}
				if !res.Allowed && res.FailedClause != "attribute.owner == 'my-org'" {
					errs <- fmt.Errorf("failed clause %q", res.FailedClause)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkCondition(b *testing.B) {
	claims := fixtureClaims(b, "github_actions_docs_example.json")
	c := mustCondition(b, "assertion.repository_owner == 'octo-org' && assertion.ref == 'refs/heads/main'")
	attrs := &Attributes{Subject: "s"}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := c.Evaluate(claims, attrs); err != nil || !res.Allowed {
			b.Fatal(res, err)
		}
	}
}

func BenchmarkConditionDenied(b *testing.B) {
	claims := fixtureClaims(b, "github_actions_docs_example.json")
	c := mustCondition(b, "assertion.repository_owner == 'my-org' && assertion.ref == 'refs/heads/main'")
	attrs := &Attributes{Subject: "s"}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := c.Evaluate(claims, attrs); err != nil || res.Allowed {
			b.Fatal(res, err)
		}
	}
}

func BenchmarkMapping3Attrs(b *testing.B) {
	claims := fixtureClaims(b, "github_actions_docs_example.json")
	m := mustMapping(b, map[string]string{
		"google.subject":       "assertion.sub",
		"attribute.repository": "assertion.repository",
		"attribute.actor":      "assertion.actor",
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Evaluate(claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDefaultAWSMapping(b *testing.B) {
	m := mustMapping(b, DefaultAWSMapping())
	claims := map[string]any{"arn": "arn:aws:sts::123456789012:assumed-role/my-role/i-0abc123", "account": "123456789012"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Evaluate(claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileMapping(b *testing.B) {
	exprs := map[string]string{
		"google.subject":       "assertion.sub",
		"attribute.repository": "assertion.repository",
		"attribute.actor":      "assertion.actor",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := CompileMapping(exprs, Options{}); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkCompileCondition(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileCondition(githubCondition, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
