// Package pack turns a plugin directory (config.json + rootfs/) into the
// registry artifact that `docker plugin push` produces, and moves that
// artifact to and from registries and OCI image layouts.
//
// The artifact is byte-compatible with what dockerd writes and reads: a
// Docker schema-2 manifest (dockerd's field order), a config blob of media
// type application/vnd.docker.plugin.v1+json (the plugin config serialised
// exactly like dockerd, with rootfs.diff_ids set to the uncompressed layer
// digest, which every engine version accepts) and one gzip rootfs layer.
// Layers are reproducible (sorted entries, normalised times and owners) and
// streamed: the compressed layer is spooled to an unlinked temporary file,
// never held in memory. Compression runs on every core (internal/blockgz:
// fixed 1 MiB blocks, each its own gzip member, so the bytes do not depend
// on the core count), and so does decompression of such a layer on pull. WithCache keeps the digests of packed layers keyed by a
// fingerprint of the rootfs tree, so an unchanged plugin is not packed
// again (cache.go explains why the fingerprint, which includes inode
// change times, cannot miss a write); a tree written again with the same
// content (new inodes, e.g. an unchanged build's export) is recognised by
// hashing its uncompressed tar, never by its timestamps alone. Reading a
// layer, download and digest run on a goroutine of their own and
// decompression on every core (dplug's layers; other gzip on one more
// goroutine), ahead of the extraction.
//
// Writing:
//
//	img, err := pack.Image(ctx, dir)             // validate + pack (or ImageFromRootfs)
//	digest, err := pack.Push(ctx, img, ref)      // to a registry
//	err = pack.WriteLayout(path, img)            // or to an OCI layout
//	res, err := pack.PushPlatforms(ctx, ref, imgs, pack.WithIndex(true)) // TAG-ARCH tags
//
// Reading (a *Plugin satisfies the store's Source interface):
//
//	p, err := pack.Fetch(ctx, ref)               // or pack.ReadLayout(path)
//	err = pack.Unpack(ctx, p, dir)               // or pack.Pull(ctx, ref, dir)
//
// Registry access requests the token scope dockerd uses,
// repository(plugin):NAME:pull[,push], so registries that gate plugins by
// resource class (Docker Hub) grant it; credentials come from
// authn.DefaultKeychain; 5xx answers and lost connections are retried with
// backoff; blobs the registry has are skipped, and WithMountFrom mounts them
// from another repository. No registry can make pack wait forever: every
// request (registry, token server, blobs) has dial, TLS-handshake and idle
// bounds (WithTimeout), at most 10 redirects, and blobs are read up to the
// size the manifest declares, which must be positive. Timeouts, digest
// mismatches and damaged blobs are not retried. Errors wrap sentinels
// (ErrNotFound, ErrUnauthorized, ErrNotPlugin, ErrDigestMismatch,
// ErrTimeout, ErrDamaged, ...) and name the reference and what to do.
package pack
