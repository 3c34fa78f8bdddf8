package dev

import (
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
