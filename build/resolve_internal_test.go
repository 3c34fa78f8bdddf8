package build

import (
	"context"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// Only unfinished metadata steps are timed: a completed one, or a long RUN
// step, never cancels the build.
func TestResolveWatchTimesOnlyUnfinishedMetadata(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		vertexes []*client.Vertex
		fire     bool
	}{
		{"unfinished metadata", []*client.Vertex{{Digest: digest.FromString("a"), Name: "[internal] load metadata for r/x:1", Started: &now}}, true},
		{"completed metadata", []*client.Vertex{
			{Digest: digest.FromString("a"), Name: "[internal] load metadata for r/x:1", Started: &now},
			{Digest: digest.FromString("a"), Name: "[internal] load metadata for r/x:1", Started: &now, Completed: &now},
		}, false},
		{"long RUN step", []*client.Vertex{{Digest: digest.FromString("b"), Name: "[2/3] RUN sleep 600", Started: &now}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			w := newResolveWatch(200*time.Millisecond, cancel)
			defer w.Stop()
			for _, v := range tc.vertexes {
				w.status(&client.SolveStatus{Vertexes: []*client.Vertex{v}})
			}
			select {
			case <-w.fired:
				if !tc.fire {
					t.Fatalf("fired: %v", context.Cause(ctx))
				}
				if w.timedOut() == nil || w.timedOut().Step != "load metadata for r/x:1" {
					t.Errorf("timedOut() = %v", w.timedOut())
				}
			case <-time.After(time.Second):
				if tc.fire {
					t.Fatal("did not fire")
				}
			}
		})
	}
}
