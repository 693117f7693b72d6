package awsreq

// Streaming strict-JSON helpers for the JSON form of the GetCallerIdentity
// response (gci.go). Subject tokens use package strictjson instead. The
// response parser streams because it must skip unknown members of any depth
// (bounded only by MaxResponseSize), which strictjson's MaxDepth would refuse.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// decodeObject reads one JSON object from dec and calls member for each
// member, rejecting duplicate member names. member must consume the value.
func decodeObject(dec *json.Decoder, member func(name string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("expected a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("expected a member name")
		}
		if seen[name] {
			return errors.New("duplicate member " + truncate(name))
		}
		seen[name] = true
		if err := member(name); err != nil {
			return err
		}
	}
	_, err = dec.Token() // '}'
	return err
}

// decodeString reads one JSON string (null is not a string).
func decodeString(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", errors.New("expected a JSON string")
	}
	return s, nil
}

// skipValue consumes one JSON value of any type from the token stream,
// rejecting duplicate members in nested objects too. Work is linear in the
// input; depth is bounded by encoding/json's own nesting limit.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // scalar
	}
	seen := map[string]bool{}
	for dec.More() {
		if d == '{' {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			name, _ := tok.(string)
			if seen[name] {
				return errors.New("duplicate member " + truncate(name))
			}
			seen[name] = true
		}
		if err := skipValue(dec); err != nil {
			return err
		}
	}
	_, err = dec.Token() // closing delimiter
	return err
}

// newStrictDecoder wraps data and later lets expectEOF confirm no trailing data.
func newStrictDecoder(data []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec
}

func expectEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
