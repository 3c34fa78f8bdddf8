package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync"
)

// Small regular files are written by a pool of goroutines while the
// extraction goes on reading the stream (decompressing, verifying) and
// creating the next entries: on a real filesystem creating an inode costs
// far more than reading a small file's bytes, and several creations can be
// in flight at once.
//
// Safety does not depend on the pool: the main goroutine does every check
// (names, parents resolved with SecureJoin, limits) exactly as before, and
// hands a file to the pool only when nothing can be at its path and
// nothing can change the path until the file is written:
//
//   - its parent directory was created empty by this extraction (so no
//     lower layer's entry and no symlink can be at the path), and no entry
//     of this extraction created anything at the path (x.used);
//   - every entry that removes, replaces or links anything (whiteouts,
//     symlinks, hard links, device nodes, an entry at a path already used,
//     an existing path in the way) first waits for the pool to be idle
//     (x.drain), as does the end of the extraction and any error, so no
//     pool write can race with a change of its parent path and nothing is
//     written into dst after Extract returns.
//
// The pool's files are created like any other (O_EXCL|O_NOFOLLOW, mode
// 0600 until the metadata is applied through the descriptor).

// asyncMax is the largest file handed to the pool (its content is read
// into a buffer first); larger files are written directly.
const asyncMax = 256 << 10

// poolQueue bounds the files read but not yet written (memory:
// poolQueue × asyncMax at most).
const poolQueue = 32

type fileJob struct {
	hdr    *tar.Header
	target string
	perm   fs.FileMode
	data   []byte
}

type pool struct {
	jobs    chan *fileJob
	free    chan []byte
	pending sync.WaitGroup
	workers sync.WaitGroup
	mu      sync.Mutex
	err     error
	started bool
}

// async reports whether a regular file of size bytes at the host path
// target, in the host directory parent, may be written by the pool.
func (x *extractor) async(target, parent string, size int64) bool {
	return size <= asyncMax && x.fresh[parent] && !x.used[target]
}

// submit reads the file's content from r and queues it for the pool.
func (x *extractor) submit(r io.Reader, hdr *tar.Header, target string, perm fs.FileMode) error {
	p := &x.pool
	if !p.started {
		p.started = true
		p.jobs = make(chan *fileJob, poolQueue)
		p.free = make(chan []byte, poolQueue+1)
		for range poolQueue + 1 {
			p.free <- nil
		}
		n := min(max(runtime.GOMAXPROCS(0), 2), 4)
		for range n {
			p.workers.Add(1)
			go x.worker()
		}
	}
	if err := p.firstErr(); err != nil {
		return err
	}
	buf := <-p.free
	if int64(cap(buf)) < hdr.Size {
		buf = make([]byte, hdr.Size, max(hdr.Size, 32<<10))
	}
	buf = buf[:hdr.Size]
	if err := x.copyN(&sliceWriter{b: buf}, r, hdr.Size); err != nil {
		p.free <- buf
		return fmt.Errorf("extracting %q: %w", hdr.Name, err)
	}
	h := *hdr
	p.pending.Add(1)
	p.jobs <- &fileJob{hdr: &h, target: target, perm: perm, data: buf}
	return nil
}

func (x *extractor) worker() {
	p := &x.pool
	defer p.workers.Done()
	for j := range p.jobs {
		err := p.firstErr()
		if err == nil {
			err = x.ctx.Err()
		}
		if err == nil {
			err = x.writeJob(j)
		}
		if err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = err
			}
			p.mu.Unlock()
		}
		p.free <- j.data[:0]
		p.pending.Done()
	}
}

func (x *extractor) writeJob(j *fileJob) error {
	f, err := os.OpenFile(j.target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		return fmt.Errorf("extracting %q: %w", j.hdr.Name, err)
	}
	if len(j.data) > 0 {
		if _, err := f.Write(j.data); err != nil {
			f.Close()
			return fmt.Errorf("extracting %q: %w", j.hdr.Name, err)
		}
	}
	return x.fileMeta(f, j.hdr, j.target, j.perm)
}

func (p *pool) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// drain waits until the pool has written every file handed to it, and
// returns the first error a worker met.
func (x *extractor) drain() error {
	if !x.pool.started {
		return nil
	}
	x.pool.pending.Wait()
	return x.pool.firstErr()
}

// stop drains the pool and ends its goroutines.
func (x *extractor) stop() error {
	if !x.pool.started {
		return nil
	}
	err := x.drain()
	close(x.pool.jobs)
	x.pool.workers.Wait()
	x.pool.started = false
	return err
}

// sliceWriter fills a preallocated slice.
type sliceWriter struct {
	b []byte
	n int
}

func (w *sliceWriter) Write(p []byte) (int, error) {
	if len(p) > len(w.b)-w.n {
		return 0, errors.New("file larger than its header says")
	}
	w.n += copy(w.b[w.n:], p)
	return len(p), nil
}
