package strictjson

import (
	"errors"
	"strconv"
)

// Sentinel reasons. Every error returned by this package is an *Error whose
// Kind is exactly one of them, so callers use errors.Is.
var (
	ErrSyntax          = errors.New("strictjson: invalid JSON")
	ErrInvalidUTF8     = errors.New("strictjson: invalid UTF-8")
	ErrNotObject       = errors.New("strictjson: not a JSON object")
	ErrDuplicateMember = errors.New("strictjson: duplicate member name")
	ErrTooDeep         = errors.New("strictjson: nesting too deep")
	ErrTrailingData    = errors.New("strictjson: trailing data after JSON value")
)

// Error reports why and where decoding stopped. Its text names the reason and
// the offset only, never input bytes.
type Error struct {
	Kind   error // one of the Err* sentinels
	Offset int   // byte offset in the input where the problem was found
}

func (e *Error) Error() string {
	return e.Kind.Error() + " at byte " + strconv.Itoa(e.Offset)
}

func (e *Error) Unwrap() error { return e.Kind }
