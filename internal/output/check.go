package output

import "fmt"

// CheckOutput checks an --output value: text and json are for every
// command, sarif only where sarif is true (dplug validate).
func CheckOutput(value string, sarif bool) error {
	switch value {
	case "text", "json":
		return nil
	case "sarif":
		if sarif {
			return nil
		}
		return fmt.Errorf("--output sarif is for dplug validate only: use text or json")
	}
	return fmt.Errorf("unknown --output %q: use text or json", value)
}
