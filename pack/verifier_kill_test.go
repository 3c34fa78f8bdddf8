package pack

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// onceErr returns r's bytes, then err once, then io.EOF (a body whose
// connection was reset reads as ended afterwards).
type onceErr struct {
	r    io.Reader
	err  error
	done bool
}

func (o *onceErr) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	if err == io.EOF && !o.done {
		o.done = true
		return n, o.err
	}
	return n, err
}

// TestVerifierErrorSticks: after a cut connection, draining and checking
// the blob reports the cut (worth a retry), not a digest mismatch.
func TestVerifierErrorSticks(t *testing.T) {
	blob := []byte("the whole blob, of which only half arrives")
	desc := v1.Descriptor{Size: int64(len(blob)), Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(blob))}}
	v := newVerifier(&onceErr{r: bytes.NewReader(blob[:len(blob)/2]), err: syscall.ECONNRESET}, desc)
	if _, err := io.ReadAll(v); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading: %v; want the reset", err)
	}
	if err := drainCheck(v); !errors.Is(err, syscall.ECONNRESET) || errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("drainCheck after the reset = %v; want the reset again, not a digest mismatch", err)
	}
}

// countingEndless never ends, gives at most 3 bytes a read (a slow
// connection) and counts the bytes taken from it.
type countingEndless struct{ n int64 }

func (c *countingEndless) Read(p []byte) (int, error) {
	m := min(len(p), 3)
	c.n += int64(m)
	return m, nil
}

// TestVerifierTakesOneBytePastSize: a blob longer than declared is refused
// after one byte past its size, whatever the reads' sizes: no more is
// taken from the connection.
func TestVerifierTakesOneBytePastSize(t *testing.T) {
	for _, size := range []int64{1, 10, 4096} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			src := &countingEndless{}
			v := newVerifier(src, v1.Descriptor{Size: size, Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064d", 0)}})
			buf := make([]byte, 64<<10)
			var err error
			for range 10000 {
				if _, err = v.Read(buf); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrDigestMismatch) || src.n != size+1 {
				t.Fatalf("took %d bytes of a %d-byte blob, then %v; want %d, then ErrDigestMismatch", src.n, size, err, size+1)
			}
		})
	}
}
