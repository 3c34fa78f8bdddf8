package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// skipDirs are never descended into when walking a directory: VCS data,
// dependencies, and plugin rootfs trees (whose config.json files belong to
// the software inside, not to the plugin).
var skipDirs = []string{".git", "node_modules", "rootfs"}

// Files validates each path: a FILE is validated whatever its name; a DIR is
// walked for files named config.json and plugin-settings.json, skipping
// .git, node_modules and rootfs directories. The error is non-nil only when
// an argument itself cannot be read (a usage error); a file met during a walk
// that cannot be read becomes a DP006 diagnostic instead. Files are read and
// checked in parallel; the report is sorted by file, line and column.
func Files(paths []string, opts ...Option) (*Report, error) {
	o := makeOptions(opts)
	var files []string
	var diags []Diagnostic
	var errs []error
	seen := map[string]bool{}
	addFile := func(p string) {
		if c := filepath.Clean(p); !seen[c] {
			seen[c] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", p, unwrapPath(err)))
			continue
		}
		if !fi.IsDir() {
			// An argument that cannot be opened is a usage error, not a finding.
			f, err := openRegular(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading %s: %w", p, unwrapPath(err)))
				continue
			}
			f.Close()
			addFile(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == p {
					return err
				}
				diags = append(diags, Diagnostic{File: path, Severity: Error, Rule: "DP006",
					Message: fmt.Sprintf("cannot read: %v", unwrapPath(err))})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			name := d.Name()
			if name != ConfigFile && name != SettingsFile {
				name = ""
			}
			if d.IsDir() {
				if name != "" {
					diags = append(diags, Diagnostic{File: path, Severity: Error, Rule: "DP006",
						Message: name + " is a directory, not a file: docker plugin create fails on it",
						Hint:    "remove or rename the directory; the plugin's config is a JSON file"})
				}
				if path != p {
					for _, s := range skipDirs {
						if d.Name() == s {
							return fs.SkipDir
						}
					}
				}
				return nil
			}
			switch t := d.Type(); {
			case name == "":
			case t.IsRegular() || t&fs.ModeSymlink != 0:
				addFile(path) // a symlink's target is checked when it is opened
			default:
				diags = append(diags, notRegular(path, t))
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", p, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	results := make([][]Diagnostic, len(files))
	workers := min(runtime.GOMAXPROCS(0), len(files))
	if len(files) < 8 {
		workers = 1
	}
	// Workers claim files through an atomic counter: with a channel, the
	// hand-off per file (futex wake-ups) cost more than checking the file.
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				results[i] = checkFile(files[i], &o)
			}
		}()
	}
	wg.Wait()
	for _, r := range results {
		diags = append(diags, r...)
	}
	sortDiags(diags)
	return &Report{Files: len(files), Diagnostics: diags}, nil
}

// checkFile reads and validates one file. A file over the size cap is
// reported without being read.
func checkFile(path string, o *options) []Diagnostic {
	fail := func(err error) []Diagnostic {
		return []Diagnostic{{File: path, Severity: Error, Rule: "DP006", Message: fmt.Sprintf("cannot read: %v", unwrapPath(err))}}
	}
	f, err := openRegular(path)
	if err != nil {
		var nr *notRegularError
		if errors.As(err, &nr) {
			return []Diagnostic{notRegular(path, nr.mode)}
		}
		return fail(err)
	}
	defer f.Close()
	size := int64(512)
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	if size > o.maxSize {
		return tooLarge(path, o.maxSize)
	}
	// Read one byte more than expected to see EOF (or growth) in one go.
	buf := bytes.NewBuffer(make([]byte, 0, size+1))
	if _, err := buf.ReadFrom(io.LimitReader(f, o.maxSize+1)); err != nil {
		return fail(err)
	}
	if int64(buf.Len()) > o.maxSize {
		return tooLarge(path, o.maxSize)
	}
	return check(path, buf.Bytes(), o)
}

// ErrNotRegular is matched (errors.Is) by the error for an argument that is
// a FIFO, socket or device instead of a file.
var ErrNotRegular = errors.New("not a regular file")

type notRegularError struct{ mode fs.FileMode }

func (e *notRegularError) Error() string {
	return fmt.Sprintf("not a regular file but %s: validate reads plugin configs from regular files", modeName(e.mode))
}

func (e *notRegularError) Is(target error) bool { return target == ErrNotRegular }

// openRegular opens path for reading without ever blocking: a FIFO opened
// for reading would wait for a writer forever (and a device may do
// anything), so the open is non-blocking and anything but a regular file
// is refused by fstat before a byte is read. Regular files ignore
// O_NONBLOCK.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &notRegularError{fi.Mode()}
	}
	return f, nil
}

func notRegular(path string, mode fs.FileMode) Diagnostic {
	return Diagnostic{File: path, Severity: Error, Rule: "DP006",
		Message: fmt.Sprintf("%s is %s, not a regular file: docker plugin create cannot read it", filepath.Base(path), modeName(mode)),
		Hint:    "replace it with the plugin's JSON config file"}
}

func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeDir != 0:
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

func tooLarge(path string, max int64) []Diagnostic {
	return []Diagnostic{{File: path, Severity: Error, Rule: "DP003",
		Message: fmt.Sprintf("file is larger than the %d-byte cap: not a plugin config", max),
		Hint:    "check that this is the right file (plugin configs are a few KiB)"}}
}

// unwrapPath drops the *PathError wrapper: the diagnostic already names the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
