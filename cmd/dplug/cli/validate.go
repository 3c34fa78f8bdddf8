package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func newValidateCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{Use: "validate", RunE: func(*cobra.Command, []string) error { return errors.New("not yet") }}
}

func newSchemaCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{Use: "schema", RunE: func(*cobra.Command, []string) error { return errors.New("not yet") }}
}
