package harness

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// prefixWriter writes each line with a prefix; it is safe for the plugin's
// stdout and stderr to share one.
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

// shortName is the last path element of a plugin name, the prefix of its
// output lines: "example.com/me/vol:dev" → "vol:dev".
func shortName(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}
