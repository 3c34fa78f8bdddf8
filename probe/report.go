package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Write prints the report of plugin name to w: in format "json" one object
// with the counts, otherwise a table of the checks and a summary line.
func (r *Report) Write(w io.Writer, format, name string) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(struct {
			Name    string `json:"name"`
			Failed  int    `json:"failed"`
			Warned  int    `json:"warned"`
			Skipped int    `json:"skipped"`
			*Report
		}{name, r.Failed(), r.Warned(), r.Skipped(), r})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Status, c.Kind, c.Method, c.Name, c.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d checks, %d failed, %d warnings, %d skipped\n", len(r.Checks), r.Failed(), r.Warned(), r.Skipped())
	return err
}
