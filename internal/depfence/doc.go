// Package depfence holds the one test that fences dplug's packages: which
// package may not import what (BuildKit, libcontainer, cobra, ...), on Linux
// and off it. It has no code; ARCHITECTURE.md describes the same fences.
package depfence
