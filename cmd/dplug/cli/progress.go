package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/pack"
	"golang.org/x/term"
)

// progress shows pack's progress on stderr: a live line with bytes and rate
// on a terminal, one line per finished phase otherwise (CI logs).
type progress struct {
	w       io.Writer
	tty     bool
	phase   string
	start   time.Time
	last    pack.Progress
	lastOut time.Time
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) update(u pack.Progress) {
	if u.Phase != p.phase {
		p.finish(true)
		p.phase, p.start = u.Phase, time.Now()
	}
	p.last = u
	if p.tty && time.Since(p.lastOut) > 100*time.Millisecond {
		p.lastOut = time.Now()
		fmt.Fprintf(p.w, "\r\033[K%s", p.format())
	}
}

// format renders the live line: phase, bytes so far (of total), rate.
func (p *progress) format() string {
	el := time.Since(p.start).Seconds()
	rate := ""
	if el > 0.05 {
		rate = "  " + human(int64(float64(p.last.Complete)/el)) + "/s"
	}
	total := ""
	if p.last.Total > 0 && p.last.Total != p.last.Complete {
		total = " / " + human(p.last.Total)
	}
	if p.noBytes() {
		return fmt.Sprintf("%-10s %s", p.phase, time.Since(p.start).Round(100*time.Millisecond))
	}
	return fmt.Sprintf("%-10s %s%s%s", p.phase, human(p.last.Complete), total, rate)
}

// noBytes reports whether the current phase moves no bytes (connecting,
// finishing): waiting on the registry.
func (p *progress) noBytes() bool { return p.last.Complete == 0 && p.last.Total == 0 }

// summary renders the line for a finished phase.
func (p *progress) summary() string {
	el := time.Since(p.start).Round(time.Millisecond)
	if p.noBytes() {
		return fmt.Sprintf("%-10s in %s", p.phase, el)
	}
	return fmt.Sprintf("%-10s %s in %s", p.phase, human(p.last.Complete), el)
}

// finish ends the current phase's line. A phase that moved no bytes is
// summed up only when another phase follows (next): a command that fails
// while connecting prints its error alone.
func (p *progress) finish(next bool) {
	if p.phase == "" {
		return
	}
	if !next && p.noBytes() {
		if p.tty {
			fmt.Fprint(p.w, "\r\033[K")
		}
		p.phase = ""
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", p.summary())
	} else {
		fmt.Fprintln(p.w, p.summary())
	}
	p.phase = ""
}

// done ends the progress of a command that failed (or any): a phase that
// moved no bytes is not summed up.
func (p *progress) done() { p.finish(false) }

// succeeded ends the progress of a command that worked: every phase is
// summed up.
func (p *progress) succeeded() { p.finish(true) }

// line prints a message, keeping the live line intact.
func (p *progress) line(format string, args ...any) {
	p.finish(true)
	fmt.Fprintf(p.w, format+"\n", args...)
}

// human renders a byte count in B, KiB, MiB or GiB.
func human(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// destProgress shows the bytes a destination moves on p (dest.Progress:
// each step's bytes as pack's progress).
type destProgress struct{ p *progress }

func (d destProgress) Start(string) dest.Step { return d }

func (d destProgress) Update(phase string, done, total int64) {
	d.p.update(pack.Progress{Phase: phase, Complete: done, Total: total})
}

func (d destProgress) Done(string, error) {}

// printResult prints a command's result on stdout: v as indented JSON with
// --output json, else text.
func printResult(g *globalOptions, v any, text string) error {
	if g.outputJSON() {
		return writeJSON(g.stdout, v)
	}
	fmt.Fprintln(g.stdout, text)
	return nil
}
