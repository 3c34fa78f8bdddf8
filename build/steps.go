package build

import (
	"fmt"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/dplug/dplug/dest"
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

// done completes the vertex, failed when err is not nil.
func (st *step) done(err error) {
	now := time.Now()
	st.v.Completed = &now
	if err != nil {
		st.v.Error = err.Error()
	}
	st.s.send(&client.SolveStatus{Vertexes: []*client.Vertex{st.vertex()}})
}

var _ dest.Progress = (*steps)(nil)

// Start begins the dplug vertex "[dplug] name" for a destination's
// delivery step (dest.Progress).
func (s *steps) Start(name string) dest.Step { return s.start("[dplug] " + name) }

// Update reports a destination's bytes done (dest.Step).
func (st *step) Update(phase string, done, total int64) { st.progress(phase, done, total) }

// Done completes a destination's step (dest.Step).
func (st *step) Done(_ string, err error) { st.done(err) }
