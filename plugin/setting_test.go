package plugin

import "testing"

func TestParseSetting(t *testing.T) {
	for _, tc := range []struct {
		arg                string
		name, field, value string
		ok                 bool
	}{
		{"DEBUG=1", "DEBUG", "", "1", true},
		{"data.source=/srv", "data", "source", "/srv", true},
		{"a.b.c=x=y", "a.b", "c", "x=y", true},
		{".hidden=1", ".hidden", "", "1", true},
		{"NAME", "NAME", "", "", true},
		{"=1", "", "", "", false},
	} {
		name, field, value, ok := ParseSetting(tc.arg)
		if name != tc.name || field != tc.field || value != tc.value || ok != tc.ok {
			t.Errorf("ParseSetting(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", tc.arg, name, field, value, ok, tc.name, tc.field, tc.value, tc.ok)
		}
	}
}
