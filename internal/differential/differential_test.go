package differential

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// concurrency is how many cases run at once on one daemon. Most of a
// case's time is dockerd waiting (a plugin that never listens costs
// ~12.5 s of retries), not CPU.
const concurrency = 16

// TestCasesWellFormed: every case has a rule or is the baseline, an
// expected outcome, and a unique name.
func TestCasesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Cases() {
		switch {
		case c.Rule == "" && c.Variant != "baseline":
			t.Errorf("case %q has no rule", c.Name())
		case c.Want == "":
			t.Errorf("case %q has no expected outcome", c.Name())
		case seen[c.Name()]:
			t.Errorf("case %q listed twice", c.Name())
		case !c.ConfigDir && c.Config == "":
			t.Errorf("case %q has no config", c.Name())
		}
		seen[c.Name()] = true
	}
	rules := Rules()
	for _, r := range []string{"DP001", "DP003", "DP006", "DP007", "DP105", "DP201", "DP209", "DP312", "DP313", "DP314", "DP407", "DP701"} {
		if _, ok := rules[r]; !ok {
			t.Errorf("Rules() has no %s", r)
		}
	}
	if rules["DP204"] != RefusedUse || rules["DP007"] != RefusedEnable {
		t.Errorf("Rules() takes a variant over the main case: DP204 %s, DP007 %s", rules["DP204"], rules["DP007"])
	}
}

// TestDifferential runs every case on every engine (engine=NAME) and
// checks that dockerd does what the table says. DIFF_ONLY=TEXT runs only
// the cases whose name contains TEXT.
func TestDifferential(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	bin := buildDiffplug(t)
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		d := testenv.StartDockerdEngine(t, e)
		t.Logf("dockerd %s", d.Version)
		busybox := d.LoadBusybox(t)
		probe := t.TempDir()
		if err := os.WriteFile(filepath.Join(probe, "diffplug-probe"), []byte("probe\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cases := Cases()
		if only := os.Getenv("DIFF_ONLY"); only != "" {
			cases = slices.DeleteFunc(cases, func(c Case) bool { return !strings.Contains(c.Name(), only) })
		}
		results := runCases(t, d, bin, busybox, probe, cases)
		t.Logf("%d cases in %v", len(results), time.Since(start).Round(time.Second))
		if out, err := d.Docker(context.Background(), "version", "--format", "{{.Server.Version}}"); err != nil {
			t.Fatalf("dockerd no longer answers after the cases: %v\n%s", err, out)
		}
		for i, c := range cases {
			r := results[i]
			t.Run(c.Name(), func(t *testing.T) {
				for _, m := range r.mismatch {
					t.Errorf("dockerd %s: %s (%s)", d.Version, m, c.Why)
				}
				if r.got != c.Want {
					t.Errorf("dockerd %s: %s, want %s (%s)\n%s", d.Version, r.got, c.Want, c.Why, r.detail)
				} else {
					t.Logf("%s in %v: %s", r.got, r.took.Round(100*time.Millisecond), lastLine(r.detail))
				}
			})
		}
	})
}

type result struct {
	got    Outcome
	detail string // the error that decided it, or the steps that passed
	took   time.Duration
	// mismatch lists what differed from the case's Facts and SetRefused.
	mismatch []string
}

// runCases runs the cases concurrently on d and returns their results in
// order.
func runCases(t *testing.T, d *testenv.Dockerd, bin, busybox, probe string, cases []Case) []result {
	t.Helper()
	results := make([]result, len(cases))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, c := range cases {
		dir := caseDir(t, bin, i, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			results[i] = runCase(d, busybox, probe, i, c, dir)
			results[i].took = time.Since(t0)
		}()
	}
	wg.Wait()
	return results
}

// caseDir writes the plugin directory of case i: its config.json and a
// rootfs with diffplug (bin, the binary's bytes) and a file naming the
// case, so that no two rootfs are byte-identical (dockerd 26.1.5 refuses
// to create a second plugin whose rootfs is identical to an existing
// one's).
func caseDir(t *testing.T, bin string, i int, c Case) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("case%02d", i))
	files := map[string]testplugin.File{"diffplug": testplugin.Exec(bin), "case": {Body: c.Name() + "\n"}}
	if err := testplugin.WriteRawTo(dir, []byte(c.Config), files); err != nil {
		t.Fatal(err)
	}
	if c.ConfigDir {
		config := filepath.Join(dir, "config.json")
		if err := os.Remove(config); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(config, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runCase takes case i through create, set, enable and use on d, and
// checks its Facts and SetRefused on the way.
func runCase(d *testenv.Dockerd, busybox, probe string, i int, c Case, dir string) (res result) {
	ctx := context.Background()
	name := fmt.Sprintf("diff/case%02d:latest", i)
	steps := []string{}
	do := func(args ...string) error {
		out, err := d.Docker(ctx, args...)
		if err == nil {
			steps = append(steps, "ok: docker "+strings.Join(args, " ")+firstLine(out))
		}
		return err
	}
	if err := do("plugin", "create", name, dir); err != nil {
		return result{got: RefusedCreate, detail: err.Error()}
	}
	for _, s := range c.Set {
		if err := do("plugin", "set", name, strings.ReplaceAll(s, ProbeDir, probe)); err != nil {
			return result{got: RefusedCreate, detail: err.Error()}
		}
	}
	var mismatch []string
	defer func() { res.mismatch = mismatch }()
	for _, s := range c.SetRefused {
		if _, err := d.Docker(ctx, "plugin", "set", name, s); err == nil {
			mismatch = append(mismatch, fmt.Sprintf("docker plugin set %s was accepted; want it refused", s))
		}
	}
	if err := do("plugin", "enable", name); err != nil {
		return result{got: RefusedEnable, detail: err.Error()}
	}
	if len(c.Facts) > 0 {
		mismatch = append(mismatch, checkFacts(d, name, c.Facts)...)
	}
	defer d.Docker(ctx, "plugin", "disable", "-f", name) //nolint:errcheck // best effort; Stop removes it anyway
	vol := fmt.Sprintf("diffvol%02d", i)
	if err := do("volume", "create", "-d", name, vol); err != nil {
		return result{got: RefusedUse, detail: err.Error()}
	}
	if c.Use == UseContainer {
		if err := do("run", "--rm", "--network", "none", "-v", vol+":/mnt", busybox, "true"); err != nil {
			_, _ = d.Docker(ctx, "volume", "rm", "-f", vol)
			return result{got: RefusedUse, detail: err.Error()}
		}
	}
	if err := do("volume", "rm", vol); err != nil {
		return result{got: RefusedUse, detail: err.Error()}
	}
	return result{got: Accepted, detail: strings.Join(steps, "\n")}
}

// checkFacts asks the running plugin what it was given and returns how
// that differs from facts.
func checkFacts(d *testenv.Dockerd, name string, facts []string) []string {
	out, err := d.Docker(context.Background(), "plugin", "inspect", "--format", "{{.Id}}", name)
	if err != nil {
		return []string{err.Error()}
	}
	sock := filepath.Join("/run/docker/plugins", strings.TrimSpace(out), Socket)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
	resp, err := client.Post("http://plugin/Diff.Facts", "application/json", strings.NewReader("{}"))
	if err != nil {
		return []string{fmt.Sprintf("asking the plugin for its facts: %v", err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return []string{fmt.Sprintf("reading the plugin's facts: %v", err)}
	}
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	var diffs []string
	for _, f := range facts {
		want, fact := true, f
		if rest, ok := strings.CutPrefix(f, "!"); ok {
			want, fact = false, rest
		}
		if slices.Contains(got, fact) != want {
			diffs = append(diffs, fmt.Sprintf("running plugin: %q is %v, want %v (it reported %q)", fact, !want, want, got))
		}
	}
	return diffs
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s != "" && !strings.HasPrefix(s, "ok:") {
		return " → " + s
	}
	return s
}

// buildDiffplug builds the test plugin (static, stripped) once and
// returns the binary's bytes.
func buildDiffplug(t *testing.T) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	out := filepath.Join(t.TempDir(), "diffplug")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./diffplug")
	cmd.Dir = filepath.Dir(self)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building diffplug: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(bin)
}
