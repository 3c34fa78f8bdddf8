package build

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// DefaultResolveTimeout bounds how long BuildKit may take to resolve one
// base image (the "[internal] load metadata for REF" step: a manifest and
// a config from the registry, seconds even on a slow link). A registry that
// accepts connections and never answers would otherwise hold the build
// forever: BuildKit's resolver has no timeout of its own.
const DefaultResolveTimeout = 2 * time.Minute

// ResolveError says which base image's registry did not answer in time.
type ResolveError struct {
	Step    string // the step as BuildKit names it
	Timeout time.Duration
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("%s: the registry did not answer within %s: check that it is up and reachable, "+
		"or give the image as a named context (--build-context NAME=oci-layout://DIR@DIGEST)", e.Step, e.Timeout)
}

// resolveWatch cancels a solve when a base image's metadata step stays
// unfinished for longer than its timeout. Only those steps are timed: a
// long RUN step is the author's business, not a hang.
type resolveWatch struct {
	timeout time.Duration
	cancel  context.CancelCauseFunc
	mu      sync.Mutex
	started map[digest.Digest]resolveStep
	stop    chan struct{}
	once    sync.Once
	fired   chan struct{} // closed when the watch canceled the solve
	err     *ResolveError
}

type resolveStep struct {
	name string
	at   time.Time
}

func newResolveWatch(timeout time.Duration, cancel context.CancelCauseFunc) *resolveWatch {
	if timeout <= 0 {
		timeout = DefaultResolveTimeout
	}
	w := &resolveWatch{timeout: timeout, cancel: cancel, started: map[digest.Digest]resolveStep{},
		stop: make(chan struct{}), fired: make(chan struct{})}
	go w.run()
	return w
}

// status notes the metadata steps a status update starts or completes.
func (w *resolveWatch) status(s *client.SolveStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range s.Vertexes {
		if !strings.HasPrefix(v.Name, "[internal] load metadata for ") {
			continue
		}
		switch {
		case v.Completed != nil:
			delete(w.started, v.Digest)
		case v.Started != nil:
			if _, ok := w.started[v.Digest]; !ok {
				w.started[v.Digest] = resolveStep{name: strings.TrimPrefix(v.Name, "[internal] "), at: time.Now()}
			}
		}
	}
}

func (w *resolveWatch) run() {
	tick := time.NewTicker(w.timeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-tick.C:
			w.mu.Lock()
			for _, st := range w.started {
				if now.Sub(st.at) > w.timeout {
					w.err = &ResolveError{Step: st.name, Timeout: w.timeout}
					w.cancel(w.err)
					close(w.fired)
					w.mu.Unlock()
					return
				}
			}
			w.mu.Unlock()
		}
	}
}

// timedOut is the error the watch canceled the solve with, or nil.
func (w *resolveWatch) timedOut() *ResolveError {
	select {
	case <-w.fired:
		return w.err
	default:
		return nil
	}
}

// Stop ends the watch.
func (w *resolveWatch) Stop() { w.once.Do(func() { close(w.stop) }) }
