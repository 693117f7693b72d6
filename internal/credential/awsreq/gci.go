package awsreq

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxResponseSize bounds a GetCallerIdentity answer.
const MaxResponseSize = 64 << 10

const stsXMLNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// CallerIdentity is the GetCallerIdentity result.
type CallerIdentity struct {
	Arn     string
	Account string // 12 digits, leading zeros kept
	UserID  string
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	// arn:partition:(sts|iam)::account:resource
	arnRe = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:(?:sts|iam)::([0-9]{12}):[\x21-\x7e]+$`)
)

// ParseGetCallerIdentityResponse parses the STS answer, XML
// (GetCallerIdentityResponse/GetCallerIdentityResult/{Arn,UserId,Account}) or
// its JSON form ({"GetCallerIdentityResponse":{"GetCallerIdentityResult":
// {...}}}). Arn, UserId and Account must appear exactly once; duplicates of
// any known element, DTDs, entities other than XML's five, non-text content
// inside the fields and trailing data are refused. Unknown sibling elements
// (e.g. ResponseMetadata) are skipped. The Arn's account must equal Account.
func ParseGetCallerIdentityResponse(body []byte) (*CallerIdentity, error) {
	if len(body) > MaxResponseSize {
		return nil, fail(StageResponse, "response too large")
	}
	if !utf8.Valid(body) {
		return nil, fail(StageResponse, "response is not UTF-8")
	}
	trimmed := bytes.TrimSpace(body)
	var id *CallerIdentity
	var err error
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		id, err = parseGCIJSON(trimmed)
	case len(trimmed) > 0 && trimmed[0] == '<':
		id, err = parseGCIXML(trimmed)
	default:
		err = errors.New("neither XML nor JSON")
	}
	if err != nil {
		return nil, &Error{Stage: StageResponse, Detail: "invalid GetCallerIdentity response", Err: err}
	}
	if err := id.validate(); err != nil {
		return nil, err
	}
	return id, nil
}

func (id *CallerIdentity) validate() error {
	if !accountRe.MatchString(id.Account) {
		return fail(StageResponse, "Account must be 12 digits")
	}
	m := arnRe.FindStringSubmatch(id.Arn)
	if m == nil || len(id.Arn) > 2048 {
		return fail(StageResponse, "malformed Arn")
	}
	if m[1] != id.Account {
		return fail(StageResponse, "Arn account differs from Account")
	}
	if id.UserID == "" || len(id.UserID) > 256 || !allBytes(id.UserID, func(c byte) bool { return c > 0x20 && c < 0x7f }) {
		return fail(StageResponse, "malformed UserId")
	}
	return nil
}

// fieldSet collects the three fields, refusing duplicates.
type fieldSet struct {
	id   CallerIdentity
	seen map[string]bool
}

func (f *fieldSet) set(name, v string) (bool, error) {
	var dst *string
	switch name {
	case "Arn":
		dst = &f.id.Arn
	case "UserId":
		dst = &f.id.UserID
	case "Account":
		dst = &f.id.Account
	default:
		return false, nil
	}
	if f.seen[name] {
		return true, errors.New("duplicate " + name)
	}
	f.seen[name] = true
	*dst = v
	return true, nil
}

func (f *fieldSet) complete() (*CallerIdentity, error) {
	if len(f.seen) != 3 {
		return nil, errors.New("Arn, UserId and Account are required")
	}
	return &f.id, nil
}

func parseGCIXML(data []byte) (*CallerIdentity, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	// No Entity map and no CharsetReader: unknown entities and non-UTF-8
	// encodings are errors.
	root, err := nextStart(dec, true)
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "GetCallerIdentityResponse" || !okNamespace(root.Name.Space) {
		return nil, errors.New("root element must be GetCallerIdentityResponse")
	}
	fields := fieldSet{seen: map[string]bool{}}
	haveResult := false
	for {
		el, err := nextStart(dec, false)
		if err != nil {
			return nil, err
		}
		if el == nil {
			break // end of root
		}
		if el.Name.Local != "GetCallerIdentityResult" {
			if err := skipElement(dec); err != nil {
				return nil, err
			}
			continue
		}
		if haveResult {
			return nil, errors.New("duplicate GetCallerIdentityResult")
		}
		haveResult = true
		for {
			f, err := nextStart(dec, false)
			if err != nil {
				return nil, err
			}
			if f == nil {
				break
			}
			text, err := elementText(dec)
			if err != nil {
				return nil, err
			}
			if _, err := fields.set(f.Name.Local, text); err != nil {
				return nil, err
			}
		}
	}
	// Only whitespace, comments and processing-free trailing data allowed.
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := allowedMisc(tok); err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.StartElement); ok {
			return nil, errors.New("data after the root element")
		}
	}
	return fields.complete()
}

func okNamespace(ns string) bool { return ns == "" || ns == stsXMLNamespace }

// allowedMisc refuses DTDs and processing instructions other than the XML
// declaration, and non-blank character data outside elements.
func allowedMisc(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.Directive:
		return errors.New("DTDs and directives are not allowed")
	case xml.ProcInst:
		if t.Target != "xml" {
			return errors.New("processing instructions are not allowed")
		}
	case xml.CharData:
		if len(bytes.TrimSpace(t)) != 0 {
			return errors.New("unexpected text")
		}
	}
	return nil
}

// nextStart returns the next child start element, or nil at the parent's end
// element (or, with top set, the root element).
func nextStart(dec *xml.Decoder, top bool) (*xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil, errors.New("unexpected end of document")
			}
			return nil, err
		}
		if err := allowedMisc(tok); err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.EndElement:
			if top {
				return nil, errors.New("unexpected end element")
			}
			return nil, nil
		}
	}
}

// elementText reads text up to the element's end; nested elements are refused.
func elementText(dec *xml.Decoder) (string, error) {
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return strings.TrimSpace(b.String()), nil
		case xml.Comment:
		case xml.StartElement:
			return "", errors.New("unexpected element inside " + t.Name.Local)
		default:
			if err := allowedMisc(tok); err != nil {
				return "", err
			}
			return "", errors.New("unexpected content")
		}
	}
}

// skipElement consumes an unknown element, still refusing directives.
func skipElement(dec *xml.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.Directive, xml.ProcInst:
			return errors.New("directives are not allowed")
		}
	}
	return nil
}

func parseGCIJSON(data []byte) (*CallerIdentity, error) {
	dec := newStrictDecoder(data)
	fields := fieldSet{seen: map[string]bool{}}
	haveResp, haveResult := false, false
	err := decodeObject(dec, func(name string) error {
		if name != "GetCallerIdentityResponse" {
			return skipValue(dec)
		}
		haveResp = true
		return decodeObject(dec, func(name string) error {
			if name != "GetCallerIdentityResult" {
				return skipValue(dec)
			}
			haveResult = true
			return decodeObject(dec, func(name string) error {
				switch name {
				case "Arn", "UserId", "Account":
					v, err := decodeString(dec)
					if err != nil {
						return err
					}
					_, err = fields.set(name, v)
					return err
				}
				return skipValue(dec)
			})
		})
	})
	if err == nil {
		err = expectEOF(dec)
	}
	if err != nil {
		return nil, err
	}
	if !haveResp || !haveResult {
		return nil, errors.New("GetCallerIdentityResponse/GetCallerIdentityResult required")
	}
	return fields.complete()
}
