package store

import (
	"strings"
	"testing"

	"github.com/dplug/dplug/plugin"
)

func TestFilter(t *testing.T) {
	vol := &Plugin{Enabled: true, Config: plugin.Config{Interface: plugin.Interface{Types: []string{"docker.volumedriver/1.0"}}}}
	net := &Plugin{Config: plugin.Config{Interface: plugin.Interface{Types: []string{"docker.networkdriver/1.0"}}}}
	for _, tt := range []struct {
		filters  []string
		vol, net bool
	}{
		{nil, true, true},
		{[]string{"enabled=true"}, true, false},
		{[]string{"enabled=false"}, false, true},
		{[]string{"enabled=true", "enabled=false"}, true, true},
		{[]string{"capability=volumedriver"}, true, false},
		{[]string{"capability=volumedriver", "capability=networkdriver"}, true, true},
		{[]string{"capability=networkdriver", "enabled=true"}, false, false},
	} {
		keep, err := Filter(tt.filters)
		if err != nil {
			t.Fatalf("Filter(%q): %v", tt.filters, err)
		}
		if keep(vol) != tt.vol || keep(net) != tt.net {
			t.Errorf("Filter(%q) keeps volume %t, network %t; want %t, %t", tt.filters, keep(vol), keep(net), tt.vol, tt.net)
		}
	}
	for _, f := range []string{"enabled=yes", "name=x", "enabled"} {
		if _, err := Filter([]string{f}); err == nil {
			t.Errorf("Filter(%q) succeeded", f)
		}
	}
}

func TestInspectEmptyLists(t *testing.T) {
	v := (&Plugin{ID: "abc", Name: "me/p", Tag: "1"}).Inspect()
	if v.Name != "me/p:1" || v.Settings.Env == nil || v.Settings.Args == nil || v.Settings.Mounts == nil || v.Settings.Devices == nil {
		t.Errorf("Inspect() = %+v, want the full name and empty, not nil, settings lists", v)
	}
}

func TestRow(t *testing.T) {
	p := &Plugin{ID: strings.Repeat("ab", 32), Name: "vol", Tag: "latest", Enabled: true, PluginReference: "r/vol:latest"}
	p.Config.Description = "a volume"
	if got, want := p.Row(false), (Row{p.ShortID(), "vol:latest", "a volume", true, "r/vol:latest"}); got != want {
		t.Errorf("Row(false) = %+v; want %+v", got, want)
	}
	if got := p.Row(true); got.ID != p.ID {
		t.Errorf("Row(true).ID = %s", got.ID)
	}
}
