//go:build !linux

package run

import (
	"context"
	"time"
)

// Instance is a running plugin. Off Linux there never is one.
type Instance struct{}

// Start fails off Linux: running plugins needs Linux.
func Start(context.Context, Plugin, ...Option) (*Instance, error) { return nil, ErrUnsupported }

// Load fails off Linux: running plugins needs Linux.
func Load(string, ...Option) (*Instance, error) { return nil, ErrUnsupported }

// Socket is empty off Linux.
func (*Instance) Socket() string { return "" }

// Stop fails off Linux: running plugins needs Linux.
func (*Instance) Stop(context.Context, time.Duration) error { return ErrUnsupported }

// IsContainerInit is always false off Linux.
func IsContainerInit() bool { return false }

// ContainerInit does nothing off Linux.
func ContainerInit() {}
