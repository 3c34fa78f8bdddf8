// Package dest delivers a complete plugin directory (config.json + rootfs/)
// to where it goes: a plugin directory, an OCI layout, a registry, the local
// store, or several of them (All). build stages a plugin and hands it to a
// Dest; push, install and export are meant to deliver through the same
// destinations (issue 14: ko's build/publish split), so that each
// destination's behaviour — atomic replacement, progress, the result it
// prints — exists once.
//
// Progress is a wrapper, not a concern of each destination: WithProgress
// reports any Dest's delivery as one step of the caller's display.
//
// This package never imports BuildKit or libcontainer (internal/depfence).
package dest
