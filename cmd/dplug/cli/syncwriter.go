package cli

import (
	"io"
	"sync"
)

// syncWriter serialises writes to w: run and test share stderr between
// the plugin's output and dplug's own messages.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
