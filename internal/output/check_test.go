package output

import (
	"fmt"
	"testing"

	"github.com/dplug/dplug/internal/exitcode"
)

func TestCheckOutput(t *testing.T) {
	for _, tt := range []struct {
		value string
		sarif bool
		err   string // "" for accepted
	}{
		{"text", false, ""},
		{"json", false, ""},
		{"sarif", true, ""},
		{"sarif", false, "--output sarif is for dplug validate only: use text or json"},
		{"yaml", true, `unknown --output "yaml": use text or json`},
		{"", false, `unknown --output "": use text or json`},
	} {
		err := CheckOutput(tt.value, tt.sarif)
		if got := fmt.Sprint(err); (err == nil) != (tt.err == "") || (err != nil && got != tt.err) {
			t.Errorf("CheckOutput(%q, %v) = %v, want %q", tt.value, tt.sarif, err, tt.err)
		}
	}
}

func TestFormatErrorIsUsage(t *testing.T) {
	_, err := Template("t", "{{.")
	if code, _ := exitcode.Of(err); code != exitcode.Usage {
		t.Errorf("exit code of a bad --format = %d, want %d", code, exitcode.Usage)
	}
}
