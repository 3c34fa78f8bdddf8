package build_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestBuildWithEngineBuildKit builds the test volume plugin with each
// Docker Engine's embedded BuildKit (no buildkitd of dplug's own), loads
// it into that engine and uses it; on 20.10 a named context is refused
// before the build with what to do instead.
func TestBuildWithEngineBuildKit(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		d := testenv.StartDockerdEngine(t, e)
		dir := testplugin.BuildContext(t)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		var log bytes.Buffer
		opts := []build.Option{
			build.WithBuilder(build.BuilderDocker),
			build.WithDockerHost(d.Host),
			build.WithProgress("plain", &log),
			build.WithRoot(t.TempDir()),
		}
		res, err := build.Run(ctx, dir, &dest.Engine{Name: "dplugtest/built", Host: d.Host}, opts...)
		if err != nil {
			t.Fatalf("build: %v\n%s\n%s", err, log.String(), d.Log())
		}
		if res.Output != "dplugtest/built:latest" || !strings.HasPrefix(res.Addr, "docker:") {
			t.Errorf("result = %+v", res)
		}
		if !strings.Contains(log.String(), "Docker Engine's BuildKit") {
			t.Errorf("progress does not say which builder:\n%s", log.String())
		}
		d.MustDocker(t, "volume", "create", "-d", "dplugtest/built", "v1")

		// Named contexts: Docker 23+ only.
		named := append(opts, build.WithBuildContexts(map[string]string{"base": dir}))
		_, err = build.Run(ctx, dir, &dest.Dir{Path: filepath.Join(t.TempDir(), "out")}, named...)
		var ie *build.InputError
		if e.Name == "20.10" {
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), "Docker Engine 23+") {
				t.Errorf("named context on 20.10: err = %v, want an InputError naming Docker 23+", err)
			}
		} else if err != nil {
			t.Errorf("named context on %s: %v\n%s", e.Name, err, log.String())
		}
	})
}
