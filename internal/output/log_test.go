package output

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestLineHandler(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"warning with attrs", func(l *slog.Logger) { l.Warn("cleaning up", "err", "busy") }, "dplug: warning: cleaning up err=busy\n"},
		{"diagnostic keeps its own severity", func(l *slog.Logger) { l.Warn("c.json:1:2: warning: user is ignored (DP601)") },
			"dplug: c.json:1:2: warning: user is ignored (DP601)\n"},
		{"error", func(l *slog.Logger) { l.With("plugin", "p").Error("gone") }, "dplug: error: gone plugin=p\n"},
		{"below the level", func(l *slog.Logger) { l.Info("chatter") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.log(slog.New(NewLineHandler(&b, slog.LevelWarn)))
			if b.String() != tt.want {
				t.Errorf("got %q; want %q", b.String(), tt.want)
			}
		})
	}
}

func TestSyncWriter(t *testing.T) {
	var b bytes.Buffer
	w := &SyncWriter{W: &b}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); fmt.Fprint(w, "ab") }()
	}
	wg.Wait()
	if b.String() != strings.Repeat("ab", 8) {
		t.Errorf("got %q", b.String())
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	NewLogger(&b, false).Info("quiet")
	NewLogger(&b, false).Warn("loud")
	if b.String() != "dplug: warning: loud\n" {
		t.Errorf("without debug: %q", b.String())
	}
	b.Reset()
	NewLogger(&b, true).Debug("chatter")
	if !strings.Contains(b.String(), "level=DEBUG msg=chatter") {
		t.Errorf("with debug: %q", b.String())
	}
}
