package differential

import (
	"strings"
	"testing"

	"github.com/dplug/dplug/validate"
)

// TestTableMatchesValidate: what validate says to a consumer (the config
// with the case's install-time settings) is an error of the case's rule
// exactly when dockerd refuses the case (SPEC §3: class (a)).
func TestTableMatchesValidate(t *testing.T) {
	for _, c := range Cases() {
		if c.Rule == "" || c.ConfigDir {
			continue // the baseline; a directory (DP006) is a file-walk matter
		}
		t.Run(c.Name(), func(t *testing.T) {
			var sets []string
			for _, s := range c.Set {
				sets = append(sets, strings.ReplaceAll(s, ProbeDir, "/tmp"))
			}
			diags := validate.Bytes("config.json", []byte(c.Config), validate.ForConsumer(), validate.WithSettings(sets...))
			isErr := false
			for _, d := range diags {
				if d.Rule == c.Rule && d.Severity == validate.Error {
					isErr = true
				}
			}
			if isErr != c.Want.Refused() {
				t.Errorf("validate (consumer) reports %s as an error: %v; dockerd: %s (%s)\n%v", c.Rule, isErr, c.Want, c.Why, diags)
			}
		})
	}
}
