package depfence

import (
	"errors"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

const module = "github.com/dplug/dplug"

// Heavy dependencies the client-side packages keep away from, so that they
// build on a plain CI runner, on macOS and on Windows.
var (
	buildkit     = "github.com/moby/buildkit"
	libcontainer = "github.com/opencontainers/runc"
	cgroups      = "github.com/opencontainers/cgroups"
	dockerd      = "github.com/docker/docker"
	cobra        = "github.com/spf13/cobra"
	pflag        = "github.com/spf13/pflag"
	ggcr         = "github.com/google/go-containerregistry"
	heavy        = []string{buildkit, libcontainer, cgroups, dockerd}
)

// fence says what the packages matching pkgs may not depend on (directly
// or not) when built for goos ("" is the host). pkgs is a package path
// relative to the module, "." for the module root, or "dir/..." for dir and
// everything under it.
type fence struct {
	pkgs   string
	goos   string
	forbid []string
	why    string
}

// fences is the one table of dependency fences. Every package outside cmd/
// is also kept free of cobra (see TestDependencyFences); a package not
// listed here gets only that fence.
var fences = []fence{
	{"validate", "", join(heavy, ggcr), "validate judges config bytes: usable from anywhere, no registry or engine code"},
	{"schemas", "", join(heavy, ggcr), "embedded JSON schemas only"},
	{"plugin", "", join(heavy, ggcr, module+"/"), "the shared config types: a leaf every package may import"},
	{"archive", "", join(heavy, ggcr, module+"/validate", module+"/pack", module+"/store"), "tar extraction only: a leaf under store and pack"},
	{"entrypoint", "", join(heavy, ggcr), "the entrypoint check reads layers pack, store and the CLI hand it"},
	{"pack", "", heavy, "pack (images, layouts, registries) works on a plain CI runner and off Linux"},
	{"store", "", join(heavy, ggcr), "the local store is files under a root: no registry, no engine"},
	{"source", "", heavy, "resolving a plugin argument needs no BuildKit or runc"},
	{"dest", "", heavy, "delivering a plugin (dir, layout, registry, store, engine API) needs no BuildKit or runc"},
	{"internal/output", "", heavy, "presentation only: templates, JSON, sizes, the progress line, the log line"},
	{"internal/exitcode", "", []string{module + "/"}, "the exit codes and their classes: a leaf any library may import"},
	{"internal/treestamp", "", []string{module + "/"}, "tree fingerprints by inode stamps: a leaf shared by pack and build (which may not import pack)"},
	{"internal/atomicfile", "", []string{module + "/"}, "whole-file replacement: a leaf shared by pack, build, build/buildkitd and run"},
	{"internal/doctor", "", []string{buildkit, dockerd}, "doctor checks store, runs and pulls: no BuildKit or engine code"},
	{"probe", "", join(heavy, module+"/run"), "probe is plain client code over a socket: it never starts a plugin"},
	{"scaffold", "", join(heavy, ggcr), "templates only"},
	{"run", "", []string{buildkit, ggcr, dockerd}, "run is libcontainer and nothing else heavy"},
	{"harness", "", []string{buildkit, dockerd}, "harness drives run and probe: no BuildKit or engine code"},
	{"dev", "", []string{dockerd}, "dev builds (BuildKit) and runs (run, harness) but reaches the Docker Engine only through package engine's API client"},
	{"dev", "darwin", []string{libcontainer, cgroups}, "dplug dev --docker works off Linux (without run)"},
	{"dev", "windows", []string{libcontainer, cgroups}, "dplug dev --docker works off Linux (without run)"},
	{"build/...", "", []string{libcontainer, cgroups}, "building needs BuildKit, never runc"},
	{"run", "darwin", []string{libcontainer, cgroups}, "run is Linux-only behind build tags"},
	{"run", "windows", []string{libcontainer, cgroups}, "run is Linux-only behind build tags"},
	{"cmd/dplug/...", "darwin", []string{libcontainer, cgroups}, "dplug builds off Linux (without run)"},
	{"cmd/dplug/...", "windows", []string{libcontainer, cgroups}, "dplug builds off Linux (without run)"},
	{"examples/...", "", []string{module + "/"}, "examples are what a plugin author copies: only go-plugins-helpers"},
}

// imports is the table of direct-import fences: what the packages matching
// pkgs may not import themselves, though a package they import may.
var imports = []fence{
	{"build", "", []string{module + "/pack", module + "/store", module + "/source"},
		"build hands the plugin to a dest.Dest: packing, pushing and installing are package dest's"},
}

func join(lists ...any) []string {
	var out []string
	for _, l := range lists {
		switch l := l.(type) {
		case string:
			out = append(out, l)
		case []string:
			out = append(out, l...)
		}
	}
	return out
}

// deps lists every package of the module built for goos, with its
// transitive (non-test) dependencies.
func deps(t *testing.T, goos string) map[string][]string {
	t.Helper()
	return list(t, goos, "Deps")
}

// list runs go list for every package of the module built for goos and
// returns the list field of each (Deps, Imports).
func list(t *testing.T, goos, field string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}{{range ."+field+"}} {{.}}{{end}}", module+"/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos)
	} else {
		// The host build of run needs cgo (libcontainer's nsenter).
		cmd.Env = append(cmd.Env, "CGO_ENABLED=1")
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		testenv.Unavailable(t, "go list (GOOS=%s): %v\n%s", goos, err, stderr)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m[strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")] = f[1:]
	}
	return m
}

func matches(pattern, pkg string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == dir || strings.HasPrefix(pkg, dir+"/")
	}
	return pkg == pattern
}

func forbidden(dep, f string) bool {
	if strings.HasSuffix(f, "/") {
		return strings.HasPrefix(dep, f)
	}
	return dep == f || strings.HasPrefix(dep, f+"/")
}

// TestDependencyFences checks the table: every row matches a package and
// no matching package depends on what the row forbids; and no package
// outside cmd/ depends on cobra (library packages never parse flags).
func TestDependencyFences(t *testing.T) {
	byOS := map[string]map[string][]string{"": deps(t, "")}
	for _, f := range fences {
		if byOS[f.goos] == nil {
			byOS[f.goos] = deps(t, f.goos)
		}
	}
	for _, f := range fences {
		check(t, "fence", f, byOS[f.goos], "depends on")
	}
	var pkgs []string
	for pkg := range byOS[""] {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		if matches("cmd/...", pkg) {
			continue
		}
		for _, d := range byOS[""][pkg] {
			if forbidden(d, cobra) || forbidden(d, pflag) {
				t.Errorf("%s depends on %s: only cmd/ parses flags", pkg, d)
			}
		}
	}
}

// TestImportFences checks the direct-import table.
func TestImportFences(t *testing.T) {
	all := list(t, "", "Imports")
	for _, f := range imports {
		check(t, "import fence", f, all, "imports")
	}
}

// check reports every package f covers that reaches (verb: "depends on"
// or "imports", as all lists) what f forbids, and f (of the table kind)
// covering no package of all.
func check(t *testing.T, kind string, f fence, all map[string][]string, verb string) {
	t.Helper()
	matched := 0
	for pkg, ds := range all {
		if !matches(f.pkgs, pkg) {
			continue
		}
		matched++
		for _, d := range ds {
			for _, bad := range f.forbid {
				if forbidden(d, bad) {
					t.Errorf("%s%s %s %s: %s", pkg, osNote(f.goos), verb, d, f.why)
				}
			}
		}
	}
	if matched == 0 {
		t.Errorf("%s %q%s matches no package: update the table", kind, f.pkgs, osNote(f.goos))
	}
}

func osNote(goos string) string {
	if goos == "" {
		return ""
	}
	return " (GOOS=" + goos + ")"
}
