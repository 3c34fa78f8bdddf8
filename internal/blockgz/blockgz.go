// Package blockgz writes gzip on every core with reproducible bytes.
//
// The uncompressed stream is cut into fixed-size blocks (BlockSize, by
// offset only: how the caller splits its writes does not matter). Each
// block is deflated on its own, primed with the last 32 KiB of the block
// before it as a preset dictionary (what a decompressor has in its window
// at that point, so matches across the boundary stay valid), and ended
// with a sync flush (an empty stored block) so that it ends on a byte
// boundary; the last block is ended with a final block instead. The
// deflated blocks are concatenated, in order, into ONE gzip member whose
// CRC-32 and size cover the whole stream: any gzip reader (Go's
// compress/gzip, dockerd's, gzip(1), pigz) reads it as ordinary gzip.
//
// Every block's bytes depend only on its input, its dictionary, whether
// it is the last and the level, so the output is the same whatever the
// number of workers (GOMAXPROCS) or the order they finish in.
//
// Memory is bounded: at most MaxInFlight blocks (input and output
// buffers) exist at once, reused for the whole stream.
package blockgz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/flate"
)

// BlockSize is the uncompressed size of each independently compressed
// block. It is part of the output format: changing it changes the bytes.
const BlockSize = 1 << 20

// dictSize is the deflate window: the dictionary each block is primed with.
const dictSize = 32 << 10

// MaxInFlight bounds the blocks alive at once (being filled, compressed or
// written); each holds about 2 × BlockSize of buffers.
const MaxInFlight = 16

// Levels accepted: flate's, from HuffmanOnly (-2) and DefaultCompression
// (-1) to BestCompression (9).
const (
	NoCompression      = flate.NoCompression
	BestSpeed          = flate.BestSpeed
	BestCompression    = flate.BestCompression
	DefaultCompression = flate.DefaultCompression
	HuffmanOnly        = flate.HuffmanOnly
)

// Options tune a Writer without changing its output.
type Options struct {
	// Workers compress blocks in parallel; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// Uncompressed, if set, receives the uncompressed stream, in order
	// (e.g. a hash for a layer's diff_id).
	Uncompressed io.Writer
}

type block struct {
	in   []byte
	dict []byte
	out  bytes.Buffer
	last bool
	err  error
	done chan struct{}
}

// Writer is a gzip writer that compresses on several goroutines. It is
// not safe for concurrent use. Close must be called (also after an error)
// to stop its goroutines.
type Writer struct {
	level   int
	dst     io.Writer
	unc     io.Writer
	cur     *block
	tail    []byte // the last dictSize bytes written before cur
	free    chan *block
	jobs    chan *block
	order   chan *block
	done    chan struct{} // closed when the writer goroutine ends
	werr    error         // the writer goroutine's error, valid after done
	mu      sync.Mutex
	failed  error // set by the writer goroutine as soon as it fails
	closed  bool
	workers sync.WaitGroup
	crc     uint32
	size    uint32 // ISIZE: the length mod 2^32
	written int64  // compressed bytes written to dst
}

// NewWriter returns a Writer that writes one gzip member to dst at level.
func NewWriter(dst io.Writer, level int, opts Options) (*Writer, error) {
	if level < HuffmanOnly || level > BestCompression {
		return nil, fmt.Errorf("gzip: invalid compression level %d", level)
	}
	n := opts.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	inflight := min(max(2*n, 4), MaxInFlight)
	w := &Writer{
		level: level,
		dst:   dst,
		unc:   opts.Uncompressed,
		free:  make(chan *block, inflight),
		jobs:  make(chan *block, inflight),
		order: make(chan *block, inflight),
		done:  make(chan struct{}),
	}
	for range inflight {
		w.free <- &block{}
	}
	// Validate the level once, here, rather than in every worker.
	if _, err := flate.NewWriter(io.Discard, level); err != nil {
		return nil, err
	}
	for range min(n, inflight) {
		w.workers.Add(1)
		go w.compress()
	}
	go w.write()
	return w, nil
}

// Write buffers p into blocks and hands full blocks to the workers.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("gzip: write after close")
	}
	n := 0
	for len(p) > 0 {
		if err := w.err(); err != nil {
			return n, err
		}
		if w.cur == nil {
			w.cur = w.get()
		}
		room := BlockSize - len(w.cur.in)
		k := min(room, len(p))
		w.cur.in = append(w.cur.in, p[:k]...)
		n += k
		p = p[k:]
		if len(w.cur.in) == BlockSize {
			w.submit(false)
		}
	}
	return n, nil
}

// Written is the number of compressed bytes written to dst so far (all of
// them once Close has returned).
func (w *Writer) Written() int64 { return w.written }

// Close compresses what is left, writes the gzip trailer and stops the
// goroutines. It returns the first error met.
func (w *Writer) Close() error {
	if w.closed {
		return w.werr
	}
	if w.cur == nil {
		w.cur = w.get()
	}
	w.submit(true)
	w.closed = true
	close(w.jobs)
	close(w.order)
	<-w.done
	w.workers.Wait()
	return w.werr
}

func (w *Writer) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// get takes a free block, waiting while MaxInFlight are in use.
func (w *Writer) get() *block {
	b := <-w.free
	b.in = b.in[:0]
	if cap(b.in) < BlockSize {
		b.in = make([]byte, 0, BlockSize)
	}
	b.out.Reset()
	b.err = nil
	b.last = false
	b.done = make(chan struct{})
	return b
}

// submit hands the current block to the workers and to the writer (which
// takes blocks in order).
func (w *Writer) submit(last bool) {
	b := w.cur
	w.cur = nil
	b.last = last
	b.dict = append(b.dict[:0], w.tail...)
	// The next block's dictionary: the last dictSize bytes so far.
	if len(b.in) >= dictSize {
		w.tail = append(w.tail[:0], b.in[len(b.in)-dictSize:]...)
	} else {
		w.tail = append(w.tail, b.in...)
		if len(w.tail) > dictSize {
			w.tail = append(w.tail[:0], w.tail[len(w.tail)-dictSize:]...)
		}
	}
	w.order <- b
	w.jobs <- b
}

// compress is a worker: it deflates blocks as they come.
func (w *Writer) compress() {
	defer w.workers.Done()
	var fw *flate.Writer
	for b := range w.jobs {
		b.out.Grow(len(b.in) + len(b.in)/16 + 64)
		if fw == nil {
			fw, b.err = flate.NewWriterDict(&b.out, w.level, b.dict)
		} else {
			fw.ResetDict(&b.out, b.dict)
		}
		if b.err == nil {
			_, b.err = fw.Write(b.in)
		}
		if b.err == nil {
			if b.last {
				b.err = fw.Close()
			} else {
				b.err = fw.Flush()
			}
		}
		close(b.done)
	}
}

// write is the writer goroutine: header, blocks in order, trailer. After
// an error it keeps draining (so the producer never blocks) but writes
// nothing more.
func (w *Writer) write() {
	defer close(w.done)
	var err error
	fail := func(e error) {
		if err == nil {
			err = e
			w.mu.Lock()
			w.failed = e
			w.mu.Unlock()
		}
	}
	if _, e := w.dst.Write(w.header()); e != nil {
		fail(e)
	} else {
		w.written += 10
	}
	for b := range w.order {
		<-b.done
		if err == nil && b.err != nil {
			fail(fmt.Errorf("gzip: compressing: %w", b.err))
		}
		if err == nil {
			w.crc = crc32.Update(w.crc, crc32.IEEETable, b.in)
			w.size += uint32(len(b.in))
			if w.unc != nil {
				if _, e := w.unc.Write(b.in); e != nil {
					fail(e)
				}
			}
		}
		if err == nil {
			n, e := w.dst.Write(b.out.Bytes())
			w.written += int64(n)
			if e != nil {
				fail(e)
			}
		}
		if err == nil && b.last {
			var t [8]byte
			binary.LittleEndian.PutUint32(t[:4], w.crc)
			binary.LittleEndian.PutUint32(t[4:], w.size)
			n, e := w.dst.Write(t[:])
			w.written += int64(n)
			if e != nil {
				fail(e)
			}
		}
		w.free <- b
	}
	w.werr = err
}

// header is a gzip header like Go's (no name, mtime 0, OS unknown).
func (w *Writer) header() []byte {
	h := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	switch w.level {
	case BestCompression:
		h[8] = 2
	case BestSpeed:
		h[8] = 4
	}
	return h
}
