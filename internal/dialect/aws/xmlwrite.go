package aws

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The STS documents are written by appending their fixed structure to one
// pre-sized buffer. The bytes are exactly those encoding/xml's Encoder with
// Indent("", "  ") produced for the documents' former struct types (and a
// trailing newline): elements holding text stay on one line, each nesting
// level is indented by two spaces, and empty fields are written as
// <Name></Name>. xmlwrite_test.go keeps the encoding/xml version and checks
// the two against each other.

// escapeAllowance is room for a few escapes before append must grow the buffer.
const escapeAllowance = 32

const internalFailureMsg = "The request processing has failed because of an unknown error, exception or failure."

// Element structure: one constant per run of markup between text fields.
const xmlnsAttr = ` xmlns="` + Namespace + `">`

const (
	arwwiOpen = "<AssumeRoleWithWebIdentityResponse" + xmlnsAttr +
		"\n  <AssumeRoleWithWebIdentityResult>\n    <Credentials>\n      <AccessKeyId>"
	arwwiSecret      = "</AccessKeyId>\n      <SecretAccessKey>"
	arwwiSession     = "</SecretAccessKey>\n      <SessionToken>"
	arwwiExpiration  = "</SessionToken>\n      <Expiration>"
	arwwiSubject     = "</Expiration>\n    </Credentials>\n    <SubjectFromWebIdentityToken>"
	arwwiRoleID      = "</SubjectFromWebIdentityToken>\n    <AssumedRoleUser>\n      <AssumedRoleId>"
	arwwiArn         = "</AssumedRoleId>\n      <Arn>"
	arwwiProvider    = "</Arn>\n    </AssumedRoleUser>\n    <Provider>"
	arwwiAudience    = "</Provider>\n    <Audience>"
	arwwiAudienceEnd = "</Audience>"
	arwwiSourceID    = "\n    <SourceIdentity>"
	arwwiSourceIDEnd = "</SourceIdentity>"
	arwwiPacked      = "\n    <PackedPolicySize>"
	arwwiPackedEnd   = "</PackedPolicySize>"
	arwwiRequestID   = "\n  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>\n    <RequestId>"
	arwwiClose       = "</RequestId>\n  </ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n"

	arwwiFixedLen = len(arwwiOpen+arwwiSecret+arwwiSession+arwwiExpiration+arwwiSubject+arwwiRoleID+
		arwwiArn+arwwiProvider+arwwiAudience+arwwiAudienceEnd+arwwiRequestID+arwwiClose) + len(ExpirationLayout)
	// 20: the digits and sign of an int64.
	arwwiOptionalLen = len(arwwiSourceID+arwwiSourceIDEnd+arwwiPacked+arwwiPackedEnd) + 20
)

const (
	gciOpen      = "<GetCallerIdentityResponse" + xmlnsAttr + "\n  <GetCallerIdentityResult>\n    <Arn>"
	gciUserID    = "</Arn>\n    <UserId>"
	gciAccount   = "</UserId>\n    <Account>"
	gciRequestID = "</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>"
	gciClose     = "</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n"
	gciFixedLen  = len(gciOpen + gciUserID + gciAccount + gciRequestID + gciClose)
)

const (
	errOpen      = "<ErrorResponse" + xmlnsAttr + "\n  <Error>\n    <Type>"
	errCode      = "</Type>\n    <Code>"
	errMessage   = "</Code>\n    <Message>"
	errRequestID = "</Message>\n  </Error>\n  <RequestId>"
	errClose     = "</RequestId>\n</ErrorResponse>\n"
	errFixedLen  = len(errOpen+errCode+errMessage+errRequestID+errClose) + len("Receiver")
)

func arwwiSize(res AssumeRoleWithWebIdentityResult, requestID string) int {
	c := res.Credentials
	return arwwiFixedLen + arwwiOptionalLen + escapeAllowance + len(c.AccessKeyID) + len(c.SecretAccessKey) +
		len(c.SessionToken) + len(res.SubjectFromWebIdentityToken) + len(res.AssumedRoleID) + len(res.Arn) +
		len(res.Provider) + len(res.Audience) + len(res.SourceIdentity) + len(requestID)
}

// appendARWWI appends the AssumeRoleWithWebIdentityResponse document for a
// complete result (the caller checks completeness).
func appendARWWI(b []byte, res AssumeRoleWithWebIdentityResult, requestID string) []byte {
	c := res.Credentials
	b = append(b, arwwiOpen...)
	b = appendXMLText(b, c.AccessKeyID)
	b = append(b, arwwiSecret...)
	b = appendXMLText(b, c.SecretAccessKey)
	b = append(b, arwwiSession...)
	b = appendXMLText(b, c.SessionToken)
	b = append(b, arwwiExpiration...)
	b = appendExpiration(b, c.Expiration)
	b = append(b, arwwiSubject...)
	b = appendXMLText(b, res.SubjectFromWebIdentityToken)
	b = append(b, arwwiRoleID...)
	b = appendXMLText(b, res.AssumedRoleID)
	b = append(b, arwwiArn...)
	b = appendXMLText(b, res.Arn)
	b = append(b, arwwiProvider...)
	b = appendXMLText(b, res.Provider)
	b = append(b, arwwiAudience...)
	b = appendXMLText(b, res.Audience)
	b = append(b, arwwiAudienceEnd...)
	if res.SourceIdentity != "" {
		b = append(b, arwwiSourceID...)
		b = appendXMLText(b, res.SourceIdentity)
		b = append(b, arwwiSourceIDEnd...)
	}
	if res.PackedPolicySize != nil {
		b = append(b, arwwiPacked...)
		b = strconv.AppendInt(b, int64(*res.PackedPolicySize), 10)
		b = append(b, arwwiPackedEnd...)
	}
	b = append(b, arwwiRequestID...)
	b = appendXMLText(b, requestID)
	return append(b, arwwiClose...)
}

// appendExpiration appends FormatExpiration(t). Its output is digits, '-',
// 'T', ':' and 'Z' only, none of which needs escaping.
func appendExpiration(b []byte, t time.Time) []byte {
	return t.UTC().Truncate(time.Second).AppendFormat(b, ExpirationLayout)
}

func gciSize(id CallerIdentity, requestID string) int {
	return gciFixedLen + escapeAllowance + len(id.Arn) + len(id.UserID) + len(id.Account) + len(requestID)
}

// appendGCI appends the GetCallerIdentityResponse document.
func appendGCI(b []byte, id CallerIdentity, requestID string) []byte {
	b = append(b, gciOpen...)
	b = appendXMLText(b, id.Arn)
	b = append(b, gciUserID...)
	b = appendXMLText(b, id.UserID)
	b = append(b, gciAccount...)
	b = appendXMLText(b, id.Account)
	b = append(b, gciRequestID...)
	b = appendXMLText(b, requestID)
	return append(b, gciClose...)
}

func errorSize(e Error, requestID string) int {
	return errFixedLen + escapeAllowance + len(e.Code) + len(e.Message) + len(requestID)
}

// appendErrorDoc appends the ErrorResponse document for e.
func appendErrorDoc(b []byte, e Error, requestID string) []byte {
	b = append(b, errOpen...)
	if e.Sender {
		b = append(b, "Sender"...)
	} else {
		b = append(b, "Receiver"...)
	}
	b = append(b, errCode...)
	b = appendXMLText(b, e.Code)
	b = append(b, errMessage...)
	b = appendXMLText(b, e.Message)
	b = append(b, errRequestID...)
	b = appendXMLText(b, requestID)
	return append(b, errClose...)
}

// appendXMLText appends s escaped as encoding/xml escapes text: the five
// metacharacters, tab, newline and carriage return become character
// references, and every byte of invalid UTF-8 and every rune outside the XML
// Char production (other control characters, U+FFFE, U+FFFF) becomes U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\'' && c != '&' && c != '<' && c != '>' {
			i++
			continue
		}
		var esc string
		width := 1
		switch c {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if c < utf8.RuneSelf { // other C0 controls
				esc = "\uFFFD"
				break
			}
			var r rune
			r, width = utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && width == 1) || !isXMLChar(r) {
				esc = "\uFFFD"
				break
			}
			i += width
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

// isXMLChar reports whether r is in the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
