package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestManPages: felhom man writes one page per command of the tree, each
// naming the command's own flags and the global ones.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runFelhom(t, "man", "--dir", dir); code != exitOK {
		t.Fatalf("felhom man: exit %d\n%s", code, errOut)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.Name() != "felhom" {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		page, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("no man page for %q: %v", c.CommandPath(), err)
			return
		}
		if strings.Contains(string(page), `\fI`) {
			t.Errorf("%s has italics: a help text was read as Markdown emphasis", name)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(string(page), "--"+f.Name) {
				t.Errorf("%s does not name --%s", name, f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
	plan, _ := os.ReadFile(filepath.Join(dir, "felhom-plan.1"))
	for _, global := range []string{"--log-format", "--log-level", "--no-color", "--config", "FELHOM_PVE_*", "$FELHOM_CONFIG"} {
		if !strings.Contains(string(plan), global) {
			t.Errorf("felhom-plan.1 lacks the global option %s", global)
		}
	}
	if _, _, code := runFelhom(t, "man"); code != exitInvalid {
		t.Errorf("felhom man without --dir: exit %d, want %d", code, exitInvalid)
	}
}

// TestCompletion: the shells' completion scripts come from the same tree
// and complete felhom's own commands.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := runFelhom(t, "completion", shell)
		if code != exitOK || !strings.Contains(out, "felhom") {
			t.Errorf("completion %s: exit %d\n%s", shell, code, errOut)
		}
	}
	// What the scripts ask the binary at a TAB: the commands after "felhom p".
	out, _, _ := runFelhom(t, "__complete", "p")
	if !strings.Contains(out, "plan\t") {
		t.Errorf("completing 'felhom p' lacks plan:\n%s", out)
	}
}
