package awsreq

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	suiteAKID   = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// parseRawRequest reads the suites' request text: "METHOD target HTTP/1.1",
// "Name:value" lines (continuation lines joined with one space, as
// net/textproto does), a blank line, the body. The target may contain spaces.
func parseRawRequest(t testing.TB, text string) SignedRequest {
	t.Helper()
	text = strings.ReplaceAll(text, "\r\n", "\n")
	head, body, _ := strings.Cut(text, "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	if !sc.Scan() {
		t.Fatal("empty request")
	}
	line := sc.Text()
	method, target, ok := strings.Cut(line, " ")
	target, ok2 := strings.CutSuffix(target, " HTTP/1.1")
	if !ok || !ok2 {
		t.Fatalf("bad request line %q", line)
	}
	path, query, _ := strings.Cut(target, "?")
	r := SignedRequest{Method: method, Path: path, RawQuery: query, Headers: http.Header{}, Body: []byte(body)}
	var lastKey string
	for sc.Scan() {
		l := sc.Text()
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			vs := r.Headers[lastKey]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("bad header line %q", l)
		}
		lastKey = http.CanonicalHeaderKey(k)
		v = strings.Trim(v, " \t")
		if lastKey == "Host" {
			r.Host = v
			continue // net/http moves Host out of the header map
		}
		r.Headers[lastKey] = append(r.Headers[lastKey], v)
	}
	return r
}

func errorsAs(err error, target **Error) bool { return errors.As(err, target) }
