package pack

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// TestReadAheadSameBytes: reading through the read-ahead gives src's
// bytes, then src's own end (io.EOF), whatever the read sizes.
func TestReadAheadSameBytes(t *testing.T) {
	data := make([]byte, readAheadChunks*readAheadSize*2+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	for name, src := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(data) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data[:3*readAheadSize+7])) },
		"empty":    func() io.Reader { return bytes.NewReader(nil) },
	} {
		t.Run(name, func(t *testing.T) {
			s := src()
			want, _ := io.ReadAll(src())
			ra := newReadAhead(s)
			defer ra.Close()
			if err := iotest.TestReader(ra, want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// errAfter returns n bytes of zeros, then err.
type errAfter struct {
	n   int
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, e.err
	}
	m := min(len(p), e.n)
	clear(p[:m])
	e.n -= m
	return m, nil
}

// TestReadAheadError: src's error comes after every byte read before it,
// unchanged (callers classify it with errors.Is), and it sticks.
func TestReadAheadError(t *testing.T) {
	boom := errors.New("boom")
	ra := newReadAhead(&errAfter{n: readAheadSize + 10, err: boom})
	defer ra.Close()
	n, err := io.Copy(io.Discard, ra)
	if n != readAheadSize+10 || !errors.Is(err, boom) {
		t.Fatalf("read %d bytes, then %v; want %d, then boom", n, err, readAheadSize+10)
	}
	if _, err := ra.Read(make([]byte, 1)); !errors.Is(err, boom) {
		t.Errorf("the next read: %v; want boom again", err)
	}
}

// countedEndless never ends and counts the reads made of it.
type countedEndless struct{ reads atomic.Int64 }

func (e *countedEndless) Read(p []byte) (int, error) {
	e.reads.Add(1)
	return len(p), nil
}

// TestReadAheadCloseStops: Close returns once the goroutine has stopped
// reading src, even though src never ends and nobody read it to the end.
func TestReadAheadCloseStops(t *testing.T) {
	src := &countedEndless{}
	ra := newReadAhead(src)
	if _, err := io.ReadFull(ra, make([]byte, 3*readAheadSize)); err != nil {
		t.Fatal(err)
	}
	ra.Close()
	select {
	case <-ra.done:
	default:
		t.Fatal("Close returned before the goroutine stopped")
	}
	before := src.reads.Load()
	ra.Close() // twice is fine
	if _, err := io.ReadAll(ra); err == nil {
		t.Error("reading after Close succeeded")
	}
	if after := src.reads.Load(); after != before {
		t.Errorf("src was read %d more times after Close", after-before)
	}
}
