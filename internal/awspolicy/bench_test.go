package awspolicy

import "testing"

func BenchmarkEvaluateGitHub(b *testing.B) {
	p := mustParse(b, githubPolicy)
	req := ghReq("repo:octo-org/app:ref:refs/heads/main", "sts.amazonaws.com")
	b.ReportAllocs()
	for b.Loop() {
		if d := p.Evaluate(req); !d.Allowed {
			b.Fatal(d.Reason)
		}
	}
}

func BenchmarkParseGitHub(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse([]byte(githubPolicy)); err != nil {
			b.Fatal(err)
		}
	}
}
