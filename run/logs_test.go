package run

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestCopyLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("no follow", func(t *testing.T) {
		var b bytes.Buffer
		if err := copyLog(context.Background(), &b, path, false, func() bool { return true }); err != nil || b.String() != "one\n" {
			t.Errorf("copyLog = %v, %q", err, b.String())
		}
	})
	t.Run("follow until exit", func(t *testing.T) {
		// The plugin writes once more, then exits: what it wrote last is
		// copied too.
		var polls atomic.Int32
		running := func() bool {
			if polls.Add(1) == 1 {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Error(err)
					return false
				}
				defer f.Close()
				_, _ = f.WriteString("two\n")
				return true
			}
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			_, _ = f.WriteString("three\n")
			f.Close()
			return false
		}
		var b bytes.Buffer
		if err := copyLog(context.Background(), &b, path, true, running); err != nil || b.String() != "one\ntwo\nthree\n" {
			t.Errorf("copyLog = %v, %q", err, b.String())
		}
	})
	t.Run("follow until canceled", func(t *testing.T) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*logPoll)
		defer cancel()
		var b bytes.Buffer
		if err := copyLog(ctx, &b, path, true, func() bool { return true }); err != nil || !bytes.HasPrefix(b.Bytes(), []byte("one\n")) {
			t.Errorf("copyLog = %v, %q", err, b.String())
		}
		if time.Since(start) < 2*logPoll {
			t.Error("returned before ctx ended")
		}
	})
	t.Run("no log", func(t *testing.T) {
		if err := copyLog(context.Background(), new(bytes.Buffer), filepath.Join(t.TempDir(), "none"), false, nil); !os.IsNotExist(err) {
			t.Errorf("copyLog of a missing log = %v, want not exist", err)
		}
	})
}
