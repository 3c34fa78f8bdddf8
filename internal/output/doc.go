// Package output is how dplug's commands present results: --format Go
// templates (with docker's JSON-key fallback), indented JSON, byte sizes,
// and the progress line pack's transfers show on stderr. It knows nothing of
// cobra or of any command; the CLI picks what to print and where.
package output
