// Package cli is dplug's command line: one constructor per cobra command,
// flags bound into typed option structs, and RunE functions that only parse,
// call a library package (validate, pack, build, store, run) and print.
// Nothing outside this package imports cobra.
package cli
