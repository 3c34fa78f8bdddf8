//go:build cgo && libdeflate

package blockgz

/*
#cgo LDFLAGS: -l:libdeflate.a
#include <libdeflate.h>

static const char *version(void) { return LIBDEFLATE_VERSION_STRING; }
*/
import "C"

import "unsafe"

// Decoder names the implementation that inflates a Writer's members in
// parallel (dplug --debug install logs it).
var Decoder = "libdeflate " + C.GoString(C.version())

// libDecoder is libdeflate's whole-buffer decompressor (Debian's
// libdeflate-dev, linked statically: build with -tags libdeflate). It
// accepts every stream goDecoder accepts, with the same bytes, and a few
// more (out-of-spec header counts and code-length repeats that
// libdeflate does not check): see Reader.
type libDecoder struct {
	d *C.struct_libdeflate_decompressor
}

func newDecoder() decoder {
	d := C.libdeflate_alloc_decompressor()
	if d == nil {
		return &goDecoder{}
	}
	return &libDecoder{d: d}
}

func (l *libDecoder) decode(dst, src []byte) bool {
	if len(src) == 0 {
		return false
	}
	var none [1]byte
	out := unsafe.Pointer(&none[0])
	if len(dst) > 0 {
		out = unsafe.Pointer(&dst[0])
	}
	var in, got C.size_t
	r := C.libdeflate_deflate_decompress_ex(l.d, unsafe.Pointer(&src[0]), C.size_t(len(src)),
		out, C.size_t(len(dst)), &in, &got)
	// libdeflate counts the input up to the byte its last block ends in:
	// anything after it inside the member is refused, as by goDecoder.
	return r == C.LIBDEFLATE_SUCCESS && int(in) == len(src) && int(got) == len(dst)
}

func (l *libDecoder) free() {
	C.libdeflate_free_decompressor(l.d)
	l.d = nil
}
