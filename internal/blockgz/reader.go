package blockgz

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// Limits on a member the Reader inflates in parallel: more than a Writer
// ever writes (a stored 1 MiB block is 1 MiB plus 5 bytes per 64 KiB).
// A member past them is not refused: it is read sequentially.
const (
	maxMemberData = BlockSize
	maxMember     = headerLen + maxMemberData + maxMemberData/16 + trailerLen
)

// errClosed: Read after Close.
var errClosed = errors.New("gzip: read after close")

// Reader reads a gzip stream; on a stream that a Writer wrote it inflates
// the members on several goroutines.
//
// It returns exactly the bytes and the error that klauspost's
// gzip.Reader (multistream, as dockerd and containerd read layers) would
// return for the same input (but for the wording of some errors about
// broken deflate data, which flate words differently in a reused
// decompressor): a member is inflated in parallel only when
// its header is exactly a Writer's (flags FEXTRA only, one "DP" subfield
// whose length is within the limits above) and its deflate data, CRC-32
// and size all check out against that length; the first member that does
// not, whatever the reason (no subfield, a length that lies, bad data, a
// bad CRC, a truncated stream, trailing garbage), is handed from its first
// byte, with everything after it, to a sequential gzip.Reader, which fails
// or succeeds on it as it would have on the whole stream. The length is
// only a hint where to cut: nothing is emitted that has not been
// inflated, checked and found to end exactly there.
//
// One exception, in a build with libdeflate (-tags libdeflate, see
// decoder): libdeflate accepts a few deflate encodings that RFC 1951 calls
// invalid and Go and zlib refuse (a dynamic block header that declares 287
// or 288 literal/length codes or 31 or 32 distance codes, for one). A
// member so encoded whose CRC-32 and size still check out is read, where
// the sequential reader would fail. What it yields is then the content its
// CRC and the layer's digests vouch for, the same as a valid encoding of
// it would yield: the difference decides whether an out-of-spec encoding
// is read, never what a layer contains.
//
// Memory is bounded: a few members per worker (each at most maxMember
// compressed and BlockSize inflated) are in flight, whatever lengths the
// stream claims. One goroutine reads the source, in order, ahead of the
// caller; Close stops it and waits for it, after which the source is not
// touched any more.
type Reader struct {
	src      *bufio.Reader
	seq      *gzip.Reader // after a fallback, or for a stream that is not a Writer's
	order    chan *member // members in stream order, then one end item
	work     chan *member // members to inflate
	free     chan *member
	stop     chan struct{}
	done     chan struct{} // closed when the splitter has left src
	workers  sync.WaitGroup
	fallback atomic.Bool // a member failed: no more parallel work
	cur      *member
	off      int
	err      error
	closed   bool
	once     sync.Once
}

type memberKind int

const (
	kindMember memberKind = iota // raw is a whole member
	kindEOF                      // src ended cleanly at a member boundary
	kindRest                     // raw (maybe empty), then src: read sequentially
)

type member struct {
	kind memberKind
	raw  []byte // the member's compressed bytes, header to trailer
	out  []byte // inflated
	ok   bool   // out is the member's content, every check passed
	done chan struct{}
}

// ReaderOptions tune a Reader without changing what it reads.
type ReaderOptions struct {
	// Workers inflate members in parallel; 0 means runtime.GOMAXPROCS(0).
	Workers int
}

// NewReader reads the gzip stream in r. Like gzip.NewReader, it reads the
// first member's header and fails if it is not gzip's. If r is not a
// *bufio.Reader it is wrapped in one (which may read past the stream's
// end); a *bufio.Reader smaller than a member header (20 bytes) is read
// sequentially. Close must be called to stop the goroutines.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	z := &Reader{src: br}
	h, _ := br.Peek(headerLen)
	if _, ok := memberLen(h); !ok {
		// Not a Writer's stream: read it the ordinary way.
		seq, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		z.seq = seq
		return z, nil
	}
	n := opts.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	inflight := min(2*n+2, MaxInFlight)
	z.order = make(chan *member, inflight)
	z.work = make(chan *member, inflight)
	z.free = make(chan *member, inflight)
	z.stop = make(chan struct{})
	z.done = make(chan struct{})
	for range inflight {
		z.free <- &member{}
	}
	for range min(n, inflight) {
		z.workers.Add(1)
		go z.inflate()
	}
	go z.split()
	return z, nil
}

// memberLen returns the total length a Writer's member header h claims,
// and whether h is one, with a length within the limits.
func memberLen(h []byte) (int, bool) {
	if len(h) < headerLen || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || h[3] != flagExtra ||
		h[10] != 8 || h[11] != 0 || h[12] != 'D' || h[13] != 'P' || h[14] != 4 || h[15] != 0 {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(h[16:headerLen])
	if n < headerLen+trailerLen || n > maxMember {
		return 0, false
	}
	return int(n), true
}

// split reads src member by member, in order, handing each to the
// workers and to the reader. It ends with one item that is not a member:
// the end of src, or where src stops looking like a Writer's stream.
func (z *Reader) split() {
	defer close(z.done)
	defer close(z.work)
	for {
		select {
		case <-z.stop:
			return
		default:
		}
		m := z.get()
		if m == nil {
			return // closed
		}
		// Both channels hold as many items as there are members: these
		// sends never block.
		if z.fallback.Load() {
			m.kind = kindRest
			z.order <- m
			return
		}
		h, err := z.src.Peek(headerLen)
		if len(h) == 0 && err == io.EOF {
			m.kind = kindEOF
			z.order <- m
			return
		}
		n, ok := memberLen(h)
		if !ok {
			m.kind = kindRest
			z.order <- m
			return
		}
		if cap(m.raw) < n {
			m.raw = make([]byte, n)
		}
		m.raw = m.raw[:n]
		k, err := io.ReadFull(z.src, m.raw)
		if err != nil || binary.LittleEndian.Uint32(m.raw[n-4:]) > maxMemberData {
			// Truncated, a read error, or bigger than a Writer's block:
			// the sequential reader meets the same bytes and error.
			m.raw = m.raw[:k]
			m.kind = kindRest
			z.order <- m
			return
		}
		m.kind = kindMember
		m.done = make(chan struct{})
		z.order <- m
		z.work <- m
	}
}

// get takes a free member, or nil once Close was called.
func (z *Reader) get() *member {
	select {
	case m := <-z.free:
		m.raw, m.out, m.ok, m.done = m.raw[:0], m.out[:0], false, nil
		return m
	case <-z.stop:
		return nil
	}
}

// inflate is a worker: it inflates members and checks them.
func (z *Reader) inflate() {
	defer z.workers.Done()
	d := newDecoder()
	defer d.free()
	for m := range z.work {
		if !z.fallback.Load() {
			m.ok = inflateMember(m, d)
		}
		close(m.done)
	}
}

// inflateMember inflates m.raw's deflate data into m.out and reports
// whether it ends exactly where the trailer starts and matches the
// trailer's CRC-32 and size.
func inflateMember(m *member, d decoder) bool {
	n := len(m.raw)
	crc := binary.LittleEndian.Uint32(m.raw[n-8:])
	size := int(binary.LittleEndian.Uint32(m.raw[n-4:])) // ≤ maxMemberData (split)
	if cap(m.out) < size {
		m.out = make([]byte, size)
	}
	m.out = m.out[:size]
	return d.decode(m.out, m.raw[headerLen:n-trailerLen]) && crc32.ChecksumIEEE(m.out) == crc
}

// Read reads the uncompressed stream.
func (z *Reader) Read(p []byte) (int, error) {
	for {
		switch {
		case z.closed:
			return 0, errClosed
		case z.seq != nil:
			return z.seq.Read(p)
		case z.err != nil:
			return 0, z.err
		case z.cur != nil && z.off < len(z.cur.out):
			k := copy(p, z.cur.out[z.off:])
			z.off += k
			return k, nil
		case z.cur != nil:
			z.free <- z.cur // never blocks: it came from there
			z.cur = nil
		}
		m := <-z.order
		switch {
		case m.kind == kindEOF:
			z.free <- m
			z.err = io.EOF
		case m.kind == kindMember && z.wait(m):
			z.cur, z.off = m, 0
		default:
			// From this member on, the sequential reader decides.
			z.fallback.Store(true)
			seq, err := gzip.NewReader(&rest{z: z, m: m})
			if err != nil {
				z.err = err
			} else {
				z.seq = seq
			}
		}
	}
}

// wait waits until m is inflated and says whether it checked out.
func (z *Reader) wait(m *member) bool {
	<-m.done
	return m.ok
}

// rest reads the compressed bytes from m on: the members in flight, the
// split's last item, then the source.
type rest struct {
	z   *Reader
	m   *member // being read, nil once the source is reached
	off int
}

func (r *rest) Read(p []byte) (int, error) {
	for r.m != nil {
		if r.off < len(r.m.raw) {
			k := copy(p, r.m.raw[r.off:])
			r.off += k
			return k, nil
		}
		last := r.m.kind != kindMember
		if !last {
			<-r.m.done // a worker may still be reading raw
		}
		r.z.free <- r.m
		r.m, r.off = nil, 0
		if last {
			break // the splitter has left src for good
		}
		r.m = <-r.z.order
		if r.m.kind == kindEOF {
			r.z.free <- r.m
			r.m = nil
			return 0, io.EOF
		}
	}
	return r.z.src.Read(p)
}

// Parallel reports whether the stream is being inflated on several
// goroutines (it is a Writer's), ahead of Read: then reading it on yet
// another goroutine gains nothing.
func (z *Reader) Parallel() bool { return z.order != nil }

// Close stops the goroutines and waits until they have left the source.
// It does not close the source.
func (z *Reader) Close() error {
	z.closed = true
	if z.stop == nil {
		return nil
	}
	z.once.Do(func() { close(z.stop) })
	<-z.done
	z.workers.Wait()
	return nil
}
