// Package dev is the author's edit loop behind `dplug dev`: it watches a
// plugin project and, on start and after every saved change (debounced;
// rootfs/ and VCS directories ignored), runs a fixed list of steps — build,
// install or load, test — and reports one line per iteration with each
// step's time and the verdict. The steps are the caller's: this package
// knows nothing of BuildKit, stores or engines.
package dev
