package dev

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/exitcode"
)

func TestSettingsSession(t *testing.T) {
	for _, tc := range []struct {
		name     string
		s        Settings
		want     string // the session's type and plugin name, or ""
		inputErr string // a substring of the *InputError, or ""
	}{
		{name: "default name", s: Settings{Docker: true}, want: "docker myproj:dev"},
		{name: "given name", s: Settings{Docker: true, Name: "me/p:1"}, want: "docker me/p:1"},
		{name: "local", s: Settings{Name: "p"}, want: "local p"},
		{name: "bad name", s: Settings{Docker: true, Name: "Bad Name"}, inputErr: "name it with -t NAME"},
		{name: "digest name", s: Settings{Docker: true, Name: "p@sha256:" + strings.Repeat("a", 64)}, inputErr: "name it with -t NAME"},
		{name: "bad build-arg", s: Settings{Docker: true, BuildArgs: []string{"=x"}}, inputErr: "--build-arg"},
		{name: "bad build-context", s: Settings{Docker: true, Contexts: []string{"name"}}, inputErr: "--build-context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.s.Docker && runtime.GOOS != "linux" {
				tc.want, tc.inputErr = "", ""
			}
			sess, err := tc.s.session("/src/myproj", Env{})
			var ie *InputError
			switch {
			case tc.inputErr != "":
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.inputErr) {
					t.Fatalf("err = %v, want an *InputError with %q", err, tc.inputErr)
				}
				if code, _ := exitcode.Of(err); code != exitcode.Usage {
					t.Errorf("exit code = %d, want %d (usage)", code, exitcode.Usage)
				}
				return
			case tc.want == "":
				if err == nil || errors.As(err, &ie) {
					t.Fatalf("err = %v, want a plain error off Linux", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			got := ""
			switch s := sess.(type) {
			case *Docker:
				got = "docker " + s.Name
			case *Local:
				got = "local " + s.Name
			}
			if got != tc.want {
				t.Errorf("session = %q, want %q", got, tc.want)
			}
		})
	}
}
