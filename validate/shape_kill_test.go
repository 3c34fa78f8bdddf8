package validate

import "testing"

// TestSuggest: the "did you mean" field is the first closest one in the
// shape's order, within an edit distance of 2, or a third of the key's
// length for keys longer than 8. Kills shape.go:358's `d < bestD` -> `<=`
// (a tie picks the last field), :363's `l > limit` -> `l <= limit` (short
// keys get a bound below 2, long ones stay at 2) and :366's
// `bestD > limit` -> `>=` (a key exactly at the bound gets no hint).
func TestSuggest(t *testing.T) {
	sh := &shape{kind: kObject, fields: []field{
		{"Ax", scalarShape}, {"Ay", scalarShape}, {"Abxy", scalarShape}, {"Entrypoint", scalarShape},
		{"Propagatedmount", scalarShape},
	}}
	tests := []struct {
		key, want string
	}{
		{"ENTRYPOINT", "Entrypoint"},           // case does not count
		{"az", "Ax"},                           // a tie: the first field
		{"abcd", "Abxy"},                       // distance 2, the bound for a short key
		{"abcdef", ""},                         // distance 4 from Abxy, over the bound of 2
		{"pxxpaxxtedmxunt", "Propagatedmount"}, // 15 bytes: bound 5, distance 5
		{"pxxpaxxtedmxxnt", ""},                // distance 6
	}
	for _, tt := range tests {
		if got := suggest(tt.key, sh); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	if got := suggest("x", &shape{kind: kObject}); got != "" {
		t.Errorf("suggest with no fields = %q, want none", got)
	}
}

// TestStyledKeyCapitalEnds: in a lower camel case object, a name starting
// with either end of A-Z gets its first letter lowered, and one starting
// with anything else is kept. Kills shape.go:255's name[0] >= 'A' -> > 'A'
// and name[0] <= 'Z' -> < 'Z' (gremlins counts them not covered: its
// coverage blocks leave out switch case expressions).
func TestStyledKeyCapitalEnds(t *testing.T) {
	camel := &node{kind: kObject, members: []*node{{rawKey: "description"}, {rawKey: "workDir"}}}
	for _, tt := range []struct{ name, want string }{
		{"Args", "args"},
		{"Zone", "zone"},
		{"Mount", "mount"},
		{"_x", "_x"},
		{"[x", "[x"},
		{"@x", "@x"},
	} {
		if got := styledKey(camel, tt.name); got != tt.want {
			t.Errorf("styledKey(lower camel siblings, %q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
