package build

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/dplug/dplug/pack"
)

// steps puts dplug's own work (validating the config, packing, pushing)
// into the BuildKit progress stream as extra vertices, so one display shows
// the whole build (the buildx progress.Write pattern).
type steps struct {
	mu sync.Mutex
	ch chan<- *client.SolveStatus // nil: discard
}

// step is one dplug vertex.
type step struct {
	s        *steps
	v        client.Vertex
	statuses map[string]*client.VertexStatus
	last     time.Time
}

// start begins a vertex named name ("[dplug] ...").
func (s *steps) start(name string) *step {
	now := time.Now()
	st := &step{s: s, statuses: map[string]*client.VertexStatus{}}
	st.v = client.Vertex{
		Digest:  digest.FromString(fmt.Sprintf("dplug %s %d", name, now.UnixNano())),
		Name:    name,
		Started: &now,
	}
	s.send(&client.SolveStatus{Vertexes: []*client.Vertex{st.vertex()}})
	return st
}

func (s *steps) send(ss *client.SolveStatus) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		s.ch <- ss
	}
}

func (st *step) vertex() *client.Vertex {
	v := st.v
	return &v
}

// progress reports bytes done for one phase of the step; updates are
// rate-limited except the final one.
func (st *step) progress(phase string, current, total int64) {
	now := time.Now()
	vs, ok := st.statuses[phase]
	if !ok {
		vs = &client.VertexStatus{ID: phase, Vertex: st.v.Digest, Started: &now}
		st.statuses[phase] = vs
	}
	vs.Current, vs.Total, vs.Timestamp = current, total, now
	final := total > 0 && current >= total
	if final {
		vs.Completed = &now
	} else if now.Sub(st.last) < 100*time.Millisecond {
		return
	}
	st.last = now
	c := *vs
	st.s.send(&client.SolveStatus{Statuses: []*client.VertexStatus{&c}})
}

// packProgress adapts pack's progress callback to the step.
func (st *step) packProgress(p pack.Progress) { st.progress(p.Phase, p.Complete, p.Total) }

// done completes the vertex, failed when err is not nil.
func (st *step) done(err error) {
	now := time.Now()
	st.v.Completed = &now
	if err != nil {
		st.v.Error = err.Error()
	}
	st.s.send(&client.SolveStatus{Vertexes: []*client.Vertex{st.vertex()}})
}

type stepsKey struct{}

// withSteps lets destinations report their work into the build's display.
func withSteps(ctx context.Context, s *steps) context.Context {
	return context.WithValue(ctx, stepsKey{}, s)
}

// stepsFrom returns the build's step reporter, or nil (which discards).
func stepsFrom(ctx context.Context) *steps {
	s, _ := ctx.Value(stepsKey{}).(*steps)
	return s
}

// packStep runs fn as a dplug vertex named name, with pack's progress
// reported into it; opts gain the progress option.
func packStep(ctx context.Context, name string, opts []pack.Option, fn func([]pack.Option) (string, error)) (string, error) {
	s := stepsFrom(ctx)
	if s == nil {
		return fn(opts)
	}
	st := s.start(name)
	out, err := fn(append(append([]pack.Option(nil), opts...), pack.WithProgress(st.packProgress)))
	st.done(err)
	return out, err
}
