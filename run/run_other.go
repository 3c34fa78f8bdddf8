//go:build !linux || !cgo

package run

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"time"
)

// unsupported says why this build cannot run plugins.
func unsupported() error {
	if runtime.GOOS == "linux" {
		return fmt.Errorf("%w: this dplug was built without cgo, which libcontainer needs", ErrUnsupported)
	}
	return ErrUnsupported
}

// Instance is a running plugin. Off Linux (or without cgo) there never is
// one.
type Instance struct{}

// Start fails off Linux: running plugins needs Linux.
func Start(context.Context, Plugin, ...Option) (*Instance, error) { return nil, unsupported() }

// Doctor finds nothing off Linux: no run can exist.
func Doctor(context.Context, bool, ...Option) ([]Leftover, error) { return nil, nil }

// Load fails off Linux: running plugins needs Linux.
func Load(string, ...Option) (*Instance, error) { return nil, unsupported() }

// Socket is empty off Linux.
func (*Instance) Socket() string { return "" }

// ID is empty off Linux.
func (*Instance) ID() string { return "" }

// Pid is 0 off Linux.
func (*Instance) Pid() int { return 0 }

// Rootfs is empty off Linux.
func (*Instance) Rootfs() string { return "" }

// Detach fails off Linux: running plugins needs Linux.
func (*Instance) Detach() error { return unsupported() }

// CheckSocket fails off Linux: running plugins needs Linux.
func (*Instance) CheckSocket() error { return unsupported() }

// PinSocket fails off Linux: running plugins needs Linux.
func (*Instance) PinSocket() (string, func(), error) { return "", nil, unsupported() }

// Dial fails off Linux: running plugins needs Linux.
func (*Instance) Dial(context.Context) (net.Conn, error) { return nil, unsupported() }

// LogPath is empty off Linux.
func (*Instance) LogPath() string { return "" }

// Running is false off Linux.
func (*Instance) Running() bool { return false }

// Done is nil off Linux.
func (*Instance) Done() <-chan struct{} { return nil }

// ExitCode is -1 off Linux.
func (*Instance) ExitCode() int { return -1 }

// LastLines is empty off Linux.
func (*Instance) LastLines(int) []string { return nil }

// Wait fails off Linux: running plugins needs Linux.
func (*Instance) Wait(context.Context) (int, error) { return -1, unsupported() }

// Stop fails off Linux: running plugins needs Linux.
func (*Instance) Stop(context.Context, time.Duration) error { return unsupported() }

// IsContainerInit is always false off Linux.
func IsContainerInit() bool { return false }

// ContainerInit does nothing off Linux.
func ContainerInit() {}

// LockMainThread does nothing off Linux.
func LockMainThread() {}
