package pack

import (
	"io"
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
