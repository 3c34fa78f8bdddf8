package pack

import (
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadAheadHandsOverFullChunk: a chunk is handed to the reader as soon
// as it is full, without reading src again first: a src (a network body)
// that sends no more until its reader has what it sent is not a deadlock.
func TestReadAheadHandsOverFullChunk(t *testing.T) {
	pr, pw := io.Pipe()
	ra := newReadAhead(pr)
	defer ra.Close()
	defer pw.Close() // first: Close waits for a pending read of src
	got := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(ra, make([]byte, readAheadSize))
		got <- err
	}()
	go pw.Write(make([]byte, readAheadSize)) // then waits, as a peer waiting for a reply would
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the full chunk was not handed over within 10s: the read-ahead waits for more of src first")
	}
	pw.Close()
	if n, err := io.Copy(io.Discard, ra); n != 0 || err != nil {
		t.Errorf("after the chunk: %d bytes, %v; want the end", n, err)
	}
}

// zeroReader answers every read with 0 bytes and no error, and counts the
// reads made of it.
type zeroReader struct{ reads atomic.Int64 }

func (z *zeroReader) Read([]byte) (int, error) {
	z.reads.Add(1)
	return 0, nil
}

// TestReadAheadCloseStopsZeroReads: a src that keeps answering 0 bytes
// and no error does not hold the goroutine in src's reads: the read-ahead
// hands the empty chunk back each time and Close stops it.
func TestReadAheadCloseStopsZeroReads(t *testing.T) {
	src := &zeroReader{}
	ra := newReadAhead(src)
	for deadline := time.Now().Add(10 * time.Second); src.reads.Load() < 100; {
		if time.Now().After(deadline) {
			t.Fatal("src was not read within 10s")
		}
		runtime.Gosched()
	}
	closed := make(chan struct{})
	go func() {
		ra.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10s: the goroutine spins in reads of src")
	}
}
