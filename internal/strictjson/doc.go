// Package strictjson decodes JSON the way a security token service must: one
// interpretation per input, or a refusal.
//
// Security tokens (JWS headers and claims, JWKs, serialized AWS requests) are
// parsed by more than one program: the issuer, this server, sometimes a
// proxy or the relying service. Where JSON parsers disagree, an attacker can
// make them see different tokens. The classic case is a duplicate member,
// {"sub":"alice","sub":"admin"}: encoding/json keeps the last value, other
// parsers keep the first or refuse. So Decode refuses every input on which
// reasonable parsers could disagree:
//
//   - duplicate member names in any object at any depth, compared after
//     unescaping, so "a" and "\u0061" collide;
//   - invalid UTF-8 anywhere (encoding/json would silently replace it with
//     U+FFFD, so two different byte strings would decode alike);
//   - nesting deeper than MaxDepth objects and arrays (real tokens nest three
//     or four levels; the bound also caps recursion);
//   - anything after the value except JSON whitespace;
//   - everything RFC 8259 forbids (leading zeros, trailing commas, control
//     characters in strings, single quotes, comments, NaN, ...).
//
// Values decode to the types encoding/json uses for an any target, except
// numbers, which stay json.Number so that integers such as exp or account
// ids are never rounded through float64. Escape sequences decode exactly as
// encoding/json decodes them (an unpaired surrogate becomes U+FFFD).
//
// The parser is a small recursive descent over one string copy of the input
// (none for DecodeObjectString): member names and strings without escapes are
// substrings of it, an escaped string costs one allocation. It replaced
// decoders built on json.Decoder.Token, which cost more than the signature
// checks they guarded. Its accept/reject decisions, values and reasons are
// checked against a reference decoder built on encoding/json's tokenizer (the
// differential test and FuzzStrictJSON). Errors are *Error values carrying a byte offset and one of
// the Err sentinels; they never quote input bytes, so they are safe to log
// even when the input is a secret.
package strictjson
