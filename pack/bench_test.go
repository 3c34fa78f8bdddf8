package pack

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/dplug/dplug/internal/blockgz"
	"github.com/dplug/dplug/internal/testplugin"
)

// fillRootfs writes a plugin dir at dir whose rootfs holds files
// totalling about size bytes: half random (incompressible), half
// text-like, like a real plugin's binaries and data.
func fillRootfs(tb testing.TB, dir string, size int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"plugin ", "volume ", "docker ", "mount ", "socket ", "config ", "\n", "rootfs "}
	const fileSize = 1 << 20
	buf := make([]byte, fileSize)
	files := map[string]testplugin.File{}
	for i := 0; i*fileSize < size; i++ {
		if i%2 == 0 {
			for j := range buf {
				buf[j] = byte(rng.Uint32())
			}
		} else {
			n := 0
			for n < len(buf) {
				n += copy(buf[n:], words[rng.IntN(len(words))])
			}
		}
		files["d"+strconv.Itoa(i%16)+"/f"+strconv.Itoa(i)] = testplugin.File{Body: string(buf)}
	}
	if err := testplugin.WriteTo(dir, nil, files); err != nil {
		tb.Fatal(err)
	}
}

// TestImageStreams checks that packing never holds the layer in memory:
// the bytes allocated while packing 64 MiB stay far below 64 MiB.
func TestImageStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("packs 64 MiB")
	}
	const size = 64 << 20
	dir := t.TempDir()
	fillRootfs(t, dir, size)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	img, err := Image(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer img.(io.Closer).Close()
	runtime.ReadMemStats(&after)
	// Parallel compression keeps up to blockgz.MaxInFlight blocks of
	// buffers (input and output, reused): allowed on top.
	if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(size/4+2*blockgz.MaxInFlight*blockgz.BlockSize); alloc > limit {
		t.Errorf("packing %d MiB allocated %d MiB; want streaming (< %d MiB)", size>>20, alloc>>20, limit>>20)
	}
	// Reading the layer back streams too.
	l, _ := img.Layers()
	runtime.ReadMemStats(&before)
	rc, err := l[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(n)/4 {
		t.Errorf("reading the %d MiB layer allocated %d MiB; want streaming", n>>20, alloc>>20)
	}
}

// BenchmarkImage measures packing throughput (tar + gzip + digests + spool)
// at the default level; compare with `tar | gzip -6` (bench/push.sh).
func BenchmarkImage(b *testing.B) {
	const size = 32 << 20
	dir := b.TempDir()
	fillRootfs(b, dir, size)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		img, err := Image(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		img.(io.Closer).Close()
	}
}

// BenchmarkPush measures pack + push to the in-memory registry.
func BenchmarkPush(b *testing.B) {
	const size = 32 << 20
	dir := b.TempDir()
	fillRootfs(b, dir, size)
	b.SetBytes(size)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		host := newRegistry(b, nil)
		img, err := Image(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Push(ctx, img, host+"/bench/p:"+strconv.Itoa(i), anon); err != nil {
			b.Fatal(err)
		}
		img.(io.Closer).Close()
	}
}
