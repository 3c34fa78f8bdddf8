//go:build cgo && libdeflate

package blockgz

import (
	"strings"
	"testing"
)

// TestLibdeflateInUse: a -tags libdeflate build inflates with libdeflate,
// not with the Go fallback newDecoder keeps for a failed allocation.
func TestLibdeflateInUse(t *testing.T) {
	d := newDecoder()
	defer d.free()
	if _, ok := d.(*libDecoder); !ok {
		t.Fatalf("newDecoder() = %T, want *libDecoder", d)
	}
	if !strings.HasPrefix(Decoder, "libdeflate 1.") {
		t.Fatalf("Decoder = %q", Decoder)
	}
}
