package buildkitd

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIdleFromEnv(t *testing.T) {
	for v, want := range map[string]string{"": DefaultIdle.String(), "0": "0s", "5m": "5m0s"} {
		t.Setenv(IdleEnv, v)
		if d, err := IdleFromEnv(); err != nil || d.String() != want {
			t.Errorf("%s=%q: %v, %v; want %s", IdleEnv, v, d, err, want)
		}
	}
	for _, v := range []string{"-1m", "soon"} {
		t.Setenv(IdleEnv, v)
		if _, err := IdleFromEnv(); err == nil || !strings.Contains(err.Error(), IdleEnv) {
			t.Errorf("%s=%q: error %v, want one naming %s", IdleEnv, v, err, IdleEnv)
		}
	}
}

func TestStatusString(t *testing.T) {
	for _, tt := range []struct {
		st   Status
		want string
	}{
		{Status{StateDir: "/s"}, "not running (state /s)"},
		{Status{Running: true, PID: 7, Addr: "unix:///a", LogFile: "/l"}, "pid 7 does not answer on unix:///a (log /l)"},
		{Status{Running: true, Answering: true, PID: 7, Addr: "unix:///a", StateDir: "/s", LogFile: "/l"}, "running: pid 7, unix:///a, state /s, log /l"},
	} {
		if got := tt.st.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestStatusWrite(t *testing.T) {
	for _, tt := range []struct {
		st      Status
		asJSON  bool
		want    string
		healthy bool
	}{
		{Status{StateDir: "/s"}, false, "not running (state /s)\n", false},
		{Status{StateDir: "/s", Addr: "unix:///a", LogFile: "/l"}, true,
			`{"running":false,"addr":"unix:///a","stateDir":"/s","logFile":"/l","answering":false}` + "\n", false},
		{Status{Running: true, PID: 7, Addr: "unix:///a", LogFile: "/l"}, false, "pid 7 does not answer on unix:///a (log /l)\n", false},
		{Status{Running: true, Answering: true, PID: 7, Addr: "unix:///a", StateDir: "/s", LogFile: "/l"}, true,
			`{"running":true,"pid":7,"addr":"unix:///a","stateDir":"/s","logFile":"/l","answering":true}` + "\n", true},
	} {
		var b strings.Builder
		if err := tt.st.Write(&b, tt.asJSON); err != nil || b.String() != tt.want {
			t.Errorf("Write(json=%v) = %q, %v; want %q", tt.asJSON, b.String(), err, tt.want)
		}
		if got := tt.st.Healthy(); got != tt.healthy {
			t.Errorf("%+v: Healthy() = %v, want %v", tt.st, got, tt.healthy)
		}
	}
}

func TestSelfWatched(t *testing.T) {
	t.Setenv(IdleEnv, "5m")
	if opts, err := SelfWatched("/root"); err != nil || len(opts) != 0 {
		t.Errorf("from a test binary: %d options, %v; want none", len(opts), err)
	}
	t.Setenv(IdleEnv, "soon")
	if _, err := SelfWatched("/root"); err == nil {
		t.Errorf("invalid %s: no error", IdleEnv)
	}
	for _, tt := range []struct {
		idle        time.Duration
		wantWatcher []string
	}{
		{0, nil},
		{5 * time.Minute, []string{"/bin/dplug", "--root", "/r", "buildkitd", "watch", "--idle", "5m0s"}},
	} {
		var o options
		for _, opt := range watchedBy("/bin/dplug", "/r", tt.idle) {
			opt(&o)
		}
		if o.idle != tt.idle || !slices.Equal(o.watcher, tt.wantWatcher) {
			t.Errorf("watchedBy(idle %s): idle %s, watcher %q; want %q", tt.idle, o.idle, o.watcher, tt.wantWatcher)
		}
	}
}
