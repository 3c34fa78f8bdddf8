package cli

import (
	"fmt"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/pack"
)

// destProgress shows the bytes a destination moves on p (dest.Progress:
// each step's bytes as pack's progress).
type destProgress struct{ p *output.Progress }

func (d destProgress) Start(string) dest.Step { return d }

func (d destProgress) Update(phase string, done, total int64) {
	d.p.Update(pack.Progress{Phase: phase, Complete: done, Total: total})
}

func (d destProgress) Done(string, error) {}

// printResult prints a command's result on stdout: v as indented JSON with
// --output json, else text.
func printResult(g *globalOptions, v any, text string) error {
	if g.outputJSON() {
		return output.JSON(g.stdout, v)
	}
	fmt.Fprintln(g.stdout, text)
	return nil
}
