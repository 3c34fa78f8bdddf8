package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

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
