package blockgz

import (
	"bytes"
	"io"

	"github.com/klauspost/compress/flate"
)

// decoder inflates one member's deflate data, whole, into a buffer of the
// size its trailer gives. A Reader's worker keeps one and calls free when
// it ends.
//
// Two implement it: goDecoder (klauspost's flate, always built) and, in a
// build with cgo and the libdeflate tag, libdeflate's buffer-to-buffer
// decompressor (libdeflate.go), about three times as fast here on a
// plugin's files. Either only ever says yes or no: a member it refuses is
// read again by the sequential gzip.Reader, which decides what the caller
// gets. libdeflate accepts everything goDecoder accepts, with the same
// bytes, and a few out-of-spec encodings more (TestDecodersAgree,
// FuzzDecoders; Reader says what that changes).
type decoder interface {
	// decode reports whether src is exactly one complete deflate stream
	// (nothing after its last block but the padding to a byte) that
	// inflates to exactly len(dst) bytes, which it wrote into dst.
	decode(dst, src []byte) bool
	free()
}

// goDecoder is the pure Go decoder.
type goDecoder struct {
	br bytes.Reader
	fr io.ReadCloser
}

func (d *goDecoder) decode(dst, src []byte) bool {
	d.br.Reset(src)
	if d.fr == nil {
		d.fr = flate.NewReader(&d.br)
	} else if err := d.fr.(flate.Resetter).Reset(&d.br, nil); err != nil {
		return false
	}
	if _, err := io.ReadFull(d.fr, dst); err != nil {
		return false
	}
	var one [1]byte
	if k, err := d.fr.Read(one[:]); k != 0 || err != io.EOF {
		return false // more data than dst holds, or broken
	}
	return d.br.Len() == 0
}

func (d *goDecoder) free() {}
