package testenv

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer that a test may read (String) while another
// goroutine writes it: a plugin's output, a build's progress, a command
// running in the background.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
