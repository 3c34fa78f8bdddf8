package dev

import (
	"bytes"
	"io"
	"sync"
)

// SyncWriter serialises writes to w: the plugin's output lines, written by
// run's copiers, and the loop's own lines share one terminal.
func SyncWriter(w io.Writer) io.Writer { return &syncWriter{w: w} }

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// prefixWriter starts every line written to it with prefix; one is shared
// by the plugin's stdout and stderr, so that a partial line of one is
// never split by the other's prefix mid-line.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	midln  bool
}

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var buf bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !p.midln {
			buf.WriteString(p.prefix)
		}
		buf.Write(line)
		p.midln = line[len(line)-1] != '\n'
	}
	if _, err := p.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}
