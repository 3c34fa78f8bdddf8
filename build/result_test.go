package build

import (
	"bytes"
	"testing"
)

func TestResultWrite(t *testing.T) {
	r := &Result{Output: "/tmp/p", Dest: "directory /tmp/p", Addr: "unix:///b.sock", Steps: []Step{}}
	for _, tc := range []struct {
		asJSON bool
		want   string
	}{
		{false, "/tmp/p\n"},
		{true, "{\n  \"output\": \"/tmp/p\",\n  \"dest\": \"directory /tmp/p\",\n  \"addr\": \"unix:///b.sock\",\n  \"steps\": [],\n  \"took\": 0\n}\n"},
	} {
		var b bytes.Buffer
		if err := r.Write(&b, tc.asJSON); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("Write(json=%v) = %q, want %q", tc.asJSON, b.String(), tc.want)
		}
	}
}
