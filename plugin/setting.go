package plugin

import "strings"

// ParseSetting splits a `docker plugin set` argument, NAME[.FIELD][=VALUE],
// exactly as dockerd does: the field is what follows the last '.' of the
// part before '=' (unless that '.' is its first byte). ok is false for a
// malformed argument ("=VALUE"), which dockerd refuses with "invalid
// format". validate (install-time settings) and store (dplug set) both
// parse with it, so they cannot disagree on what a setting names.
func ParseSetting(arg string) (name, field, value string, ok bool) {
	i := strings.IndexByte(arg, '=')
	switch {
	case i == 0:
		return "", "", "", false
	case i < 0:
		name = arg
	default:
		name, value = arg[:i], arg[i+1:]
	}
	if j := strings.LastIndexByte(name, '.'); j > 0 {
		name, field = name[:j], name[j+1:]
	}
	return name, field, value, true
}
