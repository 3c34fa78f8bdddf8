package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
)

// Step is one BuildKit vertex of a finished solve.
type Step struct {
	Name   string `json:"name"`
	Cached bool   `json:"cached"`
	Error  string `json:"error,omitempty"`
}

// maxLogLines is how many output lines of a failed step an error shows.
const maxLogLines = 15

// tracker follows the solve status: it remembers each vertex's final state
// and the last lines each one printed, for Result.Steps and error messages.
type tracker struct {
	mu    sync.Mutex
	order []digest.Digest
	steps map[digest.Digest]*Step
	logs  map[digest.Digest]*tail
}

func newTracker() *tracker {
	return &tracker{steps: map[digest.Digest]*Step{}, logs: map[digest.Digest]*tail{}}
}

func (t *tracker) update(s *client.SolveStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, v := range s.Vertexes {
		st, ok := t.steps[v.Digest]
		if !ok {
			st = &Step{}
			t.steps[v.Digest] = st
			t.order = append(t.order, v.Digest)
		}
		st.Name = v.Name
		st.Cached = st.Cached || v.Cached
		if v.Error != "" {
			st.Error = v.Error
		}
	}
	for _, l := range s.Logs {
		tl, ok := t.logs[l.Vertex]
		if !ok {
			tl = &tail{}
			t.logs[l.Vertex] = tl
		}
		tl.write(l.Data)
	}
}

// Steps returns the vertices in the order BuildKit first reported them.
func (t *tracker) Steps() []Step {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Step, 0, len(t.order))
	for _, d := range t.order {
		out = append(out, *t.steps[d])
	}
	return out
}

// failed returns the first step that failed (ignoring cancellations caused
// by it) and its last output lines.
func (t *tracker) failed() (Step, []string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var cands []digest.Digest
	for _, d := range t.order {
		st := t.steps[d]
		if st.Error != "" && !strings.Contains(st.Error, "context canceled") {
			cands = append(cands, d)
		}
	}
	if len(cands) == 0 {
		return Step{}, nil, false
	}
	// Prefer a step that printed something (the RUN rather than a parent).
	sort.SliceStable(cands, func(i, j int) bool { return t.logs[cands[i]] != nil && t.logs[cands[j]] == nil })
	d := cands[0]
	var lines []string
	if tl := t.logs[d]; tl != nil {
		lines = tl.lines()
	}
	return *t.steps[d], lines, true
}

// tail keeps the last maxLogLines lines written to it.
type tail struct {
	partial []byte
	last    []string
}

func (t *tail) write(p []byte) {
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.push(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
}

func (t *tail) push(line string) {
	line = strings.TrimRight(line, "\r")
	t.last = append(t.last, line)
	if len(t.last) > maxLogLines {
		t.last = t.last[len(t.last)-maxLogLines:]
	}
}

func (t *tail) lines() []string {
	out := append([]string(nil), t.last...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > maxLogLines {
		out = out[len(out)-maxLogLines:]
	}
	return out
}

// newDisplay makes BuildKit's progressui display for mode on w; auto
// falls back to plain when w is not a terminal.
func newDisplay(mode progressui.DisplayMode, w io.Writer) (progressui.Display, error) {
	switch mode {
	case progressui.AutoMode, progressui.TtyMode, progressui.PlainMode, progressui.QuietMode, progressui.RawJSONMode:
	default:
		return progressui.Display{}, fmt.Errorf("unknown progress mode %q: use auto, plain, tty, quiet or rawjson", mode)
	}
	if mode == progressui.QuietMode || w == io.Discard {
		return progressui.NewDisplay(io.Discard, progressui.QuietMode)
	}
	d, err := progressui.NewDisplay(w, mode)
	if err != nil && mode == progressui.AutoMode {
		d, err = progressui.NewDisplay(w, progressui.PlainMode)
	}
	if err != nil {
		return progressui.Display{}, fmt.Errorf("progress %s: %w", mode, err)
	}
	return d, nil
}

// display feeds ch to d and to the tracker until ch is closed.
func display(d progressui.Display, ch chan *client.SolveStatus, tr *tracker) error {
	inner := make(chan *client.SolveStatus)
	done := make(chan error, 1)
	go func() {
		// Not the solve's context: the display must show the final error.
		_, err := d.UpdateFrom(context.Background(), inner)
		done <- err
		for range inner { // keep the solve unblocked if the display gave up
		}
	}()
	for s := range ch {
		tr.update(s)
		inner <- s
	}
	close(inner)
	return <-done
}
