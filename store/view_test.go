package store

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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

func TestRowsWriteTable(t *testing.T) {
	long := strings.Repeat("d", 50)
	rows := Rows{{ID: "abc", Name: "vol:latest", Description: "a volume", Enabled: true}, {ID: "def", Name: "net:1", Description: long}}
	for _, tt := range []struct {
		noTrunc bool
		want    string
	}{
		{false, "ID        NAME         DESCRIPTION                                     ENABLED\n" +
			"abc       vol:latest   a volume                                        true\n" +
			"def       net:1        " + strings.Repeat("d", 44) + "…   false\n"},
		{true, "ID        NAME         DESCRIPTION                                          ENABLED\n" +
			"abc       vol:latest   a volume                                             true\n" +
			"def       net:1        " + long + "   false\n"},
	} {
		var b strings.Builder
		if err := rows.WriteTable(&b, tt.noTrunc); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, b.String()); diff != "" {
			t.Errorf("WriteTable(noTrunc %t) (-want +got):\n%s", tt.noTrunc, diff)
		}
	}
}

func TestStoreRows(t *testing.T) {
	s, _ := openStore(t)
	if rows, err := s.Rows(nil, false); err != nil || rows == nil || len(rows) != 0 {
		t.Fatalf("Rows of an empty store = %#v, %v; want empty, not nil", rows, err)
	}
	b := install(t, s, "b")
	install(t, s, "a", func(o *InstallOptions) { o.Disabled = true })
	enabled, err := Filter([]string{"enabled=true"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		keep   func(*Plugin) bool
		fullID bool
		want   []string
	}{
		{nil, false, []string{"a:latest", "b:latest"}},
		{enabled, true, []string{"b:latest"}},
	} {
		rows, err := s.Rows(tt.keep, tt.fullID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rows {
			names = append(names, r.Name)
		}
		if diff := cmp.Diff(tt.want, names); diff != "" {
			t.Errorf("Rows names (-want +got):\n%s", diff)
		}
		if tt.fullID && rows[0].ID != b.ID {
			t.Errorf("Rows(fullID).ID = %s, want %s", rows[0].ID, b.ID)
		}
	}
}
