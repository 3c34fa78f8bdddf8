// Package treestamp fingerprints a directory tree by its inode stamps,
// without reading file contents: for every entry its path, type and mode
// bits, size, modification time, inode change time (ctime), owner, inode
// number, link count, device and device number, and a symlink's target.
//
// What makes a stamp enough to notice a change is ctime: the kernel sets
// it to the current time on every change to an inode — a write, truncate,
// chmod, chown, xattr change, rename, link — and user space cannot set it
// back (touch and utimes restore mtime, never ctime). So a write that keeps
// the size and restores the mtime still changes the stamp. Two changes
// within one tick of the file system's clock leave the same ctime, so a
// caller must not trust a tree with an entry changed near the time of its
// walk: Stamp.Newest tells when that was, and each caller closes the race
// its own way (pack's layer cache with a time window, build's reuse with a
// probe file's ctime).
//
// Stamps exist on Linux only (where plugins run); elsewhere Walk fails
// with ErrNoStamp and callers do without a fingerprint.
//
// The package is a leaf: pack (the layer cache) and build (reusing the last
// build's rootfs) both use it, and build may not import pack.
package treestamp
