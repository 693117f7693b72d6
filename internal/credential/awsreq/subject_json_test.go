package awsreq

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keylessdev/keyless/internal/strictjson"
)

// TestParseSubjectTokenShape pins each JSON shape rule to the error it
// produces, so a rule cannot silently stop firing behind another one.
func TestParseSubjectTokenShape(t *testing.T) {
	t.Parallel()
	const u = `"url":"https://sts.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"`
	tok := func(members string) string { return "{" + members + "}" }
	hdrs := func(entries ...string) string {
		return `,"method":"POST","headers":[` + strings.Join(entries, ",") + `]`
	}
	tests := []struct {
		name, tok string
		want      string // substring of the error text
		is        error  // optional errors.Is target
	}{
		{"unknown member", tok(u + hdrs() + `,"foo":1`), "unknown member foo", nil},
		{"empty member name", tok(u + hdrs() + `,"":1`), "unknown member", nil},
		{"unknown members sorted", tok(`"zz":1,` + u + hdrs() + `,"aa":1,"mm":1`), "unknown member aa", nil},
		{"unknown member deep", tok(u + hdrs() + `,"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40)), "nesting too deep", strictjson.ErrTooDeep},
		{"missing url", tok(hdrs()[1:]), "needs url, method and headers", nil},
		{"missing method", tok(u + `,"headers":[]`), "needs url, method and headers", nil},
		{"missing headers", tok(u + `,"method":"POST"`), "needs url, method and headers", nil},
		{"url number", tok(`"url":1` + hdrs()), "member url is not a string", nil},
		{"url null", tok(`"url":null` + hdrs()), "member url is not a string", nil},
		{"method array", tok(u + `,"method":["POST"],"headers":[]`), "member method is not a string", nil},
		{"body null", tok(u + hdrs() + `,"body":null`), "member body is not a string", nil},
		{"body object", tok(u + hdrs() + `,"body":{}`), "member body is not a string", nil},
		{"headers object", tok(u + `,"method":"POST","headers":{"key":"a","value":"b"}`), "headers is not an array", nil},
		{"headers string", tok(u + `,"method":"POST","headers":"a: b"`), "headers is not an array", nil},
		{"entry string", tok(u + hdrs(`"Host: x"`)), "header entry is not an object", nil},
		{"entry array", tok(u + hdrs(`["Host","x"]`)), "header entry is not an object", nil},
		{"entry null", tok(u + hdrs(`null`)), "header entry is not an object", nil},
		{"entry extra", tok(u + hdrs(`{"key":"a","value":"b","x":"y"}`)), "unknown header member x", nil},
		{"entry empty member name", tok(u + hdrs(`{"key":"a","":"","value":"b"}`)), "unknown header member", nil},
		{"entry no key", tok(u + hdrs(`{"value":"b"}`)), "needs key and value", nil},
		{"entry no value", tok(u + hdrs(`{"key":"a"}`)), "needs key and value", nil},
		{"key number", tok(u + hdrs(`{"key":1,"value":"b"}`)), "member key is not a string", nil},
		{"value null", tok(u + hdrs(`{"key":"a","value":null}`)), "member value is not a string", nil},
		{"value number", tok(u + hdrs(`{"key":"a","value":1}`)), "member value is not a string", nil},
		{"key empty", tok(u + hdrs(`{"key":"","value":"b"}`)), "invalid header name", nil},
		{"key space", tok(u + hdrs(`{"key":"Bad Name","value":"b"}`)), "invalid header name", nil},
		{"key colon", tok(u + hdrs(`{"key":"Host:","value":"b"}`)), "invalid header name", nil},
		{"key too long", tok(u + hdrs(`{"key":"`+strings.Repeat("a", 257)+`","value":"b"}`)), "invalid header name", nil},
		{"value CRLF", tok(u + hdrs(`{"key":"a","value":"b\r\nX-Evil: 1"}`)), "invalid header value for a", nil},
		{"value NUL", tok(u + hdrs(`{"key":"a","value":"b\u0000"}`)), "invalid header value for a", nil},
		{"value tab", tok(u + hdrs(`{"key":"a","value":"b\tc"}`)), "invalid header value for a", nil},
		{"value DEL", tok(u + hdrs(`{"key":"a","value":"b\u007f"}`)), "invalid header value for a", nil},
		{"value too long", tok(u + hdrs(`{"key":"a","value":"`+strings.Repeat("v", 8<<10+1)+`"}`)), "invalid header value for a", nil},
		{"header case twin", tok(u + hdrs(`{"key":"Host","value":"a"}`, `{"key":"hOST","value":"a"}`)), "duplicate header hOST", nil},
		{"duplicate url", tok(u + hdrs() + `,` + u), "duplicate member name", strictjson.ErrDuplicateMember},
		{"duplicate url escaped", tok(u + hdrs() + `,"\u0075rl":"https://evil.example"`), "duplicate member name", strictjson.ErrDuplicateMember},
		{"duplicate in entry", tok(u + hdrs(`{"key":"a","key":"b","value":"c"}`)), "duplicate member name", strictjson.ErrDuplicateMember},
		{"invalid utf8", tok(u + hdrs(`{"key":"a","value":"`+"\xc3"+`"}`)), "invalid UTF-8", strictjson.ErrInvalidUTF8},
		{"trailing", tok(u+hdrs()) + `{}`, "trailing data", strictjson.ErrTrailingData},
		{"not an object", `["x"]`, "not a JSON object", nil},
		{"bad url", tok(`"url":"https://a b:x"` + hdrs()), "invalid url", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, in := range []string{tc.tok, url.QueryEscape(tc.tok)} {
				_, err := ParseSubjectToken(in)
				if StageOf(err) != StageFormat || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want format error containing %q", err, tc.want)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Fatalf("got %v, want errors.Is %v", err, tc.is)
				}
			}
		})
	}
}

// TestParseSubjectTokenKeepsOrder: RawHeaders keep the client's order and
// spelling; Headers are canonical; a non-ASCII header value and a body are kept.
func TestParseSubjectTokenKeepsOrder(t *testing.T) {
	t.Parallel()
	for _, client := range []string{"python", "go", "node"} {
		s := newSpec(client, tokenNow).set("X-Amz-Content-Sha256", emptySHA256Hex)
		g, err := ParseSubjectToken(s.build(t))
		if err != nil {
			t.Fatalf("%s: %v", client, err)
		}
		if len(g.RawHeaders) != len(s.headers)+1 || !strings.EqualFold(g.RawHeaders[0].Key, "Authorization") {
			t.Fatalf("%s: RawHeaders %+v", client, g.RawHeaders)
		}
		for i, h := range s.headers {
			if g.RawHeaders[i+1] != h {
				t.Fatalf("%s: RawHeaders[%d] = %+v, want %+v", client, i+1, g.RawHeaders[i+1], h)
			}
			if got := g.Headers[http.CanonicalHeaderKey(h.Key)]; len(got) != 1 || got[0] != h.Value {
				t.Fatalf("%s: Headers[%s] = %q", client, h.Key, got)
			}
		}
	}
	body := "Action=GetCallerIdentity"
	s := newSpec("node", tokenNow).set("X-Note", "caf\u00e9 \u2713")
	s.body = &body
	g, err := ParseSubjectToken(s.build(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(g.Body) != body || g.Headers.Get("X-Note") != "caf\u00e9 \u2713" {
		t.Fatalf("body %q, X-Note %q", g.Body, g.Headers.Get("X-Note"))
	}
}
