// Package exitcode maps the error a dplug command returns to the process
// exit code, in one place: 0 ok, 1 failure, 2 usage (bad flags or
// arguments, unreadable input), 130 canceled. Library errors that are the
// caller's mistake say so themselves (a Classed error), so the CLI needs no
// list of them. It imports nothing of dplug's: any library may implement
// Classed with these constants.
package exitcode
