//go:build cgo

package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// Doctor finds the runs under the run root that nobody will stop — a
// foreground run whose dplug process is gone (killed), a detached run
// whose plugin exited, a run dir without a record (a start killed before
// it wrote one) — and, with fix, stops each and removes its mounts,
// cgroups and run dir. Healthy runs, and starts in progress, are left
// alone: Doctor holds the run root's lock, which every start holds until
// its run is recorded.
func Doctor(ctx context.Context, fix bool, opts ...Option) ([]Leftover, error) {
	o := makeOptions(opts)
	entries, err := os.ReadDir(o.runRoot)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("checking runs: %w", err)
	}
	unlock, err := lockDir(o.runRoot)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Leftover
	var errs []error
	for _, e := range entries {
		dir := filepath.Join(o.runRoot, e.Name())
		if !e.IsDir() || !validID.MatchString(e.Name()) {
			continue
		}
		l, inst := checkRun(dir, o)
		if l == nil {
			continue
		}
		if fix {
			if err := cleanRun(ctx, dir, inst, o); err != nil {
				errs = append(errs, err)
			} else {
				l.Fixed = true
			}
		}
		out = append(out, *l)
	}
	return out, errors.Join(errs...)
}

// checkRun says why the run in dir is a leftover, or nil if it is not; the
// Instance is its loaded record, nil when it has none.
func checkRun(dir string, o options) (*Leftover, *Instance) {
	l := &Leftover{Dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, nil // stopped meanwhile
		}
		l.Reason = "run dir without a record (its start was interrupted)"
		return l, nil
	}
	inst := &Instance{dir: dir, opts: o, exitCode: -1}
	if err := json.Unmarshal(data, &inst.rec); err != nil || !validID.MatchString(inst.rec.ID) || runDirName(inst.rec.ID) != filepath.Base(dir) {
		l.Reason = "run dir with a damaged record"
		return l, nil
	}
	l.ID, l.Name, l.Pid = inst.rec.ID, inst.rec.Name, inst.rec.Pid
	if c, err := libcontainer.Load(filepath.Join(dir, containerDir), inst.rec.ID); err == nil {
		inst.container = c
	}
	switch running := inst.Running(); {
	case inst.orphaned() && running:
		l.Reason = fmt.Sprintf("the dplug process that ran it in the foreground (pid %d) is gone; the plugin still runs", inst.rec.Owner)
	case inst.orphaned():
		l.Reason = fmt.Sprintf("the dplug process that ran it (pid %d) is gone", inst.rec.Owner)
	case !running && inst.rec.Detached:
		l.Reason = "the plugin exited; its run was never stopped"
	case !running && inst.rec.Pid != 0 && inst.rec.Owner == 0:
		l.Reason = "the plugin exited; its run was never stopped"
	default:
		return nil, nil
	}
	return l, inst
}

// cleanRun stops a leftover run and removes everything it made.
func cleanRun(ctx context.Context, dir string, inst *Instance, o options) error {
	if inst != nil {
		err := inst.Stop(ctx, 2*time.Second)
		killCgroup(inst.rec.CgroupParent, inst.rec.ID)
		if err == nil {
			return nil
		}
	}
	// No usable record: the container's ID is the name of its state dir.
	ids, _ := os.ReadDir(filepath.Join(dir, containerDir))
	for _, e := range ids {
		if !validID.MatchString(e.Name()) {
			continue
		}
		if c, err := libcontainer.Load(filepath.Join(dir, containerDir), e.Name()); err == nil {
			_ = c.Signal(unix.SIGKILL)
			_ = c.Destroy()
		}
		killCgroup(o.cgroupParent, e.Name())
	}
	if err := removeRunDir(dir); err != nil {
		return fmt.Errorf("cleaning run %s: %w", dir, err)
	}
	return nil
}

// killCgroup kills every process left in the plugin's cgroups and removes
// them (and dplug's parent cgroup once empty), for runs whose container
// state is gone.
func killCgroup(parent, id string) {
	parent = strings.Trim(parent, "/")
	if parent == "" || strings.Contains(parent, "..") || !validID.MatchString(id) {
		return
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + parent + "/" + id)
	if fi, err := os.Stat("/sys/fs/cgroup/" + parent + "/" + id); err == nil && fi.IsDir() {
		dirs = append(dirs, "/sys/fs/cgroup/"+parent+"/"+id)
	}
	for _, d := range dirs {
		_ = os.WriteFile(filepath.Join(d, "cgroup.kill"), []byte("1"), 0) // v2
		if f, err := os.ReadFile(filepath.Join(d, "freezer.state")); err == nil && strings.TrimSpace(string(f)) != "THAWED" {
			_ = os.WriteFile(filepath.Join(d, "freezer.state"), []byte("THAWED"), 0)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			data, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			if err != nil {
				break
			}
			pids := strings.Fields(string(data))
			if len(pids) == 0 || time.Now().After(deadline) {
				break
			}
			for _, p := range pids {
				if n, err := strconv.Atoi(p); err == nil && n > 0 {
					_ = unix.Kill(n, unix.SIGKILL)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = unix.Rmdir(d)
	}
	removeCgroupParent(parent)
}
