package run

import (
	"errors"
	"testing"
)

func TestSocketPath(t *testing.T) {
	tests := []struct {
		socket, want string
	}{
		{"p.sock", "/r/sock/p.sock"},
		{"./p.sock", "/r/sock/p.sock"},
		{"sub/p.sock", "/r/sock/sub/p.sock"},
		{"sub/../p.sock", "/r/sock/p.sock"},
		{"..p.sock", "/r/sock/..p.sock"},
		{"", ""},
		{".", ""},
		{"..", ""},
		{"../p.sock", ""},
		{"sub/../../p.sock", ""},
		{"/var/run/docker.sock", ""},
		{"p\x00.sock", ""},
		{"\x00p.sock", ""},
	}
	for _, tt := range tests {
		got, err := socketPath("/r/sock", tt.socket)
		if tt.want == "" {
			if !errors.Is(err, ErrSocketOutside) {
				t.Errorf("socketPath(%q) = %q, %v; want ErrSocketOutside", tt.socket, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("socketPath(%q) = %q, %v; want %q", tt.socket, got, err, tt.want)
		}
	}
}

func TestRunDir(t *testing.T) {
	tests := []struct{ id, want string }{
		{"0123456789abcdef", "/r/run/0123456789ab"},
		{"abc", "/r/run/abc"},
		{"..abc", "/r/run/..abc"},
		{"..", ""},
		{".", ""},
		{"", ""},
		{"../victim", ""},
		{"a/b", ""},
	}
	for _, tt := range tests {
		got, err := runDir("/r/run", tt.id)
		if tt.want == "" {
			if err == nil {
				t.Errorf("runDir(%q) = %q, want an error", tt.id, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("runDir(%q) = %q, %v; want %q", tt.id, got, err, tt.want)
		}
	}
}
