package pack

import (
	"strings"
	"testing"
	"time"
)

func TestTimeoutFromEnv(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want time.Duration
		err  string
	}{
		{"", DefaultTimeout, ""},
		{"2m", 2 * time.Minute, ""},
		{"0s", DefaultTimeout, `invalid DPLUG_TIMEOUT "0s"`},
		{"soon", DefaultTimeout, `invalid DPLUG_TIMEOUT "soon": want a positive duration`},
	} {
		t.Setenv(TimeoutEnv, tt.env)
		d, err := TimeoutFromEnv()
		if d != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s=%q: %v, %v; want %v, %q", TimeoutEnv, tt.env, d, err, tt.want, tt.err)
		}
	}
}
