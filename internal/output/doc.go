// Package output is how dplug's commands present results: --format Go
// templates (with docker's JSON-key fallback), indented JSON, byte sizes,
// the progress line pack's transfers show on stderr, and the one-line log
// handler dplug logs with. It knows nothing of
// cobra or of any command; the CLI picks what to print and where.
package output
