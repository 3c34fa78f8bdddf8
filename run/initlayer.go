package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
)

// setupInitLayer does what moby's initlayer.Setup does to a plugin's rootfs
// before it starts: it creates the mount points and files a container
// expects (/dev/pts, /dev/shm, /proc, /sys, /.dockerenv, /etc/resolv.conf,
// /etc/hosts, /etc/hostname, /dev/console) and the /etc/mtab symlink, each
// only when missing. Everything goes through an os.Root, so a symlink in
// the rootfs can never make it write outside the rootfs.
func setupInitLayer(rootfs string) error {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return fmt.Errorf("preparing rootfs: %w", err)
	}
	defer root.Close()
	entries := []struct {
		path string
		dir  bool
	}{
		{"dev/pts", true}, {"dev/shm", true}, {"proc", true}, {"sys", true},
		{".dockerenv", false}, {"etc/resolv.conf", false}, {"etc/hosts", false},
		{"etc/hostname", false}, {"dev/console", false},
	}
	for _, e := range entries {
		if _, err := root.Lstat(e.path); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("preparing rootfs /%s: %w", e.path, err)
		}
		if err := root.MkdirAll(path.Dir(e.path), 0o755); err != nil {
			return fmt.Errorf("preparing rootfs /%s: %w", path.Dir(e.path), err)
		}
		if e.dir {
			err = root.Mkdir(e.path, 0o755)
		} else {
			var f *os.File
			if f, err = root.OpenFile(e.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755); err == nil {
				err = f.Close()
			}
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("preparing rootfs /%s: %w", e.path, err)
		}
	}
	if _, err := root.Lstat("etc/mtab"); errors.Is(err, fs.ErrNotExist) {
		if err := root.Symlink("/proc/mounts", "etc/mtab"); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("preparing rootfs /etc/mtab: %w", err)
		}
	}
	return nil
}
