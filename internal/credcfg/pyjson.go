package credcfg

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// This file reproduces the bytes of Python's json.dumps(obj, indent=2) with
// its defaults (ensure_ascii=True, separators (",", ": ") once indent is
// set, insertion order), which is how gcloud writes credential configs:
//
//   - two-space indentation, "key": value, no trailing newline;
//   - only \" \\ \b \f \n \r \t have short escapes; every other byte outside
//     printable ASCII (0x20..0x7e), DEL included, becomes \u00XX with
//     lowercase hex, and characters above U+FFFF become surrogate pairs;
//   - '/', '&', '<' and '>' are written as they are (Go's encoding/json
//     would escape the last three).

// member is one key of an ordered JSON object. value is a string, an int
// or an object.
type member struct {
	key   string
	value any
}

type object []member

func (o *object) add(key string, value any) { *o = append(*o, member{key, value}) }

// dumps renders v as Python's json.dumps(v, indent=2).
func dumps(v object) []byte {
	var b strings.Builder
	writeValue(&b, v, 0)
	return []byte(b.String())
}

func writeValue(b *strings.Builder, v any, depth int) {
	switch v := v.(type) {
	case string:
		writeString(b, v)
	case int:
		b.WriteString(strconv.Itoa(v))
	case bool:
		b.WriteString(strconv.FormatBool(v)) // Python's true/false
	case object:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{")
		for i, m := range v {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n")
			indent(b, depth+1)
			writeString(b, m.key)
			b.WriteString(": ")
			writeValue(b, m.value, depth+1)
		}
		b.WriteString("\n")
		indent(b, depth)
		b.WriteString("}")
	default:
		panic("credcfg: unsupported JSON value") // unreachable: only this package builds objects
	}
}

func indent(b *strings.Builder, depth int) {
	for range depth {
		b.WriteString("  ")
	}
}

const hexDigits = "0123456789abcdef"

// writeString writes s as Python's ensure_ascii encoder does. s must be
// valid UTF-8 (Validate guarantees it; an invalid byte would be written as
// U+FFFD).
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				writeU(b, hi)
				writeU(b, lo)
			default:
				writeU(b, r)
			}
		}
	}
	b.WriteByte('"')
}

func writeU(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	b.WriteByte(hexDigits[r>>12&0xf])
	b.WriteByte(hexDigits[r>>8&0xf])
	b.WriteByte(hexDigits[r>>4&0xf])
	b.WriteByte(hexDigits[r&0xf])
}
