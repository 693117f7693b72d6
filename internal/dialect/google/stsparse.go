package google

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/keylessdev/keyless/internal/exchange"
)

// ParseSTSRequest parses a /v1/token body in any encoding clients use: form with
// snake_case keys, JSON with camelCase (the REST form) or snake_case keys. Repeated
// parameters are refused (RFC 6749 §3.2).
func ParseSTSRequest(mediaType string, body []byte) (exchange.STSRequest, error) {
	var fields map[string]string
	var err error
	switch mediaType {
	case "application/x-www-form-urlencoded":
		fields, err = parseForm(body)
	case "application/json":
		fields, err = parseJSONObject(body)
	default:
		return exchange.STSRequest{}, fmt.Errorf("unsupported content type %q: send application/x-www-form-urlencoded or application/json", mediaType)
	}
	if err != nil {
		return exchange.STSRequest{}, err
	}
	get := func(snake, camel string) string {
		if v, ok := fields[snake]; ok {
			return v
		}
		return fields[camel]
	}
	for _, pair := range [][2]string{{"grant_type", "grantType"}, {"subject_token", "subjectToken"}, {"subject_token_type", "subjectTokenType"},
		{"requested_token_type", "requestedTokenType"}} {
		if _, a := fields[pair[0]]; a {
			if _, b := fields[pair[1]]; b {
				return exchange.STSRequest{}, fmt.Errorf("parameter %s is given twice (as %s and %s)", pair[0], pair[0], pair[1])
			}
		}
	}
	// RFC 8693 delegation and resource indicators are not implemented; ignoring them
	// would hand out a token whose meaning differs from what the client asked for.
	for _, k := range []string{"actor_token", "actorToken", "actor_token_type", "actorTokenType", "resource"} {
		if v, ok := fields[k]; ok && v != "" {
			return exchange.STSRequest{}, fmt.Errorf("parameter %s is not supported", k)
		}
	}
	req := exchange.STSRequest{
		GrantType:          get("grant_type", "grantType"),
		Audience:           fields["audience"],
		Scope:              strings.Fields(fields["scope"]),
		RequestedTokenType: get("requested_token_type", "requestedTokenType"),
		SubjectToken:       get("subject_token", "subjectToken"),
		SubjectTokenType:   get("subject_token_type", "subjectTokenType"),
		Options:            fields["options"],
	}
	// Python double-encodes options (google-protocol.md §0.1 rule 2).
	if o := req.Options; o != "" && !strings.HasPrefix(o, "{") {
		if u, err := url.QueryUnescape(o); err == nil {
			req.Options = u
		}
	}
	if req.Options != "" && !json.Valid([]byte(req.Options)) {
		return exchange.STSRequest{}, fmt.Errorf("options is not a JSON object")
	}
	return req, nil
}

func parseForm(body []byte) (map[string]string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("malformed form body: %v", err)
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) != 1 {
			return nil, fmt.Errorf("parameter %s is repeated", k)
		}
		out[k] = v[0]
	}
	return out, nil
}

// parseJSONObject decodes a flat JSON object of strings (or string arrays for scope),
// refusing duplicate members.
func parseJSONObject(body []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("body is not a JSON object")
	}
	out := map[string]string{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("malformed JSON body")
		}
		k := kt.(string)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("parameter %s is repeated", k)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("malformed JSON body")
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			out[k] = s
			continue
		}
		var list []string
		if k == "scope" && json.Unmarshal(raw, &list) == nil {
			out[k] = strings.Join(list, " ")
			continue
		}
		if string(raw) == "null" {
			out[k] = ""
			continue
		}
		return nil, fmt.Errorf("parameter %s must be a string", k)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("malformed JSON body")
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	return out, nil
}
