package blockgz

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
)

// testData is size bytes alternating random and text-like runs, so that
// both matches across block boundaries and stored blocks occur.
func testData(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	words := []string{"plugin ", "volume ", "docker ", "mount ", "\n", "rootfs ", "sock"}
	b := make([]byte, 0, size)
	for len(b) < size {
		n := 1 + rng.IntN(300<<10)
		if rng.IntN(3) == 0 {
			for range n {
				b = append(b, byte(rng.Uint32()))
			}
		} else {
			for k := 0; k < n; {
				w := words[rng.IntN(len(words))]
				b = append(b, w...)
				k += len(w)
			}
		}
	}
	return b[:size]
}

// compress writes data through a Writer in chunks of the given size.
func compress(t testing.TB, data []byte, level, workers, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	h := sha256.New()
	w, err := NewWriter(&out, level, Options{Workers: workers, Uncompressed: h})
	if err != nil {
		t.Fatal(err)
	}
	for p := data; len(p) > 0; {
		k := min(chunk, len(p))
		if _, err := w.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Written() != int64(out.Len()) {
		t.Errorf("Written() = %d; wrote %d", w.Written(), out.Len())
	}
	if got, want := h.Sum(nil), sha256.Sum256(data); !bytes.Equal(got, want[:]) {
		t.Errorf("the uncompressed writer saw other bytes than were written")
	}
	return out.Bytes()
}

// reference compresses data the slow, obviously deterministic way: one
// fresh flate writer per block, one member after the other.
func reference(t testing.TB, data []byte, level, blockSize int) []byte {
	t.Helper()
	var out bytes.Buffer
	for off := 0; off < len(data) || off == 0; off += blockSize {
		end := min(off+blockSize, len(data))
		var m bytes.Buffer
		m.Write((&Writer{level: level}).header())
		fw, err := flate.NewWriter(&m, level)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data[off:end])
		fw.Close()
		var tr [8]byte
		binary.LittleEndian.PutUint32(tr[:4], crc32.ChecksumIEEE(data[off:end]))
		binary.LittleEndian.PutUint32(tr[4:], uint32(end-off))
		m.Write(tr[:])
		binary.LittleEndian.PutUint32(m.Bytes()[16:20], uint32(m.Len()))
		out.Write(m.Bytes())
	}
	return out.Bytes()
}

func TestReproducibleAndValid(t *testing.T) {
	sizes := []int{0, 1, 32<<10 - 1, BlockSize - 1, BlockSize, BlockSize + 1, 3*BlockSize + 12345, 2 * BlockSize}
	levels := []int{NoCompression, BestSpeed, 2, 3, 4, 5, DefaultCompression, 6, 7, BestCompression, HuffmanOnly}
	if testing.Short() {
		levels = []int{BestSpeed, DefaultCompression, BestCompression}
	}
	for _, size := range sizes {
		data := testData(size, uint64(size))
		for _, level := range levels {
			t.Run(strconv.Itoa(size)+"/"+strconv.Itoa(level), func(t *testing.T) {
				want := reference(t, data, level, BlockSize)
				for _, c := range []struct{ workers, chunk int }{{1, 1 << 30}, {4, 1 << 30}, {3, 4097}, {8, 100 << 10}} {
					got := compress(t, data, level, c.workers, c.chunk)
					if !bytes.Equal(got, want) {
						t.Fatalf("workers=%d chunk=%d: %d bytes differ from the one-block-at-a-time reference (%d bytes)", c.workers, c.chunk, len(got), len(want))
					}
				}
				// Go's gzip reader reads it back (members concatenated), so do
				// klauspost's and this package's.
				zr, err := gzip.NewReader(bytes.NewReader(want))
				if err != nil {
					t.Fatal(err)
				}
				back, err := io.ReadAll(zr)
				if err != nil {
					t.Fatalf("Go's gzip reader: %v", err)
				}
				if !bytes.Equal(back, data) {
					t.Fatalf("decompressed %d bytes differ from the %d written", len(back), len(data))
				}
				kr, err := kgzip.NewReader(bytes.NewReader(want))
				if err != nil {
					t.Fatal(err)
				}
				if back, err := io.ReadAll(kr); err != nil || !bytes.Equal(back, data) {
					t.Fatalf("klauspost gzip reader: %v", err)
				}
				for _, workers := range []int{2} {
					if back, err := readAll(t, want, workers, 1<<20); err != nil || !bytes.Equal(back, data) {
						t.Fatalf("NewReader, %d workers: %v", workers, err)
					}
				}
			})
		}
	}
}

// TestGOMAXPROCS checks the default worker count does not change the bytes.
func TestGOMAXPROCS(t *testing.T) {
	data := testData(5*BlockSize+777, 3)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := compress(t, data, DefaultCompression, 0, 64<<10)
	runtime.GOMAXPROCS(4)
	four := compress(t, data, DefaultCompression, 0, 64<<10)
	if !bytes.Equal(one, four) {
		t.Fatal("GOMAXPROCS=1 and GOMAXPROCS=4 give different bytes")
	}
	again := compress(t, data, DefaultCompression, 0, 64<<10)
	if !bytes.Equal(four, again) {
		t.Fatal("two runs give different bytes")
	}
}

func TestCorruptionDetected(t *testing.T) {
	data := testData(2*BlockSize+5, 9)
	gz := compress(t, data, DefaultCompression, 2, 1<<20)
	gz[len(gz)-6] ^= 1 // the last member's CRC
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(zr); !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("a damaged CRC read as %v; want gzip.ErrChecksum", err)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestWriteError: a failing destination fails Write or Close, and never
// hangs the producer (the writer goroutine keeps freeing blocks).
func TestWriteError(t *testing.T) {
	data := testData(40*BlockSize, 5)
	w, err := NewWriter(&failWriter{n: 3 << 20}, BestSpeed, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, werr := w.Write(data)
	cerr := w.Close()
	if werr == nil && cerr == nil {
		t.Fatal("no error from a destination that fails")
	}
	if cerr == nil || cerr.Error() != "disk full" {
		t.Errorf("Close = %v; want disk full", cerr)
	}
}

func TestBadLevel(t *testing.T) {
	for _, l := range []int{-3, 10} {
		if _, err := NewWriter(io.Discard, l, Options{}); err == nil {
			t.Errorf("level %d accepted", l)
		}
	}
}

// BenchmarkCompare compares with single-stream gzip at the same level on
// the same bytes (SPEC §7: ≥ 1.7× on 2 cores).
func BenchmarkCompare(b *testing.B) {
	data := testData(32<<20, 11)
	for _, level := range []int{1, 6, 9} {
		b.Run("single/"+strconv.Itoa(level), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				zw, _ := kgzip.NewWriterLevel(io.Discard, level)
				zw.Write(data)
				zw.Close()
			}
		})
		b.Run("blocks/"+strconv.Itoa(level), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				zw, _ := NewWriter(io.Discard, level, Options{})
				zw.Write(data)
				zw.Close()
			}
		})
	}
}
