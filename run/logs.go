package run

import (
	"context"
	"io"
	"os"
	"time"
)

// logPoll is how often CopyLog looks for new output when following.
const logPoll = 200 * time.Millisecond

// CopyLog copies the plugin's log (its stdout and stderr) to w; with
// follow, it then copies what the plugin writes next until it exits or ctx
// ends. It works on a run started by another process (Load).
func (i *Instance) CopyLog(ctx context.Context, w io.Writer, follow bool) error {
	return copyLog(ctx, w, i.LogPath(), follow, i.Running)
}

// copyLog is CopyLog for the log file at path of a plugin that runs as
// long as running says so.
func copyLog(ctx context.Context, w io.Writer, path string, follow bool, running func() bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		if !follow {
			return nil
		}
		if !running() {
			_, err := io.Copy(w, f)
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(logPoll):
		}
	}
}
