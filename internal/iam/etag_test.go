package iam

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNewEtag(t *testing.T) {
	t.Parallel()
	src := bytes.NewReader([]byte{0x07, 0x05, 0xfe, 0xff, 0x0f, 0xfb, 0xef, 0xbe, 1, 2, 3, 4, 99})
	got, err := NewEtag(src)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.StdEncoding.EncodeToString([]byte{0x07, 0x05, 0xfe, 0xff, 0x0f, 0xfb, 0xef, 0xbe, 1, 2, 3, 4}); got != want {
		t.Errorf("NewEtag = %q, want %q", got, want)
	}
	if _, err := NewEtag(iotest.ErrReader(errors.New("boom"))); err == nil {
		t.Error("NewEtag ignored a read error")
	}
	if _, err := NewEtag(bytes.NewReader(make([]byte, etagBytes-1))); err == nil {
		t.Error("NewEtag accepted a short read")
	}
	a, _ := NewEtag(rand.Reader)
	b, _ := NewEtag(rand.Reader)
	if a == b || EtagEqual(a, b) {
		t.Errorf("two fresh etags are equal: %q %q", a, b)
	}
	if !EtagEqual(a, a) {
		t.Errorf("etag %q not equal to itself", a)
	}
}

func TestEtagEqual(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b string
		want bool
	}{
		{"BwX+/w8=", "BwX+/w8=", true},
		{"BwX+/w8=", "BwX-_w8=", true}, // gcloud's URL-safe re-encoding
		{"BwX+/w8=", "BwX-_w8", true},  // padding optional
		{"BwX+/w8", "BwX+/w8=", true},
		{"BwX-_w8", "BwX+/w8", true},
		{"BwX+/w8=", "BwX+/w9=", false},
		{"BwX+/w8=", "BwX+/w8A", false},
		{"AAAAAAAAAAA=", "AAAAAAAAAAAA", false}, // 8 vs 9 bytes
		{"", "", false},
		{"", "BwX+/w8=", false},
		{"BwX+/w8=", "", false},
		{`W/"opaque-etag-42"`, `W/"opaque-etag-42"`, false},
		{"W_opaque-etag-42", "W_opaque-etag-42", true}, // decodes: gcloud's mangled form is still base64
		{"BwX+/w8==", "BwX+/w8=", false},
		{"BwX+/w8=", "BwX+/w8=\n", false},
		{"BwX+/w8=", "BwX+\r/w8=", false},
		{"\r", "\n", false},
		{"Bw=X+/w8", "Bw=X+/w8", false},
		{"BwX+/w9=", "BwX+/w9=", false}, // non-canonical trailing bits
		{strings.Repeat("A", 132), strings.Repeat("A", 132), false},
	}
	for _, tc := range cases {
		if got := EtagEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("EtagEqual(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDecodeEtag(t *testing.T) {
	t.Parallel()
	b, err := DecodeEtag("BwX-_w8")
	if err != nil || !bytes.Equal(b, []byte{0x07, 0x05, 0xfe, 0xff, 0x0f}) {
		t.Errorf("DecodeEtag = %x, %v", b, err)
	}
	for _, in := range []string{"", "\r", "\r\n", "=", "==", "A", "A===", "AA=", "**", "AAAA\n", "AA\rAA", "AA AA", strings.Repeat("A", 200)} {
		if _, err := DecodeEtag(in); !errors.Is(err, ErrInvalidEtag) {
			t.Errorf("DecodeEtag(%q) = %v, want ErrInvalidEtag", in, err)
		}
	}
}
