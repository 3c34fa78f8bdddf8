package harness

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dplug/dplug/probe"
)

// exitNoticeWait is how long the last check gives a plugin that failed
// checks to be seen exiting: the failures may come from its death.
const exitNoticeWait = 500 * time.Millisecond

// Probe sends the plugin the requests dockerd sends for each interface type
// its config declares (probe.Run) through a path pinned to the socket
// checked now, so that a symlink the plugin puts in its place later is
// never followed to a socket of the host. A log driver's FIFO is made in
// the run's overlay (never in the installed rootfs). The report ends with a
// required check that the plugin is still running. An error means nothing
// was probed.
func (s *Session) Probe(ctx context.Context, opts ...probe.Option) (*probe.Report, error) {
	if root := s.Rootfs(); root != "" {
		opts = append(opts, probe.WithRootfs(root))
	}
	sock, release, err := s.PinSocket()
	if err != nil {
		return nil, err
	}
	rep := probe.Run(ctx, sock, s.Plugin.Config.Interface.Types, opts...)
	release()
	rep.Socket = s.Socket()
	rep.Checks = append(rep.Checks, aliveCheck(s.Instance, rep.Failed() > 0))
	return rep, nil
}

// Test is what `dplug test` does once the plugin started: Probe, then Stop
// with grace between SIGTERM and SIGKILL. The report is nil only when
// nothing was probed (the plugin is stopped then too); a report comes with
// the error of stopping, if any.
func (s *Session) Test(ctx context.Context, grace time.Duration, opts ...probe.Option) (*probe.Report, error) {
	rep, err := s.Probe(ctx, opts...)
	if err != nil {
		_ = s.Stop(context.WithoutCancel(ctx), 0)
		return nil, err
	}
	return rep, s.Stop(context.WithoutCancel(ctx), grace)
}

// WriteTest is `dplug test` once the plugin started: Test, then the
// report, if any, written on w in format (probe.Report.Write). failed says
// a check failed (the report is written then); err is the error of
// probing, writing or stopping.
func (s *Session) WriteTest(ctx context.Context, grace time.Duration, w io.Writer, format string, opts ...probe.Option) (failed bool, err error) {
	rep, stopErr := s.Test(ctx, grace, opts...)
	if rep == nil {
		return false, stopErr
	}
	if err := rep.Write(w, format, s.Plugin.Name); err != nil {
		return false, err
	}
	return rep.Failed() > 0, stopErr
}

// process is what aliveCheck needs of a run (a *run.Instance).
type process interface {
	Done() <-chan struct{}
	Running() bool
	ExitCode() int
	LastLines(n int) []string
}

// aliveCheck is the last check of a test: the plugin is still running
// after the probes. Required: dockerd restarts a managed plugin that exits,
// but every call in flight fails.
func aliveCheck(p process, failures bool) probe.Check {
	if failures {
		select {
		case <-p.Done():
		case <-time.After(exitNoticeWait):
		}
	}
	alive := probe.Check{Interface: "Plugin", Method: "(process)", Name: "plugin still running after the probes",
		Kind: probe.Required, Status: probe.StatusPass}
	if !p.Running() {
		alive.Status = probe.StatusFail
		alive.Reason = fmt.Sprintf("exited with code %d; last output: %s", p.ExitCode(), strings.Join(p.LastLines(5), " ⏎ "))
	}
	return alive
}
