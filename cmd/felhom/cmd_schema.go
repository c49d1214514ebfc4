package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/schemas"
)

// newSchemaCommand prints the JSON Schema of spec files, the very one felhom
// validates with, or writes it where a spec's yaml-language-server $schema
// line points.
func newSchemaCommand() *cobra.Command {
	var write string
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of spec files (for editors), or write it with --write PATH",
		Long: "Prints the JSON Schema felhom validates spec files with (its $id is " + schemas.ContainerSchemaID + ").\n" +
			"With --write PATH it writes it there instead, so that a spec's first line\n" +
			"  # yaml-language-server: $schema=RELATIVE/PATH/container.schema.json\n" +
			"points at the schema of the felhom you run. Run it again after upgrading felhom.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if write == "" {
				_, err := cmd.OutOrStdout().Write(schemas.Container)
				return err
			}
			if dir := filepath.Dir(write); dir != "." {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			if err := os.WriteFile(write, schemas.Container, 0o644); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", write)
			return err
		},
	}
	cmd.Flags().StringVar(&write, "write", "", "write the schema to this file instead of printing it")
	return cmd
}
