package aws

import (
	"bytes"
	"encoding/xml"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The reference: the encoding/xml-based writers the direct writer replaced,
// kept verbatim (types renamed) so the two can be compared differentially.

type refCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type refAssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type refResponseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type refARWWIResponse struct {
	XMLName xml.Name `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Credentials                 refCredentials     `xml:"Credentials"`
		SubjectFromWebIdentityToken string             `xml:"SubjectFromWebIdentityToken"`
		AssumedRoleUser             refAssumedRoleUser `xml:"AssumedRoleUser"`
		Provider                    string             `xml:"Provider"`
		Audience                    string             `xml:"Audience"`
		SourceIdentity              string             `xml:"SourceIdentity,omitempty"`
		PackedPolicySize            *int               `xml:"PackedPolicySize,omitempty"`
	} `xml:"AssumeRoleWithWebIdentityResult"`
	ResponseMetadata refResponseMetadata `xml:"ResponseMetadata"`
}

type refGCIResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	ResponseMetadata refResponseMetadata `xml:"ResponseMetadata"`
}

type refErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func refWriteAssumeRoleWithWebIdentity(w http.ResponseWriter, res AssumeRoleWithWebIdentityResult, requestID string) {
	c := res.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" || c.Expiration.IsZero() || res.Arn == "" {
		refWriteError(w, NewError(CodeInternalFailure, "The request processing has failed because of an unknown error, exception or failure."), requestID)
		return
	}
	var doc refARWWIResponse
	doc.Xmlns = Namespace
	doc.Result.Credentials = refCredentials{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, FormatExpiration(c.Expiration)}
	doc.Result.SubjectFromWebIdentityToken = res.SubjectFromWebIdentityToken
	doc.Result.AssumedRoleUser = refAssumedRoleUser{res.AssumedRoleID, res.Arn}
	doc.Result.Provider = res.Provider
	doc.Result.Audience = res.Audience
	doc.Result.SourceIdentity = res.SourceIdentity
	doc.Result.PackedPolicySize = res.PackedPolicySize
	doc.ResponseMetadata.RequestID = requestID
	refWriteXML(w, http.StatusOK, doc, requestID)
}

func refWriteGetCallerIdentity(w http.ResponseWriter, id CallerIdentity, requestID string) {
	if id.UserID == "" || id.Account == "" || id.Arn == "" {
		refWriteError(w, NewError(CodeInternalFailure, "The request processing has failed because of an unknown error, exception or failure."), requestID)
		return
	}
	var doc refGCIResponse
	doc.Xmlns = Namespace
	doc.Result.Arn, doc.Result.UserID, doc.Result.Account = id.Arn, id.UserID, id.Account
	doc.ResponseMetadata.RequestID = requestID
	refWriteXML(w, http.StatusOK, doc, requestID)
}

func refWriteError(w http.ResponseWriter, e Error, requestID string) {
	var doc refErrorResponse
	doc.Xmlns = Namespace
	doc.Error.Type = "Receiver"
	if e.Sender {
		doc.Error.Type = "Sender"
	}
	doc.Error.Code = e.Code
	doc.Error.Message = e.Message
	doc.RequestID = requestID
	refWriteXML(w, e.HTTPStatus(), doc, requestID)
}

func refWriteXML(w http.ResponseWriter, status int, doc any, requestID string) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	buf.WriteByte('\n')
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h["x-amzn-RequestId"] = []string{requestID}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// sameResponse runs the direct writer and the reference on fresh recorders
// and reports any difference in status, headers or body.
func sameResponse(t *testing.T, what string, direct, ref func(http.ResponseWriter)) {
	t.Helper()
	got, want := httptest.NewRecorder(), httptest.NewRecorder()
	direct(got)
	ref(want)
	if got.Code != want.Code {
		t.Errorf("%s: status %d, reference %d", what, got.Code, want.Code)
	}
	if diff := cmp.Diff(want.Header(), got.Header()); diff != "" {
		t.Errorf("%s: headers (-reference +direct):\n%s", what, diff)
	}
	if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
		t.Errorf("%s: body differs\ndirect:    %q\nreference: %q", what, got.Body.Bytes(), want.Body.Bytes())
	}
}

// checkAllWriters compares the three writers against the reference with the
// given field values spread over every text field.
func checkAllWriters(t *testing.T, f [10]string, reqID string, exp time.Time, pps *int, e Error) {
	t.Helper()
	res := AssumeRoleWithWebIdentityResult{
		Credentials:                 Credentials{AccessKeyID: f[0], SecretAccessKey: f[1], SessionToken: f[2], Expiration: exp},
		SubjectFromWebIdentityToken: f[3], Audience: f[4], Provider: f[5], AssumedRoleID: f[6], Arn: f[7],
		SourceIdentity: f[8], PackedPolicySize: pps,
	}
	sameResponse(t, "ARWWI",
		func(w http.ResponseWriter) { WriteAssumeRoleWithWebIdentity(w, res, reqID) },
		func(w http.ResponseWriter) { refWriteAssumeRoleWithWebIdentity(w, res, reqID) })
	id := CallerIdentity{UserID: f[9], Account: f[4], Arn: f[7]}
	sameResponse(t, "GCI",
		func(w http.ResponseWriter) { WriteGetCallerIdentity(w, id, reqID) },
		func(w http.ResponseWriter) { refWriteGetCallerIdentity(w, id, reqID) })
	sameResponse(t, "Error",
		func(w http.ResponseWriter) { WriteError(w, e, reqID) },
		func(w http.ResponseWriter) { refWriteError(w, e, reqID) })
}

// xmlPieces are fragments that exercise every branch of the escaper.
var xmlPieces = []string{
	"a", "Z", "0", " ", "=", "/", ":", "+", "]]>", "<!--", "&amp;", "&#x0;",
	"&", "<", ">", `"`, "'", "\t", "\n", "\r", "\r\n",
	"\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f",
	"\x80", "\xbf", "\xc0", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xff", "\xfe",
	"\xed\xa0\x80", "\xed\xbf\xbf", // encoded surrogates: invalid UTF-8
	"\xc0\xaf", "\xf4\x90\x80\x80", // overlong and above U+10FFFF
	"é", "ÿ", "\u0085", "\u00a0", "\u2028", "\ud7ff", "\ue000",
	"\ufffd", "\ufffe", "\uffff", "\U00010000", "\U0001F600", "\U0010FFFF",
}

func randomText(r *rand.Rand) string {
	var b strings.Builder
	switch r.IntN(60) {
	case 0, 1, 2, 3:
		return ""
	case 4, 5, 6, 7: // random bytes
		n := r.IntN(64)
		for range n {
			b.WriteByte(byte(r.UintN(256)))
		}
		return b.String()
	case 8: // long, mostly plain with sparse specials
		n := 1<<15 + r.IntN(1<<17)
		for b.Len() < n {
			if r.IntN(200) == 0 {
				b.WriteString(xmlPieces[r.IntN(len(xmlPieces))])
			} else {
				b.WriteByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="[r.IntN(65)])
			}
		}
		return b.String()
	default:
		n := r.IntN(24)
		for range n {
			b.WriteString(xmlPieces[r.IntN(len(xmlPieces))])
		}
		return b.String()
	}
}

func TestXMLWriterMatchesEncodingXMLRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20261123, 1))
	n := 600
	if testing.Short() {
		n = 100
	}
	for i := range n {
		var f [10]string
		for j := range f {
			f[j] = randomText(r)
		}
		// Mostly complete results, so the success documents are compared too.
		if r.IntN(4) != 0 {
			for _, j := range []int{0, 1, 2, 7, 9, 4} {
				if f[j] == "" {
					f[j] = "x"
				}
			}
		}
		exp := time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(2e9)).In(time.FixedZone("z", r.IntN(100000)-50000))
		if r.IntN(20) == 0 {
			exp = time.Time{}
		}
		var pps *int
		if r.IntN(2) == 0 {
			v := int(r.Int64()) - r.IntN(1000)
			pps = &v
		}
		e := Error{Code: randomText(r), Message: randomText(r), Sender: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			e.Status = 100 + r.IntN(500)
		}
		checkAllWriters(t, f, randomText(r), exp, pps, e)
		if t.Failed() {
			t.Fatalf("iteration %d", i)
		}
	}
}

// TestXMLWriterMatchesEncodingXMLPieces puts every fragment, alone and twice,
// into every field (TestAppendXMLTextMatchesEscapeText tries all pairs).
func TestXMLWriterMatchesEncodingXMLPieces(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 22, 22, 14, 43, 5, time.UTC)
	zero := 0
	for _, a := range xmlPieces {
		for _, s := range []string{a, a + a} {
			var f [10]string
			for j := range f {
				f[j] = s
			}
			checkAllWriters(t, f, s, exp, &zero, NewError(s, s))
		}
	}
	// Expirations outside four-digit years and empty optional fields.
	for _, exp := range []time.Time{
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0), time.Unix(1<<40, 999999999),
	} {
		f := [10]string{"k", "s", "t", "", "", "", "", "arn", "", "u"}
		checkAllWriters(t, f, "", exp, nil, Error{})
	}
}

// TestAppendXMLTextMatchesEscapeText checks the escaper alone against
// xml.EscapeText over every rune boundary case and every single byte.
func TestAppendXMLTextMatchesEscapeText(t *testing.T) {
	t.Parallel()
	check := func(s string) {
		var want bytes.Buffer
		if err := xml.EscapeText(&want, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if got := appendXMLText([]byte("prefix"), s); string(got) != "prefix"+want.String() {
			t.Fatalf("appendXMLText(%q) = %q, want %q", s, got[len("prefix"):], want.Bytes())
		}
	}
	for c := range 256 {
		check(string([]byte{byte(c)}))
		check("ab" + string([]byte{byte(c)}) + "cd")
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r > 0x3000 && r < 0xD700 && r%97 != 0 {
			continue // thin out the plain BMP range
		}
		if r > 0x10100 && r < 0x10FF00 && r%997 != 0 {
			continue
		}
		check(string(r))
	}
	for _, a := range xmlPieces {
		for _, b := range xmlPieces {
			check(a + b)
		}
	}
}

// TestDocumentSizing checks that the size estimates cover documents whose
// fields need no escaping, so the writers allocate the body once.
func TestDocumentSizing(t *testing.T) {
	t.Parallel()
	size := 123
	res := fixedResult()
	res.SourceIdentity = "alice@example.com"
	res.PackedPolicySize = &size
	res.Credentials.SessionToken = strings.Repeat("Q", 1500)
	if b := appendARWWI(nil, res, reqID); len(b) > arwwiSize(res, reqID) {
		t.Errorf("ARWWI: %d bytes, estimate %d", len(b), arwwiSize(res, reqID))
	}
	id := CallerIdentity{UserID: "AROAKEYLESSROLEEXAMPLE:demo", Account: "012345678901", Arn: "arn:aws:sts::012345678901:assumed-role/keyless-role/demo"}
	if b := appendGCI(nil, id, reqID); len(b) > gciSize(id, reqID) {
		t.Errorf("GCI: %d bytes, estimate %d", len(b), gciSize(id, reqID))
	}
	e := NewError(CodeValidationError, strings.Repeat("m", 300))
	if b := appendErrorDoc(nil, e, reqID); len(b) > errorSize(e, reqID) {
		t.Errorf("Error: %d bytes, estimate %d", len(b), errorSize(e, reqID))
	}
	// Escaping may outgrow the estimate; append must still produce the document.
	e.Message = strings.Repeat("'", 300)
	if b := appendErrorDoc(nil, e, reqID); !bytes.Contains(b, []byte(strings.Repeat("&#39;", 300))) {
		t.Errorf("escaped message lost: %q", b)
	}
}

func FuzzXMLWriterMatchesEncodingXML(f *testing.F) {
	res := fixedResult()
	f.Add(res.Credentials.AccessKeyID, res.Credentials.SecretAccessKey, res.Credentials.SessionToken,
		res.SubjectFromWebIdentityToken, res.Audience, res.Provider, res.AssumedRoleID, res.Arn, "alice@example.com",
		"AROAKEYLESSROLEEXAMPLE:demo", reqID, int64(1795385683), int64(987654321), 3600, 6, true, false, true, 0)
	f.Add("k", "s", "t", "<a&b>\"'", "\t\n\r", "\x00\x1f\x7f", "\xff\xfe", "\ufffe\uffff\ufffd", "\xed\xa0\x80",
		"]]>", "", int64(0), int64(0), 0, 0, false, false, false, 403)
	f.Add("", "", "", "", "", "", "", "", "", "", "id", int64(-62135596800), int64(0), 0, -1, true, true, true, 0)
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g, h, i, j, k, reqID string, sec, nsec int64, off, pps int,
		hasPPS, zeroExp, sender bool, status int) {
		exp := time.Unix(sec, nsec).In(time.FixedZone("z", off%100000))
		if zeroExp {
			exp = time.Time{}
		}
		var p *int
		if hasPPS {
			p = &pps
		}
		werr := Error{Code: j, Message: k + d, Sender: sender}
		if status != 0 {
			werr.Status = 100 + (status%500+500)%500
		}
		checkAllWriters(t, [10]string{a, b, c, d, e, g, h, i, j, k}, reqID, exp, p, werr)
	})
}

// discardWriter is a ResponseWriter that keeps headers and drops the body, so
// the benchmarks measure the writers rather than a recorder.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func benchWriters(b *testing.B, direct, ref func(http.ResponseWriter)) {
	for _, bc := range []struct {
		name  string
		write func(http.ResponseWriter)
	}{{"direct", direct}, {"encoding-xml", ref}} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				bc.write(w)
			}
			b.SetBytes(int64(w.n / b.N))
		})
	}
}

func benchResult() AssumeRoleWithWebIdentityResult {
	res := fixedResult()
	res.Credentials.SessionToken = strings.Repeat("IQoJb3JpZ2luX2VjEKeylessSessionToken/+=", 12)
	return res
}

func BenchmarkWriteAssumeRoleWithWebIdentity(b *testing.B) {
	res := benchResult()
	benchWriters(b,
		func(w http.ResponseWriter) { WriteAssumeRoleWithWebIdentity(w, res, reqID) },
		func(w http.ResponseWriter) { refWriteAssumeRoleWithWebIdentity(w, res, reqID) })
}

func BenchmarkWriteGetCallerIdentity(b *testing.B) {
	id := CallerIdentity{UserID: "AROAKEYLESSROLEEXAMPLE:demo", Account: "012345678901", Arn: "arn:aws:sts::012345678901:assumed-role/keyless-role/demo"}
	benchWriters(b,
		func(w http.ResponseWriter) { WriteGetCallerIdentity(w, id, reqID) },
		func(w http.ResponseWriter) { refWriteGetCallerIdentity(w, id, reqID) })
}

func BenchmarkWriteError(b *testing.B) {
	e := NewError(CodeValidationError, "1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	benchWriters(b,
		func(w http.ResponseWriter) { WriteError(w, e, reqID) },
		func(w http.ResponseWriter) { refWriteError(w, e, reqID) })
}

// TestWriteXMLHeaderValuesIndependent checks that the header values, which
// share one backing array, do not overwrite each other when extended.
func TestWriteXMLHeaderValuesIndependent(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	WriteError(rec, NewError(CodeAccessDenied, "no"), reqID)
	h := rec.Header()
	wantLen := h.Get("Content-Length")
	h.Add("Content-Type", "a")
	h.Add("Content-Length", "b")
	h.Add("Cache-Control", "c")
	want := http.Header{
		"Content-Type": {"text/xml", "a"}, "Content-Length": {wantLen, "b"},
		"Cache-Control": {"no-store", "c"}, "x-amzn-RequestId": {reqID},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}
