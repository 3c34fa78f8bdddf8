package doctor

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
	"testing"

	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/store"
)

func TestCheckCleanRoot(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := Check(context.Background(), s, false, Paths{Runs: filepath.Join(root, "run"), Pulls: filepath.Join(root, "pulls")}, log)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Clean() || r.Problems() != 0 {
		t.Errorf("fresh root: clean=%v problems=%d", r.Clean(), r.Problems())
	}
	var b bytes.Buffer
	r.WriteText(&b, s.Dir())
	if b.Len() != 0 {
		t.Errorf("fresh root printed %q", b.String())
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["Runs"]; !ok {
		t.Errorf("JSON %s has no Runs", data)
	}
	if _, ok := m["Pulls"]; !ok {
		t.Errorf("JSON %s has no Pulls", data)
	}
}

func TestReportWriteAndErr(t *testing.T) {
	for _, tc := range []struct {
		name             string
		r                *Report
		wantOut, wantErr string // what Write prints on out and errOut
		wantProblems     error
	}{
		{
			name:    "clean",
			r:       &Report{Report: &store.Report{}, dir: "/r"},
			wantErr: "store ROOT is consistent\n",
		},
		{
			name:         "a stale pull",
			r:            &Report{Report: &store.Report{}, Pulls: []string{"/p/.tmp1"}, dir: "/r"},
			wantOut:      "found the temp dir of an interrupted pull /p/.tmp1 (--fix removes it)\n",
			wantProblems: ErrProblems,
		},
		{
			name:    "a stale pull fixed",
			r:       &Report{Report: &store.Report{}, Pulls: []string{"/p/.tmp1"}, fix: true, fixPulls: true, dir: "/r"},
			wantOut: "removed the temp dir of an interrupted pull /p/.tmp1\n",
		},
		{
			name:    "a pull that could not be checked",
			r:       &Report{Report: &store.Report{}, PullErrors: []error{errors.New("reading /p: denied")}, dir: "/r"},
			wantErr: "dplug: warning: reading /p: denied\nstore ROOT is consistent\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := tc.r.Write(&out, &errOut, "ROOT", false); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.wantOut || errOut.String() != tc.wantErr {
				t.Errorf("Write: out %q, errOut %q; want %q, %q", out.String(), errOut.String(), tc.wantOut, tc.wantErr)
			}
			if err := tc.r.Err(); err != tc.wantProblems {
				t.Errorf("Err() = %v, want %v", err, tc.wantProblems)
			}
		})
	}
}

func TestReportWriteJSON(t *testing.T) {
	r := &Report{Report: &store.Report{}, Pulls: []string{"/p/.tmp1"}, PullErrors: []error{errors.New("not shown")}}
	var out, errOut bytes.Buffer
	if err := r.Write(&out, &errOut, "ROOT", true); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || errOut.Len() != 0 {
		t.Fatalf("JSON %q (%v), errOut %q", out.String(), err, errOut.String())
	}
	if got := fmt.Sprint(m["Pulls"]); got != "[/p/.tmp1]" {
		t.Errorf("JSON Pulls = %s, want [/p/.tmp1]", got)
	}
}

// TestRecordPull checks that a recorded pull's temp dir is what Check's
// pulls find, and that a root it cannot write is no error.
func TestRecordPull(t *testing.T) {
	root, parent := t.TempDir(), t.TempDir()
	RecordPull(root, filepath.Join(parent, "plugin"), slog.New(slog.DiscardHandler))
	tmp := filepath.Join(parent, ".plugin.dplug-pull-1")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if stale, _ := pack.RecordedStalePulls(PullsDir(root), false); len(stale) != 1 || stale[0] != tmp {
		t.Errorf("recorded stale pulls = %v, want [%s]", stale, tmp)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	RecordPull(file, parent, slog.New(slog.DiscardHandler)) // root is a file: logged, not fatal
}

func TestPullsDir(t *testing.T) {
	if got, want := PullsDir("/var/lib/dplug"), filepath.Join("/var/lib/dplug", "pulls"); got != want {
		t.Errorf("PullsDir = %q, want %q", got, want)
	}
}
