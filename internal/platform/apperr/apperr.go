// Package apperr is the one error type domains return for failures a client
// caused or may see. The gateway maps its Code to the GraphQL error code of
// the public API; any other error is reported to clients as INTERNAL.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code is a client-facing error class; the values are the API's codes.
type Code string

const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadInput        Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
)

// Error is a failure safe to show to the client: Message is written for the
// client and never holds internal detail.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input field for BadInput (and Conflict).
	Field string
	// RetryAfter is set for RateLimited.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries code.
func Is(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

// Invalid reports a bad value of the input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Taken reports a unique value (username, email) already in use.
func Taken(field, message string) *Error {
	return &Error{Code: Conflict, Field: field, Message: message}
}

// NewNotFound reports something absent or invisible to the viewer.
func NewNotFound(what string) *Error {
	return &Error{Code: NotFound, Message: what + " not found"}
}

// NewForbidden reports an action the viewer may not take.
func NewForbidden(message string) *Error {
	return &Error{Code: Forbidden, Message: message}
}

// NewUnauthenticated reports a missing, bad or expired credential.
func NewUnauthenticated(message string) *Error {
	return &Error{Code: Unauthenticated, Message: message}
}

// NewRateLimited reports too many attempts; retry after d.
func NewRateLimited(d time.Duration) *Error {
	return &Error{Code: RateLimited, Message: "too many attempts, try again later", RetryAfter: d}
}
