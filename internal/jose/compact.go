package jose

import (
	"strings"

	"github.com/keylessdev/keyless/internal/strictjson"
)

// DefaultMaxTokenBytes is the size limit ParseCompact applies when given a
// non-positive limit.
const DefaultMaxTokenBytes = 16 << 10

// maxHeaderKIDBytes bounds the kid header; longer values are malformed.
const maxHeaderKIDBytes = 256

// Header holds the JOSE header members this package interprets. Params holds
// every member as decoded (numbers as json.Number); like the claims it must
// not be trusted before Verify succeeds.
type Header struct {
	Alg, KID, Typ, Cty string
	Params             map[string]any
}

// Token is a parsed, not yet verified, JWS in compact serialization.
type Token struct {
	Header    Header
	Claims    map[string]any // decoded with json.Number; nil for raw JWS payloads
	RawHeader []byte         // decoded header JSON
	RawClaims []byte         // decoded payload bytes

	signingInput []byte // ASCII "header.payload" exactly as received
	signature    []byte
}

// Header members that are refused outright: keys are never taken from a
// token (jwk, jku, x5u, x5c), no extension is understood (crit, b64), and
// JWE members mean this is not a JWS.
var forbiddenHeaders = [...]string{"jwk", "jku", "x5u", "x5c", "crit", "b64", "enc", "zip"}

// ParseCompact parses a JWT in JWS compact serialization without verifying
// it. maxBytes <= 0 means DefaultMaxTokenBytes.
//
// Before decoding anything it requires len(token) <= maxBytes and the shape
// ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ (one pass, no
// allocation). Segments must be canonical unpadded base64url. Header and
// payload must be JSON objects in valid UTF-8 without duplicate member names
// at any depth. The header must carry a string alg that is not "none" (any
// case) or HMAC, and none of jwk, jku, x5u, x5c, crit, b64, enc, zip; cty
// "JWT" (nested tokens) is refused. kid, typ and cty must be strings.
func ParseCompact(token string, maxBytes int) (*Token, error) {
	t, err := parseJWS(token, maxBytes)
	if err != nil {
		return nil, err
	}
	claims, err := strictjson.DecodeObject(t.RawClaims)
	if err != nil {
		return nil, malformed("payload: " + err.Error())
	}
	t.Claims = claims
	return t, nil
}

// parseJWS does everything ParseCompact does except requiring the payload to
// be a JSON object: the JOSE test corpora sign arbitrary bytes.
func parseJWS(token string, maxBytes int) (*Token, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxTokenBytes
	}
	if len(token) > maxBytes {
		return nil, &Error{Kind: ErrTooLarge, Detail: "token exceeds size limit"}
	}
	dot1, dot2, err := scanCompact(token)
	if err != nil {
		return nil, err
	}

	// Header first: a refused header stops the work before the payload.
	rawHeader, err := b64.DecodeString(token[:dot1])
	if err != nil {
		return nil, malformed("header is not canonical base64url")
	}
	hdr, err := parseHeader(rawHeader)
	if err != nil {
		return nil, err
	}
	payload, err := b64.DecodeString(token[dot1+1 : dot2])
	if err != nil {
		return nil, malformed("payload is not canonical base64url")
	}
	sig, err := b64.DecodeString(token[dot2+1:])
	if err != nil {
		return nil, malformed("signature is not canonical base64url")
	}
	return &Token{
		Header:       hdr,
		RawHeader:    rawHeader,
		RawClaims:    payload,
		signingInput: []byte(token[:dot2]),
		signature:    sig,
	}, nil
}

// scanCompact checks the three-segment shape in one pass and returns the
// positions of the two dots. It stops at the first offending byte.
func scanCompact(s string) (dot1, dot2 int, err error) {
	dot1, dot2 = -1, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			switch {
			case dot1 < 0:
				dot1 = i
			case dot2 < 0:
				dot2 = i
			default:
				return 0, 0, malformed("more than three segments (JWE, JSON serialization or extra parts are not accepted)")
			}
		default:
			return 0, 0, malformed("character outside the base64url alphabet")
		}
	}
	switch {
	case dot2 < 0:
		return 0, 0, malformed("fewer than three segments")
	case dot1 == 0:
		return 0, 0, malformed("empty header segment")
	case dot2 == dot1+1:
		return 0, 0, malformed("empty payload segment (detached payloads are not accepted)")
	case dot2 == len(s)-1:
		return 0, 0, malformed("empty signature segment")
	}
	return dot1, dot2, nil
}

func parseHeader(raw []byte) (Header, error) {
	m, err := strictjson.DecodeObject(raw)
	if err != nil {
		return Header{}, malformed("header: " + err.Error())
	}
	h := Header{Params: m}
	v, ok := m["alg"]
	if !ok {
		return Header{}, malformed("header has no alg")
	}
	if h.Alg, ok = v.(string); !ok || h.Alg == "" {
		return Header{}, malformed("header alg is not a non-empty string")
	}
	if strings.EqualFold(h.Alg, "none") {
		return Header{}, algorithmErr(`alg "none" is never accepted`)
	}
	if len(h.Alg) >= 2 && strings.EqualFold(h.Alg[:2], "HS") {
		return Header{}, algorithmErr("HMAC algorithms are never accepted")
	}
	for _, name := range forbiddenHeaders {
		if _, ok := m[name]; ok {
			return Header{}, malformed("header member " + name + " is not accepted")
		}
	}
	if h.KID, err = optionalString(m, "kid"); err != nil {
		return Header{}, err
	}
	if _, present := m["kid"]; present && (h.KID == "" || len(h.KID) > maxHeaderKIDBytes) {
		return Header{}, malformed("header kid is empty or too long")
	}
	if h.Typ, err = optionalString(m, "typ"); err != nil {
		return Header{}, err
	}
	if h.Cty, err = optionalString(m, "cty"); err != nil {
		return Header{}, err
	}
	if strings.EqualFold(h.Cty, "JWT") {
		return Header{}, malformed(`cty "JWT" (nested token) is not accepted`)
	}
	return h, nil
}

func optionalString(m map[string]any, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", malformed("header " + name + " is not a string")
	}
	return s, nil
}
