// Package archive extracts untrusted tar streams (plugin rootfs layers) into
// a directory without ever writing outside it.
//
// Extract is the only way dplug unpacks a layer, whatever its source (a
// registry, an OCI layout or a local plugin dir streamed as a tar), so every
// install goes through the same checks:
//
//   - entry names must be relative and free of ".." components;
//   - parent directories are resolved inside the destination with
//     github.com/cyphar/filepath-securejoin, so a previously extracted symlink
//     can never redirect a later entry outside it (within one Extract call
//     resolved directories are remembered, and all forgotten as soon as an
//     entry removes or replaces anything or creates a symlink or hard link);
//   - relative symlinks whose target climbs above the destination are
//     refused; absolute symlink targets are allowed, because inside the
//     plugin's container they resolve within the rootfs (/bin -> /usr/bin is
//     in every image) and Extract itself never follows them outside dst;
//   - hard links must point at an entry already extracted inside dst;
//   - device nodes and FIFOs are refused unless the caller runs as root and
//     passes WithDevices(true);
//   - the number of entries and the total size are bounded (WithMaxEntries,
//     WithMaxBytes), also across several layers sharing a Stats;
//   - overlay/AUFS whiteouts (.wh.NAME, .wh..wh..opq) delete what earlier
//     layers extracted into dst, as in a Docker image.
//
// Modes, modification times and, when running as root, ownership and
// extended attributes are preserved. The stream is read once, never held in
// memory. Small files in directories the extraction created are written by
// a few goroutines while the stream goes on (pool.go says why that keeps
// every check above); metadata goes through the open descriptor, directory
// modes and times are applied at the end.
package archive
