// Package pack turns a plugin directory (config.json + rootfs/) into the
// registry artifact that `docker plugin push` produces, and moves that
// artifact to and from registries and OCI image layouts.
//
// The artifact is byte-compatible with what dockerd writes and reads: a
// Docker schema-2 manifest, a config blob of media type
// application/vnd.docker.plugin.v1+json (the plugin config serialised like
// dockerd, with rootfs.diff_ids set to the uncompressed layer digest, which
// every engine version accepts) and one gzip rootfs layer. Layers are
// reproducible (sorted entries, normalised times and owners) and streamed:
// the compressed layer is spooled to an unlinked temporary file, never held
// in memory.
//
// Registry access requests the token scope dockerd uses,
// repository(plugin):NAME:pull[,push], so registries that gate plugins by
// resource class (Docker Hub) grant it.
package pack
