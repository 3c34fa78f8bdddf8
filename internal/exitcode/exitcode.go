package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes shared by every command.
const (
	OK       = 0   // success
	Failure  = 1   // the command ran and found problems (invalid config, failed check, ...)
	Usage    = 2   // bad flags or arguments, unreadable input (including a damaged plugin store)
	Canceled = 130 // interrupted (SIGINT, SIGTERM)
)

// Classed is an error that says its own exit code, such as Usage for a
// --format template that does not parse or a damaged plugin inventory. The
// method is not called ExitCode: *exec.ExitError has that one, and a child
// process's status is not dplug's.
type Classed interface{ ExitClass() int }

// Error carries an exit code up to the CLI's Run. A nil Err means "exit
// quietly with Code": the command already printed what it had to say.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ExitClass is Code.
func (e *Error) ExitClass() int { return e.Code }

// UsageError marks err as a usage or input problem (exit 2).
func UsageError(err error) error { return &Error{Code: Usage, Err: err} }

// Of returns the exit code for err and the error to show the user (nil
// when there is nothing to show). An *Error decides first (its Err is what
// is shown); then a cancellation is Canceled; then the first Classed error
// in the chain gives its class; anything else is Failure.
func Of(err error) (int, error) {
	if err == nil {
		return OK, nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Err
	}
	if errors.Is(err, context.Canceled) {
		return Canceled, err
	}
	var c Classed
	if errors.As(err, &c) {
		return c.ExitClass(), err
	}
	return Failure, err
}
