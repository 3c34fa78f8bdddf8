package buildkitd

import (
	"strings"
	"testing"
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
