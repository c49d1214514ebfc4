package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCommand writes a man page per command, generated from the same
// command tree the binary runs, so the pages cannot disagree with --help.
func newManCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "man --dir DIR",
		Short: "Write man pages (section 1) for felhom and each of its commands into DIR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return withExit(exitInvalid, fmt.Errorf("man: --dir is required"))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			literalMarkdown(root)
			header := &doc.GenManHeader{Title: "FELHOM", Section: "1", Source: "felhom"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "man pages written to %s\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder to write felhom.1, felhom-plan.1, ... into")
	return cmd
}

// markdownLiteral escapes what cobra/doc's Markdown pass would read as
// emphasis: felhom's help texts are plain text, and FELHOM_PVE_URL must not
// come out as FELHOM in italics.
var markdownLiteral = strings.NewReplacer("_", `\_`, "*", `\*`)

// literalMarkdown escapes every long help text of the tree for the man
// pages (flag usages are not read as Markdown). It
// changes the tree, which felhom man is the last user of.
func literalMarkdown(c *cobra.Command) {
	c.Long = markdownLiteral.Replace(c.Long)
	for _, sub := range c.Commands() {
		literalMarkdown(sub)
	}
}
