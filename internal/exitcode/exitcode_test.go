package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dplug/dplug/internal/exitcode"
)

// classed is a library error that says its own class.
type classed struct{ code int }

func (c classed) Error() string  { return "classed" }
func (c classed) ExitClass() int { return c.code }

func TestOf(t *testing.T) {
	plain := errors.New("plain")
	canceled := fmt.Errorf("pulling: %w", context.Canceled)
	wrappedClass := fmt.Errorf("x: %w", classed{exitcode.Usage})
	joinedClass := errors.Join(plain, classed{exitcode.Usage})
	canceledFirst := errors.Join(context.Canceled, classed{exitcode.Usage})
	for _, tc := range []struct {
		name      string
		err       error
		wantCode  int
		wantShown error // nil: nothing to show
	}{
		{"nil", nil, exitcode.OK, nil},
		{"plain", plain, exitcode.Failure, plain},
		{"quiet failure", &exitcode.Error{Code: exitcode.Failure}, exitcode.Failure, nil},
		{"usage", exitcode.UsageError(plain), exitcode.Usage, plain},
		{"wrapped usage", fmt.Errorf("x: %w", exitcode.UsageError(plain)), exitcode.Usage, plain},
		{"canceled", canceled, exitcode.Canceled, canceled},
		{"classed", wrappedClass, exitcode.Usage, wrappedClass},
		{"classed in a join", joinedClass, exitcode.Usage, joinedClass},
		{"Error before cancellation", &exitcode.Error{Code: exitcode.Failure, Err: context.Canceled}, exitcode.Failure, context.Canceled},
		{"cancellation before class", canceledFirst, exitcode.Canceled, canceledFirst},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, shown := exitcode.Of(tc.err)
			if code != tc.wantCode || shown != tc.wantShown {
				t.Errorf("Of(%v) = %d, %v; want %d, %v", tc.err, code, shown, tc.wantCode, tc.wantShown)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	if got := (&exitcode.Error{Code: 1}).Error(); got != "exit status 1" {
		t.Errorf("quiet Error() = %q", got)
	}
	if got := exitcode.UsageError(errors.New("bad flag")).Error(); got != "bad flag" {
		t.Errorf("usage Error() = %q", got)
	}
}
