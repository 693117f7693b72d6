package awspolicy

import "errors"

// ErrInvalidPolicy is wrapped by every *ParseError.
var ErrInvalidPolicy = errors.New("awspolicy: invalid policy")

// ParseError reports why a policy document was refused. Path names the JSON
// location (for example `Statement[1].Condition.StringEquals`). Policies are
// operator configuration, so the text may quote policy content; it never
// contains request or token data.
type ParseError struct {
	Path string // JSON path; "" for the whole document
	Msg  string // what is wrong and, where useful, what is expected
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return "awspolicy: " + e.Msg
	}
	return "awspolicy: " + e.Path + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalidPolicy) hold.
func (e *ParseError) Unwrap() error { return ErrInvalidPolicy }

func perr(path, msg string) error { return &ParseError{Path: path, Msg: msg} }
