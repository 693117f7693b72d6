package credcfg

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// Expected encodings observed from gcloud 528 (see the live tests) or
// derived from Python's documented ensure_ascii rules.
func TestWriteStringLikePython(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                      `""`,
		"plain /path/to?x=1&y":  `"plain /path/to?x=1&y"`,
		"&<>":                   `"&<>"`,
		"t\x01\x7f\t\"\\/":      `"t\u0001\u007f\t\"\\/"`,
		"\b\f\n\r":              `"\b\f\n\r"`,
		"\x00\x1f":              `"\u0000\u001f"`,
		"é":                     `"\u00e9"`,
		"\u0080\u00a0\u2028":    `"\u0080\u00a0\u2028"`,
		"中":                     `"\u4e2d"`,
		"\uffff":                `"\uffff"`,
		"😀":                     `"\ud83d\ude00"`,
		"\U0010ffff":            `"\udbff\udfff"`,
		"\xff":                  `"\ufffd"`, // never reached: Validate refuses invalid UTF-8
		"~ !#$%'()*+,-.:;=@[]^": `"~ !#$%'()*+,-.:;=@[]^"`,
	}
	for in, want := range cases {
		var b strings.Builder
		writeString(&b, in)
		if b.String() != want {
			t.Errorf("writeString(%q) = %s, want %s", in, b.String(), want)
		}
	}
}

func TestDumpsLayout(t *testing.T) {
	t.Parallel()
	got := string(dumps(object{
		{"s", "v"}, {"n", 5}, {"b", true}, {"f", false}, {"empty", object{}},
		{"o", object{{"inner", object{{"k", "v"}}}}},
	}))
	want := "{\n  \"s\": \"v\",\n  \"n\": 5,\n  \"b\": true,\n  \"f\": false,\n  \"empty\": {},\n  \"o\": {\n    \"inner\": {\n      \"k\": \"v\"\n    }\n  }\n}"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := string(dumps(object{})); got != "{}" {
		t.Errorf("empty = %q", got)
	}
}

// Cross-checks the encoder against Python's json.dumps on random strings
// when a python3 is installed (gcloud ships one; any will do).
func TestDumpsAgainstPython(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ09 \"\\/&<>'\t\n\r\b\f\x00\x01\x1f\x7f\u0080\u00e9\u2028\u4e2d\uffff\U0001f600\U0010ffff")
	var inputs []string
	for range 300 {
		n := rng.IntN(12)
		var sb strings.Builder
		for range n {
			sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, sb.String())
	}
	payload, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := `import json,sys
for s in json.load(sys.stdin):
    sys.stdout.write(json.dumps({"k": s, "o": {s: 1}}, indent=2) + "\x1e")`
	cmd := exec.CommandContext(ctx, py, "-c", script)
	cmd.Stdin = bytes.NewReader(payload)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	wants := strings.Split(strings.TrimSuffix(string(out), "\x1e"), "\x1e")
	if len(wants) != len(inputs) {
		t.Fatalf("python3 returned %d results for %d inputs", len(wants), len(inputs))
	}
	for i, s := range inputs {
		got := string(dumps(object{{"k", s}, {"o", object{{s, 1}}}}))
		if got != wants[i] {
			t.Errorf("input %q\n go: %s\n py: %s", s, got, wants[i])
		}
	}
}
