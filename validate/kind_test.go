package validate

import "testing"

func TestParseKind(t *testing.T) {
	for _, k := range []Kind{KindAuto, KindConfig, KindSettings} {
		if got, err := ParseKind(k.String()); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("yaml"); err == nil {
		t.Error(`ParseKind("yaml") succeeded`)
	}
}
