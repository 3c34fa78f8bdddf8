package testenv

import (
	"os"
	"testing"
)

// TestRunAsNobody: as root the test body runs in a child process as nobody,
// with a writable temp dir; not root it runs as the current user.
func TestRunAsNobody(t *testing.T) {
	if RunAsNobody(t) {
		return
	}
	if os.Geteuid() == 0 {
		t.Fatal("still root")
	}
	if os.Getenv(nobodyEnv) != "" && (!AsNobody() || os.Getegid() != NobodyGID) {
		t.Fatalf("child runs as %d:%d, want %d:%d", os.Geteuid(), os.Getegid(), NobodyUID, NobodyGID)
	}
	if groups, _ := os.Getgroups(); os.Getenv(nobodyEnv) != "" && len(groups) > 0 && !(len(groups) == 1 && groups[0] == NobodyGID) {
		t.Errorf("child keeps supplementary groups %v", groups)
	}
	if err := os.WriteFile(t.TempDir()+"/f", []byte("x"), 0o644); err != nil {
		t.Fatalf("temp dir not writable: %v", err)
	}
	t.Run("sub test", func(t *testing.T) {
		if RunAsNobody(t) {
			t.Fatal("nested RunAsNobody ran another child")
		}
	})
}
