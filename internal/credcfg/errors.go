package credcfg

import (
	"errors"
	"strconv"
)

// Sentinel errors; match with errors.Is. Every error from Validate,
// Generate, CertificateConfig and the flag parsers wraps ErrInvalidOptions
// and exactly one of the others.
var (
	ErrInvalidOptions = errors.New("credcfg: invalid options")
	// ErrSource: not exactly one credential source.
	ErrSource = errors.New("exactly one credential source is required")
	// ErrConflict: a flag that does not apply to the chosen source or
	// needs another flag.
	ErrConflict = errors.New("conflicting or incomplete flags")
	// ErrValue: a flag value is malformed or out of range.
	ErrValue = errors.New("invalid flag value")
)

// OptionError is one problem with one flag. Messages may repeat paths,
// names and URLs the operator typed, but never header values (they may be
// credentials).
type OptionError struct {
	Flag  string // one of the Flag* constants
	Kind  error  // ErrSource, ErrConflict or ErrValue
	Msg   string
	Cause error // optional underlying error (for example an iam.ParseError)
}

func (e *OptionError) Error() string { return "credcfg: " + e.Flag + ": " + e.Msg }

// Unwrap makes errors.Is match ErrInvalidOptions, Kind and Cause.
func (e *OptionError) Unwrap() []error {
	errs := []error{ErrInvalidOptions, e.Kind}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// problems collects OptionErrors; err joins them (nil when empty).
type problems []error

func (p *problems) add(flag string, kind error, msg string) {
	*p = append(*p, &OptionError{Flag: flag, Kind: kind, Msg: msg})
}

func (p *problems) addCause(flag string, kind error, msg string, cause error) {
	*p = append(*p, &OptionError{Flag: flag, Kind: kind, Msg: msg, Cause: cause})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.Join(p...)
}

// quote quotes s for an error message, truncated so a huge input cannot
// flood the terminal.
func quote(s string) string {
	const max = 120
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
