package build_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/validate"
)

func TestMain(m *testing.M) {
	// containerd's content store warns about fsverity through logrus.
	logrus.SetLevel(logrus.ErrorLevel)
	code := m.Run()
	testenv.StopSharedBuildkitd()
	os.Exit(code)
}

// TestRunQuietsLogrus checks that Run silences logrus' global logger
// unless its logger shows debug records (dplug --debug).
func TestRunQuietsLogrus(t *testing.T) {
	std := logrus.StandardLogger()
	saved := std.Out
	t.Cleanup(func() { std.SetOutput(saved) })
	for _, tc := range []struct {
		name  string
		level slog.Level
		quiet bool
	}{
		{"warnings only", slog.LevelWarn, true},
		{"debug", slog.LevelDebug, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			std.SetOutput(&out)
			log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: tc.level}))
			_, err := build.Run(context.Background(), filepath.Join(t.TempDir(), "none"), &dest.Dir{Path: t.TempDir()}, build.WithLogger(log))
			if ie := (*build.InputError)(nil); !errors.As(err, &ie) {
				t.Fatalf("Run of a missing context = %v, want an *InputError", err)
			}
			if quiet := std.Out == io.Discard; quiet != tc.quiet {
				t.Errorf("logrus silenced = %v, want %v", quiet, tc.quiet)
			}
		})
	}
}

// project writes a build context: the given files plus a valid config.json.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := testplugin.Config()
	cfg.Entrypoint = []string{"/bin/sh", "/plugin.sh"}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"config.json": string(data)}
	for k, v := range files {
		all[k] = v
	}
	for name, body := range all {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// env is what every real build needs: a buildkitd and the busybox base.
type env struct {
	addr string
	base *testenv.BaseImage
}

func setup(t *testing.T) env {
	t.Helper()
	testenv.Short(t)
	bk := testenv.SharedBuildkitd(t)
	return env{addr: bk.Addr, base: testenv.BusyboxLayout(t)}
}

// opts are the options of a build against e with the base context.
func (e env) opts(t *testing.T, more ...build.Option) []build.Option {
	var log bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("build progress:\n%s", log.String())
		}
	})
	return append([]build.Option{
		build.WithAddr(e.addr),
		build.WithBuildContexts(map[string]string{"base": e.base.BuildContext()}),
		build.WithProgress("plain", &log),
	}, more...)
}

const multiStage = `
FROM base AS build
ARG GREETING=hello
RUN mkdir -p /out && echo "$GREETING from build" > /out/greeting
RUN --mount=type=secret,id=token,required=true wc -c < /run/secrets/token > /out/token-length

FROM base AS extra
RUN echo extra > /extra

FROM base
COPY --from=build /out/ /opt/
COPY plugin.sh /plugin.sh
`

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestBuildDir(t *testing.T) {
	e := setup(t)
	ctxDir := project(t, map[string]string{"Dockerfile": multiStage, "plugin.sh": "echo plugin\n"})
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "plugin")
	res, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t,
		build.WithBuildArgs(map[string]string{"GREETING": "hi"}),
		build.WithSecrets("id=token,src="+secret),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != out {
		t.Errorf("Output = %q, want %q", res.Output, out)
	}
	for _, c := range []struct{ path, want string }{
		{"rootfs/opt/greeting", "hi from build\n"},
		{"rootfs/opt/token-length", "6\n"},
		{"rootfs/plugin.sh", "echo plugin\n"},
		{"config.json", readFile(t, filepath.Join(ctxDir, "config.json"))},
	} {
		if got := readFile(t, filepath.Join(out, c.path)); got != c.want {
			t.Errorf("%s = %q, want %q", c.path, got, c.want)
		}
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("plugin dir mode: %v, %v; want 0755", fi.Mode(), err)
	}
	if fi, err := os.Lstat(filepath.Join(out, "rootfs/bin/sh")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("rootfs/bin/sh from the base image: %v, %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(out, "rootfs/extra")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rootfs/extra of an unbuilt stage exists: %v", err)
	}
	// No secret in the result, no staging dir left.
	if strings.Contains(readFile(t, filepath.Join(out, "rootfs/opt/token-length")), "s3cr3t") {
		t.Error("secret leaked into the rootfs")
	}
	assertNoStaging(t, filepath.Dir(out))

	// The same build again replaces the plugin dir and does no work.
	res, err = build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t,
		build.WithBuildArgs(map[string]string{"GREETING": "hi"}),
		build.WithSecrets("id=token,src="+secret),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	work := 0
	for _, s := range res.Steps {
		if isWork(s.Name) && !s.Cached {
			t.Errorf("rebuild ran %q, want it cached", s.Name)
		}
		if isWork(s.Name) {
			work++
		}
	}
	if work < 3 {
		t.Errorf("rebuild reported %d RUN/COPY steps, want ≥ 3: %+v", work, res.Steps)
	}
	if got := readFile(t, filepath.Join(out, "rootfs/opt/greeting")); got != "hi from build\n" {
		t.Errorf("after rebuild greeting = %q", got)
	}
}

// isWork reports whether a vertex is a Dockerfile step that does work.
func isWork(name string) bool {
	return strings.Contains(name, "] RUN ") || strings.Contains(name, "] COPY ")
}

func assertNoStaging(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".dplug-build-") {
			t.Errorf("staging dir %s left behind", e.Name())
		}
	}
}

func TestBuildTarget(t *testing.T) {
	e := setup(t)
	ctxDir := project(t, map[string]string{"Dockerfile": multiStage, "plugin.sh": "x\n"})
	out := filepath.Join(t.TempDir(), "plugin")
	if _, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t, build.WithTarget("extra"))...); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "rootfs/extra")); got != "extra\n" {
		t.Errorf("extra = %q", got)
	}
	if _, err := os.Stat(filepath.Join(out, "rootfs/opt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rootfs/opt of the final stage exists with --target extra: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	e := setup(t)
	unused := testenv.FreePort(t)
	tests := []struct {
		name       string
		dockerfile string
		check      func(t *testing.T, err error)
	}{{
		name:       "syntax",
		dockerfile: "FROM base\nRUN true\nNOSUCH instruction\n",
		check: func(t *testing.T, err error) {
			var se *build.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *build.SyntaxError", err, err)
			}
			if se.Line != 3 || !strings.HasSuffix(se.File, "Dockerfile") {
				t.Errorf("at %s:%d, want Dockerfile:3", se.File, se.Line)
			}
			if !strings.Contains(err.Error(), "Dockerfile:3: ") {
				t.Errorf("message %q lacks Dockerfile:3", err)
			}
		},
	}, {
		name:       "failing RUN",
		dockerfile: "FROM base\nRUN echo first line && echo second line\nRUN echo about to fail; echo 'the reason' >&2; exit 3\n",
		check: func(t *testing.T, err error) {
			var se *build.StepError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *build.StepError", err, err)
			}
			if !strings.Contains(se.Step, "RUN echo about to fail") || se.Line != 3 {
				t.Errorf("step %q line %d, want the RUN on line 3", se.Step, se.Line)
			}
			if !strings.Contains(se.Msg, "exit code: 3") {
				t.Errorf("message %q lacks the exit code", se.Msg)
			}
			if got := strings.Join(se.Output, "\n"); !strings.Contains(got, "about to fail") || !strings.Contains(got, "the reason") {
				t.Errorf("output %q lacks the step's last lines", got)
			}
		},
	}, {
		name:       "missing base image",
		dockerfile: fmt.Sprintf("FROM 127.0.0.1:%d/nosuch/image:1.0\nRUN true\n", unused),
		check: func(t *testing.T, err error) {
			var be *build.BaseImageError
			if !errors.As(err, &be) {
				t.Fatalf("error %T %v, want *build.BaseImageError", err, err)
			}
			want := fmt.Sprintf("127.0.0.1:%d/nosuch/image:1.0", unused)
			if be.Ref != want {
				t.Errorf("Ref = %q, want %q", be.Ref, want)
			}
			if !strings.Contains(err.Error(), "--build-context "+want+"=oci-layout://") {
				t.Errorf("message %q does not say how to supply it", err)
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctxDir := project(t, map[string]string{"Dockerfile": tc.dockerfile})
			out := filepath.Join(t.TempDir(), "plugin")
			_, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t)...)
			if err == nil {
				t.Fatal("build succeeded")
			}
			t.Logf("error: %v", err)
			tc.check(t, err)
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("failed build left %s: %v", out, err)
			}
			assertNoStaging(t, filepath.Dir(out))
		})
	}
}

func TestBuildCancel(t *testing.T) {
	e := setup(t)
	stamp := fmt.Sprint(time.Now().UnixNano())
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nRUN echo " + stamp + " && sleep 60\n"})
	out := filepath.Join(t.TempDir(), "plugin")
	ctx, cancel := context.WithCancel(context.Background())
	var progress testenv.Buffer
	go func() {
		// Cancel once the RUN's process runs: its echo is in the progress
		// output (a line "#N 0.123 STAMP", not the step's name).
		running := regexp.MustCompile(`(?m)^#\d+ \d+\.\d+ ` + stamp + `$`)
		for !running.MatchString(progress.String()) {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := build.Run(ctx, ctxDir, &dest.Dir{Path: out}, append(e.opts(t), build.WithProgress("plain", &progress))...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("canceled build left %s: %v", out, err)
	}
	assertNoStaging(t, filepath.Dir(out))
}

func TestBuildBadConfigFailsFirst(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"syntax", "{\n  \"description\": \"x\",\n  oops\n}\n", "config.json:3:3: error"},
		{"semantics", `{"description": "x", "documentation": "y", "interface": {"types": ["docker.volumedriver/1.0"], "socket": "v.sock"},
 "mounts": [{"destination": "/data", "type": "bind", "options": ["rbind"]}]}`, "config.json:2:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// No BuildKit at this address: the config check must fail before any dial.
			ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\n", "config.json": tc.config})
			_, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: filepath.Join(t.TempDir(), "p")},
				build.WithAddr("unix:///nonexistent/buildkitd.sock"))
			var ce *validate.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want *validate.ConfigError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}
