package build

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"

	"github.com/dplug/dplug/internal/exitcode"
)

// Errors callers can branch on with errors.Is.
var (
	// ErrNoDockerfile: the Dockerfile to build does not exist.
	ErrNoDockerfile = errors.New("no Dockerfile")
	// ErrUnreachable: the BuildKit daemon at the configured address does
	// not answer.
	ErrUnreachable = errors.New("cannot reach BuildKit")
)

// InputError is a build input (the context dir, the Dockerfile, the
// plugin config) that is missing or unreadable: nothing was built. The CLI
// treats it as a usage error (ExitClass).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

// ExitClass makes an *InputError a usage error for the CLI
// (exitcode.Classed).
func (e *InputError) ExitClass() int { return exitcode.Usage }

// unreachable reports whether a BuildKit call failed because no daemon
// answers at the address, and if so the cause in a few words (e.g.
// "connection refused").
func unreachable(err error) (string, bool) {
	if grpcerrors.Code(err) != codes.Unavailable {
		return "", false
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		msg = msg[i+len("desc = "):]
	}
	msg = strings.Trim(msg, `"`)
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg, true
}

// SyntaxError is a Dockerfile the frontend could not parse.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// StepError is a build step (a RUN, COPY, ...) that failed.
type StepError struct {
	File   string   // the Dockerfile, "" when unknown
	Line   int      // its line, 0 when unknown
	Step   string   // BuildKit's name for it, e.g. "[build 2/3] RUN make"
	Msg    string   // why it failed, e.g. the exit code
	Output []string // its last output lines
}

func (e *StepError) Error() string {
	var b strings.Builder
	if e.File != "" && e.Line > 0 {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	}
	fmt.Fprintf(&b, "step %s failed: %s", e.Step, e.Msg)
	if len(e.Output) > 0 {
		fmt.Fprintf(&b, "\nlast output lines:\n  %s", strings.Join(e.Output, "\n  "))
	}
	return b.String()
}

// BaseImageError is a FROM (or --build-context) image BuildKit could not get.
type BaseImageError struct {
	Ref  string // as BuildKit resolved it, e.g. docker.io/library/alpine:3.20
	Name string // as a Dockerfile would write it, e.g. alpine:3.20
	Err  error
}

func (e *BaseImageError) Error() string {
	return fmt.Sprintf("base image %s is not available: %v\n"+
		"supply it as a named build context: --build-context %s=oci-layout:///PATH/TO/LAYOUT@sha256:DIGEST "+
		"(or docker-image://REF), or push it to a local registry and use FROM 127.0.0.1:PORT/IMAGE",
		e.Ref, e.Err, contextName(e.Name))
}

func (e *BaseImageError) Unwrap() error { return e.Err }

var (
	reParseLine = regexp.MustCompile(`dockerfile parse error on line (\d+): `)
	reResolve   = regexp.MustCompile(`failed to resolve source metadata for (\S+?):? `)
	reProcess   = regexp.MustCompile(`^process ".*" did not complete successfully: `)
	reSuggest   = regexp.MustCompile(` \(did you mean [^)]*\?\)$`)
)

// explain turns a solve error into one of the typed errors above when it
// can, with file:line from BuildKit's source map and the failed step's
// output from the status stream.
func explain(ctx context.Context, err error, tr *tracker, dockerfile string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("build canceled: %w", context.Cause(ctx))
	}
	// The build's own watches (resolve timeout, export stall) say best
	// what went wrong; keep their type for callers.
	var re *ResolveError
	if errors.As(err, &re) {
		return re
	}
	msg := cleanMessage(err)
	file, line := sourceLine(err, dockerfile)

	if strings.Contains(msg, "network.host is not allowed") {
		return fmt.Errorf("building with --network host: the BuildKit daemon does not allow it (%s): start it with --allow-insecure-entitlement network.host; dplug's own buildkitd allows it, restart an older one with `dplug buildkitd stop` and build again", msg)
	}
	if m := reResolve.FindStringSubmatch(msg); m != nil {
		ref := strings.TrimSuffix(m[1], ":")
		cause := afterLast(msg, ref+": ")
		if strings.Contains(cause, "dial tcp") || strings.Contains(cause, "no such host") {
			// BuildKit's spelling suggestion (e.g. "docker.io/libraryalpine")
			// is noise when the registry itself is out of reach.
			cause = reSuggest.ReplaceAllString(cause, "")
		}
		return &BaseImageError{Ref: ref, Name: shortName(ref), Err: errors.New(cause)}
	}
	if m := reParseLine.FindStringSubmatchIndex(msg); m != nil {
		n := 0
		fmt.Sscanf(msg[m[2]:m[3]], "%d", &n)
		if line == 0 {
			line = n
		}
		if file == "" {
			file = dockerfile
		}
		return &SyntaxError{File: file, Line: line, Msg: msg[m[1]:]}
	}
	if st, out, ok := tr.failed(); ok {
		// The step already names the command: keep only why it failed.
		return &StepError{File: file, Line: line, Step: st.Name, Msg: reProcess.ReplaceAllString(msg, ""), Output: out}
	}
	if file != "" && line > 0 {
		return &SyntaxError{File: file, Line: line, Msg: msg}
	}
	return fmt.Errorf("building: %s", msg)
}

// cleanMessage strips the wrapping every BuildKit client error carries.
func cleanMessage(err error) string {
	msg := grpcerrors.FromGRPC(err).Error()
	for _, p := range []string{"failed to solve: ", "rpc error: code = Unknown desc = "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return strings.TrimSpace(msg)
}

// sourceLine is the innermost Dockerfile location attached to err.
func sourceLine(err error, dockerfile string) (string, int) {
	srcs := errdefs.Sources(err)
	for i := len(srcs) - 1; i >= 0; i-- {
		s := srcs[i]
		if s.Info == nil || len(s.Ranges) == 0 || s.Ranges[0].Start == nil {
			continue
		}
		file := dockerfile
		if file == "" {
			file = s.Info.Filename
		}
		return file, int(s.Ranges[0].Start.Line)
	}
	return "", 0
}

// shortName writes a resolved reference the way a Dockerfile would.
func shortName(ref string) string {
	ref = strings.TrimPrefix(ref, "docker.io/")
	ref = strings.TrimPrefix(ref, "library/")
	return ref
}

// contextName is the --build-context NAME that replaces a FROM image:
// BuildKit matches the familiar name, without a ":latest" tag.
func contextName(name string) string { return strings.TrimSuffix(name, ":latest") }

func afterLast(s, sep string) string {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[i+len(sep):]
	}
	return s
}
