//go:build !(cgo && libdeflate)

package blockgz

// Decoder names the implementation that inflates a Writer's members in
// parallel (dplug --debug install logs it).
const Decoder = "go (klauspost/compress/flate)"

func newDecoder() decoder { return &goDecoder{} }
