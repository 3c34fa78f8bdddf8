// Package dev is the author's edit loop behind `dplug dev`: Loop watches a
// plugin project and, on start and after every saved change (debounced;
// rootfs/ and VCS directories ignored), runs a list of steps and reports
// one line per iteration with each step's time and the verdict. Loop knows
// nothing of what the steps do; the two sessions that make them are here
// too:
//
//   - Local (Linux, root): build → install in the store → run under
//     libcontainer, kept running between iterations with its output
//     streamed → `dplug test`'s probes.
//   - Docker (any OS): build → load and enable in a Docker Engine → probes
//     on the engine's own socket to the plugin when this process can dial
//     it, else a use through the engine's API.
//
// Each has a Close that cleans up what it started (Ctrl-C).
package dev
