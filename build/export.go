package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/dplug/dplug/archive"
)

// DefaultExportTimeout is how long the rootfs export may go without
// progress before the build is canceled (WithExportTimeout).
const DefaultExportTimeout = 2 * time.Minute

// abandonAfter is how long Run waits for BuildKit's client to return once a
// stalled solve was canceled, before it returns the StallError anyway.
const abandonAfter = 15 * time.Second

// abortWait is how long a failed solve waits for the extraction to stop
// writing into the staging dir before that is removed.
const abortWait = 5 * time.Second

// Phases of the export a StallError names.
const (
	// PhaseReceive: BuildKit stopped sending the rootfs tar.
	PhaseReceive = "receiving the rootfs from BuildKit"
	// PhaseWrite: dplug stopped taking the rootfs tar (writing to disk).
	PhaseWrite = "writing the rootfs to disk"
	// PhaseFinish: the tar was complete but BuildKit did not end the solve.
	PhaseFinish = "finishing the build after the rootfs export"
)

// StallError is a build canceled because its export made no progress for
// Idle. Nothing was delivered.
type StallError struct {
	Phase    string        // one of the Phase* constants
	Idle     time.Duration // how long nothing moved
	Received int64         // bytes of the rootfs tar extracted until then
	Hint     string        // what to do
}

func (e *StallError) Error() string {
	return fmt.Sprintf("build stalled: no progress for %s while %s (%s of the rootfs tar taken in), so it was canceled: %s",
		e.Idle, e.Phase, byteSize(e.Received), e.Hint)
}

// byteSize writes n in B, kB, MB or GB.
func byteSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// watchdog cancels a solve whose export stops making progress. It only
// watches while a phase is set: build steps may be silent for as long as
// they like, the export of a finished rootfs may not.
type watchdog struct {
	timeout time.Duration
	cancel  context.CancelCauseFunc
	hint    func(phase string) string

	mu       sync.Mutex
	phase    string // "" while not watching
	last     time.Time
	received int64
	writing  bool // a Write is under way: the stall is on dplug's side
	err      *StallError
	fired    chan struct{} // closed when err is set
	stop     chan struct{}
	stopOnce sync.Once
}

func newWatchdog(timeout time.Duration, cancel context.CancelCauseFunc, hint func(phase string) string) *watchdog {
	if timeout <= 0 {
		timeout = DefaultExportTimeout
	}
	w := &watchdog{timeout: timeout, cancel: cancel, hint: hint, fired: make(chan struct{}), stop: make(chan struct{})}
	go w.run()
	return w
}

// watch starts (or moves to) phase and restarts the clock.
func (w *watchdog) watch(phase string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase, w.last = phase, time.Now()
}

// progress restarts the clock; n bytes of the tar went through.
func (w *watchdog) progress(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = time.Now()
	w.received += int64(n)
}

// status restarts the clock on a BuildKit status update while the solve
// finishes (cache export, ...). While the tar streams, only its bytes count.
func (w *watchdog) status() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == PhaseFinish {
		w.last = time.Now()
	}
}

// setWriting records whether a Write into the extractor is under way.
func (w *watchdog) setWriting(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writing = on
}

// Stop ends the watch; safe to call more than once.
func (w *watchdog) Stop() { w.stopOnce.Do(func() { close(w.stop) }) }

// stalled is the error it fired with, or nil.
func (w *watchdog) stalled() *StallError {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *watchdog) run() {
	every := min(max(w.timeout/10, 10*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		if err := w.check(); err != nil {
			w.cancel(err)
			close(w.fired)
			return
		}
	}
}

// check returns a StallError when the watched phase has been idle too long.
func (w *watchdog) check() *StallError {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == "" {
		return nil
	}
	idle := time.Since(w.last)
	if idle < w.timeout {
		return nil
	}
	phase := w.phase
	if phase == PhaseReceive && w.writing {
		phase = PhaseWrite
	}
	w.err = &StallError{Phase: phase, Idle: idle.Truncate(time.Second), Received: w.received}
	if w.err.Idle == 0 {
		w.err.Idle = idle.Truncate(time.Millisecond)
	}
	if w.hint != nil {
		w.err.Hint = w.hint(phase)
	}
	return w.err
}

// extractFunc unpacks a tar stream into dir.
type extractFunc func(ctx context.Context, r io.Reader, dir string) error

// extractRootfs is the default extractFunc: dplug's safe extractor, with
// the device nodes and sizes BuildKit's local exporter would also write.
func extractRootfs(ctx context.Context, r io.Reader, dir string) error {
	return archive.Extract(ctx, r, dir, archive.WithDevices(true),
		archive.WithMaxEntries(math.MaxInt64), archive.WithMaxBytes(math.MaxInt64))
}

// rootfsExport receives BuildKit's tar exporter output (an io.WriteCloser
// per export) and extracts it into dir as it arrives, under the watchdog:
// BuildKit's local exporter (fsutil's file-by-file protocol) can stall
// forever on large trees (moby/buildkit#2950), a tar stream is one plain
// byte stream.
type rootfsExport struct {
	ctx     context.Context
	dir     string
	w       *watchdog
	extract extractFunc

	mu     sync.Mutex
	opened bool
	sink   *rootfsSink
}

// output is the tar exporter's filesync.FileOutputFunc.
func (e *rootfsExport) output(map[string]string) (io.WriteCloser, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.opened {
		return nil, errors.New("BuildKit opened the rootfs export twice")
	}
	e.opened = true
	pr, pw := io.Pipe()
	s := &rootfsSink{w: e.w, pr: pr, pw: pw, done: make(chan struct{})}
	e.sink = s
	e.w.watch(PhaseReceive)
	go func() {
		r := &progressReader{r: pr, w: e.w}
		err := e.extract(e.ctx, r, e.dir)
		if err == nil {
			// Whatever follows the end-of-archive marker.
			_, err = io.Copy(io.Discard, r)
		}
		if err != nil {
			s.err = fmt.Errorf("extracting the rootfs: %w", err)
			pr.CloseWithError(s.err)
		} else {
			pr.Close()
		}
		close(s.done)
	}()
	go func() {
		// A stall unblocks a Write stuck in the pipe, whichever side hangs.
		select {
		case <-e.w.fired:
			err := e.w.stalled()
			pr.CloseWithError(err)
			pw.CloseWithError(err)
		case <-s.done:
		}
	}()
	return s, nil
}

// abort ends an extraction BuildKit never finished (the solve failed):
// its reader gets err, and abort waits a moment for it to stop writing.
func (e *rootfsExport) abort(err error) {
	e.mu.Lock()
	s := e.sink
	e.mu.Unlock()
	if s == nil {
		return
	}
	s.pw.CloseWithError(err)
	select {
	case <-s.done:
	case <-time.After(abortWait):
	}
}

// err is the extraction's error, if the export was opened and failed.
func (e *rootfsExport) err() error {
	e.mu.Lock()
	s := e.sink
	e.mu.Unlock()
	if s == nil {
		return nil
	}
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// progressReader is the extractor's side of the pipe: each byte it takes
// is progress, whether BuildKit or the disk was the slow one.
type progressReader struct {
	r io.Reader
	w *watchdog
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.w.progress(n)
	}
	return n, err
}

// rootfsSink is the io.WriteCloser BuildKit writes the tar into.
type rootfsSink struct {
	w      *watchdog
	pr     *io.PipeReader
	pw     *io.PipeWriter
	done   chan struct{} // closed when extraction ended
	err    error         // its error, valid after done
	closed sync.Once
}

func (s *rootfsSink) Write(p []byte) (int, error) {
	s.w.setWriting(true)
	n, err := s.pw.Write(p)
	s.w.setWriting(false)
	if err != nil {
		if st := s.w.stalled(); st != nil {
			return n, st
		}
	}
	return n, err
}

// Close ends the tar and waits until it is extracted; from then on, the
// watchdog times BuildKit's end of the solve.
func (s *rootfsSink) Close() error {
	s.closed.Do(func() { s.pw.Close() })
	select {
	case <-s.done:
	case <-s.w.fired:
	}
	if st := s.w.stalled(); st != nil {
		return st
	}
	if s.err != nil {
		return s.err
	}
	s.w.watch(PhaseFinish)
	return nil
}

// solve runs so on c with the rootfs exported as a tar into rootfsDir, the
// watchdog on the export, and every status update passed to show. A solve
// whose export stalls returns a *StallError, at the latest abandonAfter
// after it was canceled, even if BuildKit's client does not return.
//
// With r, the Dockerfile is solved through BuildKit's gateway first, and
// when r finds the kept rootfs is this build's (reuse.decide) BuildKit
// exports an empty result and r.hit is set.
func solve(ctx context.Context, c *client.Client, so *client.SolveOpt, o *options, rootfsDir string, r *reuse, show func(*client.SolveStatus), hint func(string) string) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := newWatchdog(o.exportTimeout, cancel, hint)
	defer wd.Stop()
	rw := newResolveWatch(o.resolveTimeout, cancel)
	defer rw.Stop()
	extract := o.extract
	if extract == nil {
		extract = extractRootfs
	}
	exp := &rootfsExport{ctx: sctx, dir: rootfsDir, w: wd, extract: extract}
	for i := range so.Exports {
		if so.Exports[i].Type == client.ExporterTar && so.Exports[i].Output == nil {
			so.Exports[i].Output = exp.output
		}
	}

	var mu sync.Mutex
	abandoned := false
	statusCh := make(chan *client.SolveStatus)
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for s := range statusCh { // closed by Solve
			wd.status()
			rw.status(s)
			mu.Lock()
			if !abandoned {
				show(s)
			}
			mu.Unlock()
		}
	}()
	// BuildKit's version is part of the reuse key; asked while the
	// session starts.
	var bkVersion string
	versionDone := make(chan struct{})
	if r != nil {
		go func() {
			defer close(versionDone)
			info, err := c.Info(sctx)
			if err != nil {
				o.log.Debug("build reuse: no BuildKit version, not reusing", "err", err)
				return
			}
			v := info.BuildkitVersion
			bkVersion = v.Package + " " + v.Version + " " + v.Revision + " " + v.DockerfileVersion
		}()
	}
	done := make(chan error, 1)
	go func() {
		if r == nil {
			_, err := c.Solve(sctx, nil, *so, statusCh)
			done <- err
			return
		}
		_, err := c.Build(sctx, *so, "", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
			if ws := gw.BuildOpts().Workers; len(ws) > 0 && len(ws[0].Platforms) > 0 {
				r.platform = platforms.Format(ws[0].Platforms[0])
			}
			res, err := gw.Solve(ctx, gateway.SolveRequest{Frontend: so.Frontend, FrontendOpt: so.FrontendAttrs, Evaluate: true})
			if err != nil {
				return nil, err
			}
			<-versionDone
			if bkVersion != "" && r.decide(ctx, res, bkVersion, o) {
				r.hit = true
				return gateway.NewResult(), nil
			}
			return res, nil
		}, statusCh)
		done <- err
	}()

	var err error
	var canceled error // what a watch canceled the solve with
	select {
	case err = <-done:
	case <-wd.fired:
		canceled = wd.stalled()
	case <-rw.fired:
		canceled = rw.timedOut()
	}
	if canceled != nil {
		select {
		case err = <-done:
		case <-time.After(abandonAfter):
			// BuildKit's client ignores the cancel: leave it behind.
			mu.Lock()
			abandoned = true
			mu.Unlock()
			exp.abort(canceled)
			return canceled
		}
	}
	<-forwarded
	if re := rw.timedOut(); re != nil {
		exp.abort(re)
		return re
	}
	if st := wd.stalled(); st != nil {
		exp.abort(st)
		return st
	}
	if err != nil {
		exp.abort(err)
		if xerr := exp.err(); xerr != nil {
			return xerr
		}
		return err
	}
	return exp.err()
}
