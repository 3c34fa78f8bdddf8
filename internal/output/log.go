package output

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// LineHandler is the slog handler dplug uses without --debug: one line per
// record, "dplug: warning: MESSAGE key=value", like the CLI's own errors —
// no timestamps or quoting meant for log collectors (--debug keeps slog's
// text format, with times). Groups are flattened: dplug's packages use none.
type LineHandler struct {
	w     io.Writer
	level slog.Level
	mu    *sync.Mutex
	attrs []slog.Attr
}

// NewLogger is the logger dplug's commands use: with debug, slog's text
// format with every level on w; otherwise warnings and errors only, one
// line each (LineHandler).
func NewLogger(w io.Writer, debug bool) *slog.Logger {
	if debug {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(NewLineHandler(w, slog.LevelWarn))
}

// NewLineHandler writes the records at level and above to w.
func NewLineHandler(w io.Writer, level slog.Level) *LineHandler {
	return &LineHandler{w: w, level: level, mu: &sync.Mutex{}}
}

func (h *LineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *LineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("dplug: ")
	switch {
	case strings.Contains(r.Message, ": warning: ") || strings.Contains(r.Message, ": error: "):
		// A validator diagnostic carries its own severity.
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	attrs := append([]slog.Attr(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
	for _, a := range attrs {
		if !a.Equal(slog.Attr{}) {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String()+"\n")
	return err
}

func (h *LineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *LineHandler) WithGroup(string) slog.Handler { return h }

// SyncWriter serialises writes to W: run and test share stderr between
// the plugin's output and dplug's own messages.
type SyncWriter struct {
	mu sync.Mutex
	W  io.Writer
}

func (s *SyncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.W.Write(b)
}
