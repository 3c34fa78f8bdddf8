// Package dest delivers a plugin to where it goes: a plugin directory
// (Dir), an OCI layout (OCILayout), a registry (Registry), the local store
// (Store), a running Docker Engine (Engine), or several of them (All).
// What is delivered is a *source.Source, any kind of it: a plugin dir, an
// OCI layout or registry artifact, an installed plugin (source.Open), or a
// dir a build staged (Staged), which a destination may move instead of
// copying. build, push, pull, install, export and load all deliver
// through it (ko's build/publish split), so that each destination's
// behaviour — atomic replacement, what it checks, the result it prints —
// exists once.
//
// Progress is a wrapper, not a concern of each destination: WithProgress
// reports each leaf destination's delivery as one step of the caller's
// display, with the bytes it packs, pushes or unpacks.
//
// This package never imports BuildKit or libcontainer (internal/depfence).
package dest
