//go:build cgo

package run

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// errNoSocketYet: nothing (or not yet a socket) at the socket path.
var errNoSocketYet = errors.New("no socket yet")

// openSocket opens the plugin's socket, rel inside sockDir, as an O_PATH
// file without following any symlink on the way: the plugin owns the
// socket dir and could otherwise point dplug at any socket of the host.
// It fails with errNoSocketYet while there is nothing there or not a
// socket, and with ErrSocketOutside for a symlink.
func openSocket(sockDir, rel string) (*os.File, error) {
	dir, err := os.Open(sockDir)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat2(int(dir.Fd()), rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	inside := filepath.Join(runtimeDir, rel)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, errNoSocketYet
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return nil, fmt.Errorf("%w: the plugin made %s (or a dir on its way) a symlink or mount; dplug does not follow it", ErrSocketOutside, inside)
	case errors.Is(err, unix.ENOSYS):
		return openSocketLstat(sockDir, rel)
	case err != nil:
		return nil, fmt.Errorf("opening %s: %w", inside, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(sockDir, rel))
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFSOCK:
		return f, nil
	case unix.S_IFLNK:
		f.Close()
		return nil, fmt.Errorf("%w: the plugin made %s a symlink; dplug does not follow it", ErrSocketOutside, inside)
	default:
		f.Close()
		return nil, errNoSocketYet
	}
}

// openSocketLstat is openSocket for kernels without openat2 (before 5.6):
// every component is checked with Lstat first, which a plugin racing
// dplug could defeat, but never follows a link it has seen.
func openSocketLstat(sockDir, rel string) (*os.File, error) {
	p := sockDir
	for _, c := range splitPath(rel) {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNoSocketYet
		} else if err != nil {
			return nil, err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%w: the plugin made %s a symlink; dplug does not follow it", ErrSocketOutside, filepath.Join(runtimeDir, rel))
		}
	}
	fd, err := unix.Open(p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errNoSocketYet
	}
	f := os.NewFile(uintptr(fd), p)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		f.Close()
		return nil, errNoSocketYet
	}
	return f, nil
}

func splitPath(rel string) []string {
	var out []string
	for rel != "" && rel != "." {
		dir, base := filepath.Split(filepath.Clean(rel))
		out = append([]string{base}, out...)
		rel = filepath.Clean(dir)
		if rel == "/" {
			break
		}
	}
	return out
}

// dialSocket connects to the plugin's socket found by openSocket, through
// the open file (/proc/self/fd/N), so that what is dialled is the socket
// that was checked, whatever the plugin renames meanwhile; it also keeps
// the address short whatever the length of the host path.
func dialSocket(ctx context.Context, sockDir, rel string) (net.Conn, error) {
	f, err := openSocket(sockDir, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var d net.Dialer
	return d.DialContext(ctx, "unix", "/proc/self/fd/"+strconv.Itoa(int(f.Fd())))
}

// PinSocket checks the plugin's socket as Dial does and returns a path
// that reaches exactly that socket for as long as release is not called:
// /proc/self/fd/N of an open O_PATH file. Clients that take a socket path
// (probes, activation) dial it instead of Socket(), so that a symlink the
// plugin puts in its socket dir later is never followed to a host socket.
// The path is valid in this process only.
func (i *Instance) PinSocket() (path string, release func(), err error) {
	sockDir := filepath.Join(i.dir, sockDirName)
	rel, err := filepath.Rel(sockDir, i.rec.Socket)
	if err != nil {
		return "", nil, err
	}
	f, err := openSocket(sockDir, rel)
	if errors.Is(err, errNoSocketYet) {
		return "", nil, fmt.Errorf("%s is not a socket any more", i.rec.Socket)
	} else if err != nil {
		return "", nil, err
	}
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())), func() { f.Close() }, nil
}
