package pack

import (
	"errors"
	"io"
	"sync"
)

var errReadAheadClosed = errors.New("read-ahead closed")

// A layer's rootfs is read by one goroutine (download, digest, inflate)
// while the extraction, on the caller's goroutine, creates files: on a
// machine with two cores inflating costs about as much as creating the
// files, so doing both at once nearly halves an install. The read-ahead is
// bounded (readAheadChunks × readAheadSize bytes) and in order; it changes
// nothing about what is read, only when.

const (
	readAheadSize   = 256 << 10
	readAheadChunks = 8
)

// readAhead reads src on its own goroutine into a few buffers, ahead of
// its reader. Read returns src's bytes, then src's error (io.EOF at the
// end), exactly as reading src would. Close stops the goroutine and waits
// for it: after Close returns, src is not touched any more, so the caller
// may read what lies under it (e.g. drain a verifier).
type readAhead struct {
	full chan []byte // filled chunks, in order; closed after the last
	free chan []byte // chunks to fill
	stop chan struct{}
	done chan struct{}
	err  error // src's error; read only after full is closed

	cur  []byte // the rest of the chunk being read
	buf  []byte // the whole chunk cur is part of, to give back
	once sync.Once
}

func newReadAhead(src io.Reader) *readAhead {
	ra := &readAhead{
		full: make(chan []byte, readAheadChunks),
		free: make(chan []byte, readAheadChunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range readAheadChunks {
		ra.free <- nil // allocated when first needed: small layers stay small
	}
	go ra.fill(src)
	return ra
}

func (ra *readAhead) fill(src io.Reader) {
	defer close(ra.done)
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		if buf == nil {
			buf = make([]byte, readAheadSize)
		}
		n, err := fillChunk(src, buf[:readAheadSize])
		if n == 0 {
			ra.free <- buf // never blocks: the buffer came from there
		} else {
			select {
			case ra.full <- buf[:n]:
			case <-ra.stop:
				return
			}
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

// fillChunk reads from src until b is full or src fails; unlike
// io.ReadFull it returns src's own error (io.EOF included) unchanged.
func fillChunk(src io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := src.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			// A reader returning 0, nil repeatedly: hand over what there
			// is rather than spin here.
			return n, nil
		}
	}
	return n, nil
}

func (ra *readAhead) Read(p []byte) (int, error) {
	if len(ra.cur) == 0 {
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)]
			ra.buf = nil
		}
		chunk, ok := <-ra.full
		if !ok {
			if ra.err == nil {
				return 0, errReadAheadClosed // Close was called
			}
			return 0, ra.err
		}
		ra.cur, ra.buf = chunk, chunk
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops reading ahead and waits until the goroutine has left src
// (at most the one Read of src in progress).
func (ra *readAhead) Close() error {
	ra.once.Do(func() { close(ra.stop) })
	<-ra.done
	return nil
}
