package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Step is one stage of an iteration.
type Step struct {
	Name string
	// Run does the step; a non-empty note is shown after its time (e.g. a
	// test verdict). An error stops the iteration.
	Run func(ctx context.Context) (note string, err error)
}

// Iteration is what one pass did.
type Iteration struct {
	N     int
	Steps []StepResult
	Err   error
	Took  time.Duration
}

// StepResult is one step's outcome.
type StepResult struct {
	Name string
	Took time.Duration
	Note string
	Err  error
}

// String is the iteration's one line: "#2 build 1.2s · load 0.4s · test 0.1s ok".
func (it Iteration) String() string {
	var parts []string
	for _, s := range it.Steps {
		p := fmt.Sprintf("%s %s", s.Name, s.Took.Round(10*time.Millisecond))
		if s.Note != "" {
			p += " " + s.Note
		}
		if s.Err != nil {
			p += " FAILED"
		}
		parts = append(parts, p)
	}
	line := fmt.Sprintf("#%d %s (total %s)", it.N, strings.Join(parts, " · "), it.Took.Round(10*time.Millisecond))
	if it.Err != nil {
		line += ": " + it.Err.Error()
	}
	return line
}

// Options configures Loop.
type Options struct {
	// Debounce is how long the project must be quiet after a change
	// before an iteration starts (default 300ms).
	Debounce time.Duration
	// Report receives every iteration (default: its String to Out).
	Report func(Iteration)
	// Out is where iteration lines go when Report is nil (default stderr).
	Out io.Writer
	// Once runs one iteration and returns its error (for scripts and tests).
	Once bool
}

// ignored reports whether a path under the project never triggers a
// rebuild: rootfs/ (a build output), VCS dirs, editor temp files.
func ignored(rel string) bool {
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		switch part {
		case "rootfs", ".git", ".hg", ".svn", ".jj", ".dplug":
			return true
		}
	}
	base := filepath.Base(rel)
	return strings.HasSuffix(base, "~") || strings.HasPrefix(base, ".#") ||
		strings.HasSuffix(base, ".swp") || strings.HasSuffix(base, ".swx") || base == "4913"
}

// Loop runs steps now and again after every change under dir until ctx
// ends (Ctrl-C), which it returns as nil. A failed iteration is reported
// and the loop waits for the next change.
func Loop(ctx context.Context, dir string, steps []Step, o Options) error {
	if o.Debounce <= 0 {
		o.Debounce = 300 * time.Millisecond
	}
	if o.Report == nil {
		out := o.Out
		if out == nil {
			out = os.Stderr
		}
		o.Report = func(it Iteration) { fmt.Fprintf(out, "dev: %s\n", it) }
	}
	n := 0
	iterate := func() error {
		n++
		it := runSteps(ctx, n, steps)
		o.Report(it)
		return it.Err
	}
	if o.Once {
		return iterate()
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	defer w.Close()
	if err := addTree(w, dir); err != nil {
		return err
	}
	_ = iterate()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			rel, err := filepath.Rel(dir, ev.Name)
			if err != nil || ignored(rel) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					_ = addTree(w, ev.Name)
				}
			}
			timer = time.After(o.Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			return fmt.Errorf("watching %s: %w", dir, err)
		case <-timer:
			timer = nil
			_ = iterate()
		}
	}
}

func runSteps(ctx context.Context, n int, steps []Step) Iteration {
	it := Iteration{N: n}
	start := time.Now()
	for _, s := range steps {
		t := time.Now()
		note, err := s.Run(ctx)
		it.Steps = append(it.Steps, StepResult{Name: s.Name, Took: time.Since(t), Note: note, Err: err})
		if err != nil {
			it.Err = fmt.Errorf("%s: %w", s.Name, err)
			break
		}
	}
	it.Took = time.Since(start)
	return it
}

// addTree watches dir and its subdirectories, except ignored ones.
func addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." && ignored(rel) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil {
			return fmt.Errorf("watching %s: %w", p, err)
		}
		return nil
	})
}
