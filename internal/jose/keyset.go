package jose

import (
	"bytes"
	"crypto"
	"encoding/json"
	"io"
	"unicode/utf8"

	"github.com/keylessdev/keyless/internal/strictjson"
)

// Limits applied by ParseKeySet. A JWKS larger than this is not a key set
// any issuer needs; callers reading from the network should stop reading at
// MaxKeySetBytes+1 bytes.
const (
	MaxKeySetBytes = 1 << 20
	MaxKeySetKeys  = 100
	maxKIDBytes    = 256
)

// Key is one public verification key taken from a JWKS after key policy was applied.
type Key struct {
	KID    string           // "" when the JWK had no kid
	Alg    string           // the JWK's declared "alg", "" when absent
	Public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// KeySet is an immutable set of verification keys.
type KeySet struct {
	Keys []Key
}

// Dropped records a JWK that key policy refused, and why. Reason is a fixed
// text naming the rule; it never contains key material.
type Dropped struct {
	Index  int
	KID    string
	Reason string
}

// ParseKeySet parses a JWKS document ({"keys":[...]}) and applies key policy
// (see the package documentation). It returns an error only when the document
// itself is unusable: larger than MaxKeySetBytes, more than MaxKeySetKeys
// keys, not valid UTF-8 JSON, not an object, duplicate top-level member names,
// or "keys" missing or not an array. Keys that violate policy are left out of
// the set and reported in Dropped, in document order. The result is
// deterministic for a given input.
func ParseKeySet(data []byte) (*KeySet, []Dropped, error) {
	if len(data) > MaxKeySetBytes {
		return nil, nil, &Error{Kind: ErrTooLarge, Detail: "JWKS exceeds size limit"}
	}
	rawKeys, err := splitKeySet(data)
	if err != nil {
		return nil, nil, err
	}

	type entry struct {
		kid    string
		key    Key
		reason string
	}
	entries := make([]entry, len(rawKeys))
	kidCount := make(map[string]int, len(rawKeys))
	for i, raw := range rawKeys {
		m, err := strictjson.DecodeObject(raw)
		if err != nil {
			entries[i].reason = "JWK is not a valid JSON object: " + err.Error()
			continue
		}
		kid, kidOK := m["kid"].(string)
		if kidOK && kid != "" {
			kidCount[kid]++
		}
		entries[i].kid = kid
		entries[i].key, entries[i].reason = parseJWK(m)
	}

	ks := &KeySet{Keys: []Key{}}
	var dropped []Dropped
	for i, e := range entries {
		reason := e.reason
		if reason == "" && e.kid != "" && kidCount[e.kid] > 1 {
			reason = "duplicate kid: every key sharing it is dropped"
		}
		if reason != "" {
			dropped = append(dropped, Dropped{Index: i, KID: truncateKID(e.kid), Reason: reason})
			continue
		}
		ks.Keys = append(ks.Keys, e.key)
	}
	return ks, dropped, nil
}

// splitKeySet checks the document envelope and returns the raw JWK elements.
func splitKeySet(data []byte) ([]json.RawMessage, error) {
	if !utf8.Valid(data) {
		return nil, malformed("JWKS is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("JWKS is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, malformed("JWKS is not a JSON object")
	}
	seen := make(map[string]bool)
	var keys []json.RawMessage
	haveKeys := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("JWKS is not valid JSON")
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			break
		}
		name, ok := tok.(string)
		if !ok {
			return nil, malformed("JWKS is not valid JSON")
		}
		if seen[name] {
			return nil, malformed("JWKS has a duplicate member name")
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed("JWKS is not valid JSON")
		}
		if name != "keys" {
			// Unused members (spiffe_sequence, ...) must still be strict JSON.
			if _, err := strictjson.Decode(raw); err != nil {
				return nil, malformed("JWKS member is not strict JSON: " + err.Error())
			}
			continue
		}
		haveKeys = true
		if keys, err = splitArray(raw); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("trailing data after JWKS")
	}
	if !haveKeys {
		return nil, malformed(`JWKS has no "keys" member`)
	}
	return keys, nil
}

func splitArray(raw json.RawMessage) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("JWKS is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, malformed(`JWKS "keys" is not an array`)
	}
	out := []json.RawMessage{}
	for dec.More() {
		if len(out) == MaxKeySetKeys {
			return nil, &Error{Kind: ErrTooLarge, Detail: "JWKS has too many keys"}
		}
		var el json.RawMessage
		if err := dec.Decode(&el); err != nil {
			return nil, malformed("JWKS is not valid JSON")
		}
		out = append(out, el)
	}
	return out, nil
}

func truncateKID(kid string) string {
	if len(kid) <= maxKIDBytes {
		return kid
	}
	// Cut on a rune boundary so the result stays valid UTF-8.
	cut := maxKIDBytes
	for cut > 0 && !utf8.RuneStart(kid[cut]) {
		cut--
	}
	return kid[:cut] + "..."
}

// Find returns the keys whose kid equals kid.
func (ks *KeySet) Find(kid string) []Key {
	if ks == nil {
		return nil
	}
	var out []Key
	for _, k := range ks.Keys {
		if k.KID == kid {
			out = append(out, k)
		}
	}
	return out
}
