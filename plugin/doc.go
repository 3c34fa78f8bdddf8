// Package plugin holds the Go form of a Docker Engine managed (v2) plugin's
// config.json and plugin settings, field for field as moby's
// api/types.PluginConfig, so that what dplug reads, stores and pushes
// serialises byte for byte the way dockerd does.
//
// The package has no dependencies beyond the standard library: every other
// dplug package (validate, pack, store, run, build) shares these types.
package plugin
