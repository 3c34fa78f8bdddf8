package output

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dplug/dplug/pack"
	"golang.org/x/term"
)

// Progress shows pack's progress on stderr: a live line with bytes and rate
// on a terminal, one line per finished phase otherwise (CI logs).
type Progress struct {
	w       io.Writer
	tty     bool
	phase   string
	start   time.Time
	last    pack.Progress
	lastOut time.Time
}

// NewProgress shows progress on w, live when w is a terminal.
func NewProgress(w io.Writer) *Progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &Progress{w: w, tty: tty}
}

// Update shows u; pass it as pack.WithProgress(p.Update).
func (p *Progress) Update(u pack.Progress) {
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
func (p *Progress) format() string {
	el := time.Since(p.start).Seconds()
	rate := ""
	if el > 0.05 {
		rate = "  " + Human(int64(float64(p.last.Complete)/el)) + "/s"
	}
	total := ""
	if p.last.Total > 0 && p.last.Total != p.last.Complete {
		total = " / " + Human(p.last.Total)
	}
	if p.noBytes() {
		return fmt.Sprintf("%-10s %s", p.phase, time.Since(p.start).Round(100*time.Millisecond))
	}
	return fmt.Sprintf("%-10s %s%s%s", p.phase, Human(p.last.Complete), total, rate)
}

// noBytes reports whether the current phase moves no bytes (connecting,
// finishing): waiting on the registry.
func (p *Progress) noBytes() bool { return p.last.Complete == 0 && p.last.Total == 0 }

// summary renders the line for a finished phase.
func (p *Progress) summary() string {
	el := time.Since(p.start).Round(time.Millisecond)
	if p.noBytes() {
		return fmt.Sprintf("%-10s in %s", p.phase, el)
	}
	return fmt.Sprintf("%-10s %s in %s", p.phase, Human(p.last.Complete), el)
}

// finish ends the current phase's line. A phase that moved no bytes is
// summed up only when another phase follows (next): a command that fails
// while connecting prints its error alone.
func (p *Progress) finish(next bool) {
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

// Done ends the progress of a command that failed (or any): a phase that
// moved no bytes is not summed up.
func (p *Progress) Done() { p.finish(false) }

// Succeeded ends the progress of a command that worked: every phase is
// summed up.
func (p *Progress) Succeeded() { p.finish(true) }

// Line prints a message, keeping the live line intact.
func (p *Progress) Line(format string, args ...any) {
	p.finish(true)
	fmt.Fprintf(p.w, format+"\n", args...)
}
