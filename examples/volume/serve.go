package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// serve answers plugin API calls on the unix socket at path until SIGINT or
// SIGTERM. Inside the plugin, dockerd (and dplug run) look for the socket
// named in config.json's interface.socket under /run/docker/plugins.
func serve(h interface{ Serve(net.Listener) error }, path string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating socket directory: %w", err)
	}
	_ = os.Remove(path) // a stale socket from an earlier run
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	log.Printf("listening on %s", path)
	if err := h.Serve(l); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serving: %w", err)
	}
	log.Print("stopped")
	return nil
}
