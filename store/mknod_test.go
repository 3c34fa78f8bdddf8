package store

import "golang.org/x/sys/unix"

func syscallMknod(p string) error {
	return unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
}
