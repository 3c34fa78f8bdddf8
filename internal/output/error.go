package output

import (
	"fmt"
	"io"
	"strings"
)

// Error writes err on one line after prefix ("dplug: "); the errors of an
// errors.Join (one per argument of rm, inspect, ...) get a line and a
// prefix each.
func Error(w io.Writer, prefix string, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		if len(errs) > 1 && strings.Join(msgs, "\n") == err.Error() {
			for _, e := range errs {
				Error(w, prefix, e)
			}
			return
		}
	}
	fmt.Fprintf(w, "%s%v\n", prefix, err)
}
