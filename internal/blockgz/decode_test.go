package blockgz

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// deflated compresses data with the standard library's deflate (not the
// Writer's klauspost), so the decoders meet an encoder of another hand.
func deflated(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// agree decodes src into a dst of size n with the built decoder (libdeflate
// in a -tags libdeflate build) and with goDecoder. Whatever goDecoder
// accepts, the built decoder must accept with the same bytes (else a
// Writer's member would fall back to the sequential reader). The built
// decoder may accept more (libdeflate takes a few encodings RFC 1951 and
// Go refuse, see libdeflate.go): then it must still have filled dst
// exactly; *lenient counts those.
func agree(t testing.TB, d decoder, src []byte, n int, what string, lenient *int) bool {
	t.Helper()
	var g goDecoder
	got, want := make([]byte, n), make([]byte, n)
	ok, wok := d.decode(got, src), g.decode(want, src)
	switch {
	case wok && (!ok || !bytes.Equal(got, want)):
		t.Fatalf("%s (%d bytes in, %d out): goDecoder accepts it, %s says %v or other bytes", what, len(src), n, Decoder, ok)
	case ok && !wok && lenient == nil:
		t.Fatalf("%s (%d bytes in, %d out): %s accepts what goDecoder refuses", what, len(src), n, Decoder)
	case ok && !wok:
		*lenient++
	}
	return ok
}

// TestDecodersAgree: the decoder this build uses accepts exactly the
// deflate data goDecoder accepts, with the same output: whole streams at
// every level, a dst one byte short or long, a byte after the last block,
// a truncated stream, and random damage (DPLUG_SEED replays a run).
func TestDecodersAgree(t *testing.T) {
	t.Logf("decoder: %s", Decoder)
	d := newDecoder()
	defer d.free()
	seed := uint64(1)
	if s := os.Getenv("DPLUG_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (DPLUG_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	lenient := 0
	payloads := map[string][]byte{
		"empty":  nil,
		"one":    []byte("x"),
		"text":   testData(200<<10, 4),
		"block":  testData(BlockSize, 5),
		"zeros":  make([]byte, BlockSize),
		"random": bytes.Repeat(testData(4<<10, 6), 3),
	}
	for name, data := range payloads {
		for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
			src := deflated(t, data, level)
			what := name + " level " + strconv.Itoa(level)
			if !agree(t, d, src, len(data), what, nil) {
				t.Fatalf("%s: a whole stream refused", what)
			}
			if agree(t, d, src, len(data)+1, what+", dst one byte long", nil) ||
				(len(data) > 0 && agree(t, d, src, len(data)-1, what+", dst one byte short", nil)) ||
				agree(t, d, append(bytes.Clone(src), 0), len(data), what+", a byte after the stream", nil) ||
				agree(t, d, src[:len(src)-1], len(data), what+", truncated", nil) {
				t.Fatalf("%s: a stream that does not fit accepted", what)
			}
			for i := range 200 {
				b := bytes.Clone(src)
				for range 1 + rng.IntN(3) {
					b[rng.IntN(len(b))] ^= byte(1 << rng.IntN(8))
				}
				agree(t, d, b, len(data), what+", damage "+strconv.Itoa(i), &lenient)
			}
		}
	}
	t.Logf("%d damaged streams accepted by %s that goDecoder refuses", lenient, Decoder)
	if _, isGo := d.(*goDecoder); isGo && lenient != 0 {
		t.Fatal("goDecoder disagrees with itself")
	}
}

// FuzzDecoders: on any input the built decoder and goDecoder agree.
func FuzzDecoders(f *testing.F) {
	f.Add(deflated(f, testData(3000, 9), flate.DefaultCompression), uint16(3000))
	f.Add(deflated(f, nil, flate.NoCompression), uint16(0))
	f.Add(deflated(f, bytes.Repeat([]byte("ab"), 500), flate.HuffmanOnly), uint16(1000))
	f.Add([]byte{0x03, 0x00}, uint16(0))
	d := newDecoder()
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		var lenient int
		agree(t, d, src, int(n), "fuzz", &lenient)
	})
}
