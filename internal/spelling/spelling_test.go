package spelling

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	fields := []string{"issuer", "orgPolicy", "google", "aws", "azure", "server"}
	for in, want := range map[string]string{
		"isuer": "issuer", "Issuer": "issuer", "orgpolicy": "orgPolicy", "gogle": "google", "AWS": "aws",
		"azur": "azure", "servers": "server", "xyz": "", "a": "", "org": "", "googlecloud": "google", "": "",
	} {
		if got := Suggest(in, fields); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"é", "e", 1}, {"flaw", "lawn", 2}} {
		if got := Distance(tc.a, tc.b); got != tc.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
