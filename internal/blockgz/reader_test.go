package blockgz

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
)

// readAll reads gz through a Reader, chunk bytes at a time.
func readAll(t testing.TB, gz []byte, workers, chunk int) ([]byte, error) {
	t.Helper()
	b, err, _ := readPar(t, gz, workers, chunk)
	return b, err
}

// readPar also says whether the stream was read in parallel to the end.
func readPar(t testing.TB, gz []byte, workers, chunk int) ([]byte, error, bool) {
	t.Helper()
	z, err := NewReader(bytes.NewReader(gz), ReaderOptions{Workers: workers})
	if err != nil {
		return nil, err, false
	}
	defer z.Close()
	var out bytes.Buffer
	buf := make([]byte, chunk)
	for out.Len() < 64<<20 {
		n, err := z.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes(), nil, z.seq == nil && !z.fallback.Load()
		}
		if err != nil {
			return out.Bytes(), err, z.seq == nil && !z.fallback.Load()
		}
	}
	return out.Bytes(), errors.New("too much output"), false
}

// readSeq is what the Reader must agree with: klauspost's gzip reader,
// multistream, over a bufio.Reader, the path layers took before (flate
// words some errors differently when reading a bytes.Reader).
func readSeq(gz []byte) ([]byte, error) {
	zr, err := kgzip.NewReader(bufio.NewReaderSize(bytes.NewReader(gz), 64<<10))
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	return b, err
}

// errString names err for comparison. Broken deflate data is "flate"
// whatever flate's wording: a decompressor reused from the member before
// (the sequential reader's) sometimes words the same damage differently
// from a fresh one (the Reader's fallback).
func errString(err error) string {
	var ce flate.CorruptInputError
	var ie flate.InternalError
	switch {
	case err == nil:
		return "<nil>"
	case errors.As(err, &ce), errors.As(err, &ie):
		return "flate"
	}
	return err.Error()
}

// sameAsSeq checks the Reader's bytes and error match readSeq's for gz,
// whatever the worker count and read size; it returns whether the whole
// stream was read in parallel (with 2 workers).
func sameAsSeq(t *testing.T, gz []byte) bool {
	t.Helper()
	want, werr := readSeq(gz)
	par := false
	for _, c := range []struct{ workers, chunk int }{{1, 1 << 16}, {2, 7}, {8, 1 << 20}, {2, 1 << 16}} {
		got, err, p := readPar(t, gz, c.workers, c.chunk)
		if errString(err) != errString(werr) {
			t.Fatalf("workers=%d chunk=%d: error %q; the sequential reader says %q", c.workers, c.chunk, errString(err), errString(werr))
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("workers=%d chunk=%d: %d bytes; the sequential reader gives %d, other bytes", c.workers, c.chunk, len(got), len(want))
		}
		par = p
	}
	return par
}

// small writes data through a Writer with a small block size.
func small(t testing.TB, data []byte, blockSize int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := newWriter(&out, DefaultCompression, Options{Workers: 3}, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// members returns the offsets at which gz's members start.
func members(gz []byte) []int {
	var offs []int
	for off := 0; off+headerLen <= len(gz); {
		n, ok := memberLen(gz[off:])
		if !ok {
			break
		}
		offs = append(offs, off)
		off += n
	}
	return offs
}

func plainGzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := kgzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func TestReaderSameAsSequential(t *testing.T) {
	data := testData(100<<10+123, 21)
	good := small(t, data, 16<<10)
	offs := members(good)
	if len(offs) != 7 {
		t.Fatalf("%d members; want 7", len(offs))
	}
	second, third := offs[1], offs[2]
	edit := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	setLen := func(b []byte, off int, n uint32) { binary.LittleEndian.PutUint32(b[off+16:], n) }
	getLen := func(off int) uint32 { return binary.LittleEndian.Uint32(good[off+16:]) }
	cases := []struct {
		name     string
		gz       []byte
		ok       bool // the sequential reader succeeds
		parallel bool // read in parallel to the end
	}{
		{"good", good, true, true},
		{"empty stream", small(t, nil, 16<<10), true, true},
		{"truncated in a member", good[:third-100], false, false},
		{"truncated in a header", good[:second+5], false, false},
		{"truncated in the subfield", good[:second+17], false, false},
		{"truncated in a trailer", good[:third-3], false, false},
		{"truncated at a member boundary", good[:third], true, true},
		{"length huge", edit(func(b []byte) { setLen(b, second, 0xffffffff) }), true, false},
		{"length just past the limit", edit(func(b []byte) { setLen(b, second, maxMember+1) }), true, false},
		{"length zero", edit(func(b []byte) { setLen(b, second, 0) }), true, false},
		{"length one short", edit(func(b []byte) { setLen(b, second, getLen(second)-1) }), true, false},
		{"length one long", edit(func(b []byte) { setLen(b, second, getLen(second)+1) }), true, false},
		{"length past the end", edit(func(b []byte) { setLen(b, offs[6], getLen(offs[6])+10) }), true, false},
		{"bad CRC", edit(func(b []byte) { b[third-8] ^= 1 }), false, false},
		{"ISIZE one more", edit(func(b []byte) { b[third-4]++ }), false, false},
		{"ISIZE one less", edit(func(b []byte) { b[third-4]-- }), false, false},
		{"ISIZE huge", edit(func(b []byte) { b[third-1] = 0x80 }), false, false},
		{"corrupt deflate", edit(func(b []byte) { b[second+headerLen+50] ^= 0x55 }), false, false},
		{"other subfield id", edit(func(b []byte) { b[second+13] = 'Q' }), true, false},
		{"FNAME too", edit(func(b []byte) { b[second+3] |= 8 }), false, false},
		{"garbage after", append(bytes.Clone(good), "garbage"...), false, false},
		{"a plain member after", append(bytes.Clone(good), plainGzip(t, []byte("more"))...), true, false},
		{"a plain member first", append(plainGzip(t, []byte("first")), good...), true, false},
		{"not gzip", []byte("plain text, not gzip at all"), false, false},
		{"a plain single member", plainGzip(t, data), true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := readSeq(c.gz); (err == nil) != c.ok {
				t.Fatalf("the sequential reader says %v; the case expects ok=%t", err, c.ok)
			}
			if par := sameAsSeq(t, c.gz); par != c.parallel {
				t.Errorf("read in parallel to the end: %t; want %t", par, c.parallel)
			}
		})
	}
}

// TestReaderEveryBoundary: with 5-byte blocks, member boundaries fall at
// every offset of the data, for every length up to 60 and every read size.
func TestReaderEveryBoundary(t *testing.T) {
	data := []byte("the quick brown fox jumps over the lazy dog, and again: the quick brown fox")
	for n := 0; n <= 60; n++ {
		gz := small(t, data[:n], 5)
		if got := len(members(gz)); got != max(1, (n+4)/5) {
			t.Fatalf("%d bytes: %d members", n, got)
		}
		for _, chunk := range []int{1, 3, 5, 64} {
			got, err, par := readPar(t, gz, 2, chunk)
			if err != nil || !bytes.Equal(got, data[:n]) || !par {
				t.Fatalf("%d bytes, reads of %d: %q, %v, parallel %t", n, chunk, got, err, par)
			}
		}
	}
}

// TestReaderGzipTool: gzip(1) reads a Writer's stream (a few members).
func TestReaderGzipTool(t *testing.T) {
	path, err := exec.LookPath("gzip")
	if err != nil {
		t.Fatal(err) // gzip(1) is part of every Debian system
	}
	data := testData(3*BlockSize+999, 4)
	gz := compress(t, data, DefaultCompression, 2, 1<<20)
	cmd := exec.Command(path, "-dc")
	cmd.Stdin = bytes.NewReader(gz)
	out, err := cmd.Output()
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("gzip -dc: %v (%d bytes of %d)", err, len(out), len(data))
	}
}

// TestReaderHostileLengthBoundedMemory: a member that claims the largest
// length allowed but is cut short costs one buffer of that size, not more,
// and fails like the sequential reader.
func TestReaderHostileLengthBoundedMemory(t *testing.T) {
	gz := small(t, testData(4000, 1), 1000)
	second := members(gz)[1]
	gz = gz[:second+headerLen+10]
	binary.LittleEndian.PutUint32(gz[second+16:], maxMember)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := readAll(t, gz, 4, 1<<10); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err %v; want unexpected EOF", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 2*maxMember+1<<20 {
		t.Errorf("%d bytes allocated per read of a %d-byte stream", per, len(gz))
	}
	sameAsSeq(t, gz)
}

// TestReaderCloseEarly: Close in the middle stops the goroutines; Read
// after Close fails.
func TestReaderCloseEarly(t *testing.T) {
	gz := small(t, testData(200<<10, 2), 4<<10)
	z, err := NewReader(bytes.NewReader(gz), ReaderOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10<<10)
	if _, err := io.ReadFull(z, buf); err != nil {
		t.Fatal(err)
	}
	z.Close()
	if _, err := z.Read(buf); err == nil {
		t.Error("Read after Close succeeded")
	}
	z.Close() // twice is fine
}

// TestReaderCorruptFlate: a member whose data is broken fails with
// flate's error, as the sequential path does (the pull classifies it).
func TestReaderCorruptFlate(t *testing.T) {
	gz := small(t, testData(50<<10, 3), 8<<10)
	gz[members(gz)[2]+headerLen+1] ^= 0xff
	_, err := readAll(t, gz, 2, 1<<16)
	var ce flate.CorruptInputError
	if !errors.As(err, &ce) && !errors.Is(err, kgzip.ErrChecksum) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err %v; want a corrupt-input or checksum error", err)
	}
}

func FuzzReader(f *testing.F) {
	good := small(f, testData(3000, 5), 500)
	f.Add(good)
	f.Add(good[:len(good)-9])
	f.Add(append(bytes.Clone(good), good...))
	f.Add(small(f, nil, 500))
	f.Add(plainGzip(f, []byte("x")))
	f.Fuzz(func(t *testing.T, gz []byte) {
		want, werr := readSeq(gz)
		got, err := readAll(t, gz, 2, 1000)
		if errString(err) != errString(werr) || !bytes.Equal(got, want) {
			t.Fatalf("Reader: %d bytes, %v; sequential: %d bytes, %v", len(got), err, len(want), werr)
		}
	})
}

func BenchmarkReader(b *testing.B) {
	data := testData(32<<20, 11)
	gz := compress(b, data, DefaultCompression, 0, 1<<20)
	b.Run("sequential", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			zr, _ := kgzip.NewReader(bytes.NewReader(gz))
			io.Copy(io.Discard, zr)
		}
	})
	for _, w := range []int{1, 2, 4} {
		b.Run("parallel/"+strconv.Itoa(w), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				z, _ := NewReader(bytes.NewReader(gz), ReaderOptions{Workers: w})
				io.Copy(io.Discard, z)
				z.Close()
			}
		})
	}
}

// TestReaderRandomDamage: random damage (flipped bytes, cuts, appended
// bytes) to a Writer's stream reads exactly as the sequential reader reads
// it, and never hangs.
func TestReaderRandomDamage(t *testing.T) {
	good := small(t, testData(20000, 8), 2000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		b := bytes.Clone(good)
		for range 1 + rng.IntN(3) {
			switch rng.IntN(4) {
			case 0:
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			case 1:
				b = b[:rng.IntN(len(b))]
			case 2:
				b = append(b, good[:rng.IntN(len(good))]...)
			case 3: // a header's length field
				if offs := members(b); len(offs) > 0 {
					o := offs[rng.IntN(len(offs))]
					binary.LittleEndian.PutUint32(b[o+16:], uint32(rng.IntN(4000)))
				}
			}
			if len(b) == 0 {
				b = good[:1]
			}
		}
		want, werr := readSeq(b)
		got, err := readAll(t, b, 1+i%3, 1+rng.IntN(5000))
		if errString(err) != errString(werr) || !bytes.Equal(got, want) {
			t.Fatalf("case %d: Reader: %d bytes, %v; sequential: %d bytes, %v", i, len(got), err, len(want), werr)
		}
	}
}

// TestReaderDefaultsAndSmallBuffer: no worker count means GOMAXPROCS
// workers; a bufio.Reader too small to peek at a member header is read
// sequentially, with the same result.
func TestReaderDefaultsAndSmallBuffer(t *testing.T) {
	data := testData(50<<10, 6)
	gz := small(t, data, 4<<10)
	z, err := NewReader(bufio.NewReaderSize(bytes.NewReader(gz), 16), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if z.Parallel() {
		t.Error("a 16-byte bufio.Reader read in parallel")
	}
	if got, err := io.ReadAll(z); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("small buffer: %d bytes, %v", len(got), err)
	}
	z.Close()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	z, err = NewReader(bytes.NewReader(gz), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if !z.Parallel() {
		t.Error("a Writer's stream not read in parallel")
	}
	if got, err := io.ReadAll(z); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("default workers: %d bytes, %v", len(got), err)
	}
}

// TestReaderLongestMember: a member exactly maxMember bytes long (empty
// stored blocks as padding) is still inflated in parallel; the length
// limit is inclusive.
func TestReaderLongestMember(t *testing.T) {
	data := maxMember - headerLen - trailerLen
	if (data-2)%5 != 0 {
		t.Fatalf("deflate data of %d bytes cannot be padded with 5-byte stored blocks", data)
	}
	m := (&Writer{level: DefaultCompression}).header()
	for range (data - 2) / 5 {
		m = append(m, 0, 0, 0, 0xff, 0xff) // an empty stored block, not the last
	}
	m = append(m, 3, 0)                   // an empty fixed-Huffman block, the last
	m = append(m, 0, 0, 0, 0, 0, 0, 0, 0) // CRC and size of nothing
	binary.LittleEndian.PutUint32(m[16:], uint32(len(m)))
	if len(m) != maxMember {
		t.Fatalf("member of %d bytes; want %d", len(m), maxMember)
	}
	gz := append(m, small(t, []byte("after"), 8)...)
	if !sameAsSeq(t, gz) {
		t.Error("a member of the largest length allowed was not read in parallel")
	}
}

// TestReaderFullBlocksParallel: a Writer's members of a whole BlockSize
// each (the common case: every member but the last) are inflated in
// parallel, to the end.
func TestReaderFullBlocksParallel(t *testing.T) {
	data := testData(3*BlockSize, 12)
	gz := compress(t, data, BestSpeed, 2, 1<<20)
	got, err, par := readPar(t, gz, 2, 1<<16)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	if !par {
		t.Error("members of BlockSize bytes were not read in parallel")
	}
}
