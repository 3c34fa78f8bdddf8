package build_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
)

// interfaces lists the interface names of a /proc/net/dev listing.
func interfaces(t *testing.T, procNetDev string) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(procNetDev, "\n") {
		name, _, ok := strings.Cut(line, ":")
		if !ok || strings.Contains(name, "|") {
			continue // the two header lines
		}
		names = append(names, strings.TrimSpace(name))
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatalf("no interfaces in %q", procNetDev)
	}
	return names
}

// TestBuildNetwork: --network none leaves a RUN only the loopback
// interface; host gives it the host's interfaces (the network.host
// entitlement, which the daemon dplug starts allows).
func TestBuildNetwork(t *testing.T) {
	e := setup(t)
	host, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode string
		want []string
	}{
		{build.NetworkNone, []string{"lo"}},
		{build.NetworkHost, interfaces(t, string(host))},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			// The mode is part of the step's cache key: no stale result.
			ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nRUN cat /proc/net/dev > /net-dev\n"})
			out := filepath.Join(t.TempDir(), "plugin")
			if _, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t, build.WithNetwork(tc.mode))...); err != nil {
				t.Fatal(err)
			}
			got := interfaces(t, readFile(t, filepath.Join(out, "rootfs/net-dev")))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("interfaces in a RUN with --network %s (-want +got)\n%s", tc.mode, diff)
			}
		})
	}
}

func TestBuildNetworkInvalid(t *testing.T) {
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\n"})
	// No BuildKit at this address: the mode must be refused before any dial.
	_, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: filepath.Join(t.TempDir(), "p")},
		build.WithAddr("unix:///nonexistent/buildkitd.sock"), build.WithNetwork("bridge"))
	var ie *build.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `invalid network mode "bridge": use default, host or none`) {
		t.Errorf("error %T %v, want an InputError naming the modes", err, err)
	}
}
