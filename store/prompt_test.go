package store

import (
	"errors"
	"strings"
	"testing"
)

func TestPrompt(t *testing.T) {
	privs := []Privilege{{Name: "network", Value: []string{"host"}}, {Name: "capabilities", Value: []string{"CAP_SYS_ADMIN"}}}
	var out strings.Builder
	if err := Prompt(strings.NewReader(""), &out, "p", nil); err != nil || out.Len() != 0 {
		t.Errorf("nothing to grant: %v, printed %q", err, out.String())
	}
	err := Prompt(strings.NewReader("y\n"), &out, "p", privs)
	if !errors.Is(err, ErrNotGranted) || !strings.Contains(err.Error(), `plugin "p" requests privileges (network, capabilities) and there is no terminal to ask`) || out.Len() != 0 {
		t.Errorf("no terminal: %v, printed %q", err, out.String())
	}
}

func TestAsk(t *testing.T) {
	const question = "Plugin \"p\" is requesting the following privileges:\n - network: [host]\nDo you grant the above permissions? [y/N] "
	for _, tt := range []struct {
		answer  string
		granted bool
	}{
		{"y\n", true},
		{" YES \n", true},
		{"yes", true}, // no newline before EOF
		{"n\n", false},
		{"\n", false},
		{"", false},
		{"yep\n", false},
	} {
		var out strings.Builder
		err := ask(strings.NewReader(tt.answer), &out, "p", []Privilege{{Name: "network", Value: []string{"host"}}})
		if out.String() != question {
			t.Errorf("answer %q: asked %q, want %q", tt.answer, out.String(), question)
		}
		if tt.granted && err != nil || !tt.granted && !errors.Is(err, ErrNotGranted) {
			t.Errorf("answer %q: %v, want granted %v", tt.answer, err, tt.granted)
		}
	}
}
