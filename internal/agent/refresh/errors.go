package refresh

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnavailable: Get found no usable credential and could not obtain one. Every
	// *UnavailableError matches it.
	ErrUnavailable = errors.New("refresh: credential unavailable")
	// ErrExpiredCredential: Fetch returned a credential whose Expiry is not after the time the
	// fetch completed (a zero Expiry included). The attempt counts as failed.
	ErrExpiredCredential = errors.New("refresh: fetched credential is already expired")
	// ErrFetchPanic: Fetch panicked. The panic is recovered and the attempt counts as failed;
	// the panic value is not recorded (it could hold secret material).
	ErrFetchPanic = errors.New("refresh: fetch panicked")
	// ErrInvalidOptions: New or NewGroup was given unusable options.
	ErrInvalidOptions = errors.New("refresh: invalid options")
)

// FetchError reports one failed fetch attempt. Err is the FetchFunc's error (which should
// itself never contain secrets), ErrExpiredCredential or ErrFetchPanic.
type FetchError struct {
	Name string
	Key  string // Group key; empty for a standalone Cache
	Err  error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("refresh: fetching %s: %v", label(e.Name, e.Key), e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Public returns text safe to show a workload.
func (e *FetchError) Public() string {
	return "the credential could not be obtained from the identity provider"
}

// UnavailableError is returned by Get when no usable credential is cached and none could be
// obtained. Err is the cause: the *FetchError of the attempt the caller waited for or that
// last failed, the caller's context error, or ErrExpiredCredential when the last fetch
// succeeded but its credential has since expired.
type UnavailableError struct {
	Name string
	Key  string
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("refresh: no usable credential for %s: %v", label(e.Name, e.Key), e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes every *UnavailableError match ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Public returns text safe to show a workload.
func (e *UnavailableError) Public() string {
	return "no credential is available at the moment; retry shortly"
}

func label(name, key string) string {
	if key == "" {
		return fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("%q key %q", name, key)
}
