package harness

import (
	"fmt"
	"strings"
)

// Info is what a client needs to reach a started plugin (dplug run
// --output json prints it).
type Info struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Socket string `json:"socket"`
	Pid    int    `json:"pid"`
	Log    string `json:"log"`
}

// Info describes the session: the plugin, its socket, pid and log file.
func (s *Session) Info() Info {
	return Info{s.Plugin.ID, s.Plugin.Name, s.Socket(), s.Pid(), s.LogPath()}
}

// MissingWarning says which declared interface types the plugin's
// /Plugin.Activate answer lacks, or is "" when none is missing.
func (s *Session) MissingWarning() string {
	if len(s.Missing) == 0 {
		return ""
	}
	return fmt.Sprintf("%s declares %s but its /Plugin.Activate answer implements %v: missing %s",
		s.Plugin.Name, strings.Join(s.Plugin.Config.Interface.Types, ", "), s.Implements, strings.Join(s.Missing, ", "))
}
