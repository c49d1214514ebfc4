package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/spec"
)

type validateOptions struct {
	output string // text, json or github
}

func newValidateCommand() *cobra.Command {
	var o validateOptions
	cmd := &cobra.Command{
		Use:   "validate [DIR|FILE]",
		Short: "Check desired-state specs; print every problem with file:line:column",
		Long: `Read every *.yaml and *.yml file under DIR (default: the current folder; hidden
folders are skipped), apply each folder's kind: Defaults, and check everything
against the spec schema and felhom's rules. Every problem is printed at once,
as file:line:column, with the offending value and a hint.

Given a FILE, check that file alone with the Defaults of its folder (as
"felhom validate" on its folder would see it, without the checks across files
such as duplicate vmids).

--output github writes each problem as a GitHub Actions workflow command
(::error file=...,line=...,col=...::message), which GitHub, Gitea and Forgejo
Actions show on the pull request's diff; examples/ci has workflows.

Exits 0 when the specs are valid (warnings allowed), 3 when they are not, and
1 when the path does not exist.`,
		Example: `  felhom validate examples/
  felhom validate examples/containers/web.yaml
  felhom validate --output json containers/
  felhom validate --output github containers/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runValidate(cmd.OutOrStdout(), o, dir)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text, json or github (workflow-command annotations)")
	return cmd
}

// validateReport is the --output json document.
type validateReport struct {
	Valid       bool              `json:"valid"`
	Containers  int               `json:"containers"`
	Errors      int               `json:"errors"`
	Warnings    int               `json:"warnings"`
	Diagnostics []spec.Diagnostic `json:"diagnostics"`
	Summary     []validateSummary `json:"summary,omitempty"`
}

// validateSummary is one container of a valid set, for --output json.
type validateSummary struct {
	Name string `json:"name"`
	Node string `json:"node"`
	VMID int    `json:"vmid"`
	File string `json:"file"`
}

// runValidate validates the folder or file at dir. A path that does not
// exist is an error (exit 1); invalid specs exit 3.
func runValidate(out io.Writer, o validateOptions, dir string) error {
	if o.output != "text" && o.output != "json" && o.output != "github" {
		return fmt.Errorf("validate: --output %q: must be text, json or github", o.output)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	var set *spec.Set
	var diags spec.Diagnostics
	if info.IsDir() {
		set, diags = loadSpecs(dir)
	} else {
		set, diags = loadSpecFile(dir)
	}
	rep := validateReport{Valid: !diags.HasErrors(), Containers: len(set.Containers), Diagnostics: diags}
	if rep.Diagnostics == nil {
		rep.Diagnostics = []spec.Diagnostic{}
	}
	for _, d := range diags {
		if d.Severity == spec.SeverityWarning {
			rep.Warnings++
		} else {
			rep.Errors++
		}
	}
	for _, c := range set.Containers {
		rep.Summary = append(rep.Summary, validateSummary{Name: c.Metadata.Name, Node: c.Spec.Node, VMID: c.Spec.VMID,
			File: c.Source.File})
	}

	switch o.output {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	case "github":
		if err := writeValidateGithub(out, rep); err != nil {
			return err
		}
	default:
		if err := writeValidateText(out, rep); err != nil {
			return err
		}
	}
	if !rep.Valid {
		return withExit(exitInvalid, nil)
	}
	return nil
}

// loadSpecs loads the specs under dir. A folder below the current one is
// read through os.DirFS(".") so that every file name in the diagnostics,
// messages and hints included, is the path the user can open; any other
// folder is read on its own and its path put in front of the file names.
func loadSpecs(dir string) (*spec.Set, spec.Diagnostics) {
	clean := filepath.Clean(dir)
	if filepath.IsLocal(clean) || clean == "." {
		return spec.Load(os.DirFS("."), filepath.ToSlash(clean))
	}
	set, diags := spec.Load(os.DirFS(clean), ".")
	return underDir(clean, set, diags)
}

// loadSpecFile loads one spec file as loadSpecs(its folder) sees it: the
// Defaults of its folder apply, and only its own containers and problems are
// reported (clashes with other files' vmids and names are not checked).
func loadSpecFile(file string) (*spec.Set, spec.Diagnostics) {
	clean := filepath.Clean(file)
	if filepath.IsLocal(clean) {
		slash := filepath.ToSlash(clean)
		return spec.LoadFile(os.DirFS("."), path.Dir(slash), slash)
	}
	dir := filepath.Dir(clean)
	set, diags := spec.LoadFile(os.DirFS(dir), ".", filepath.Base(clean))
	return underDir(dir, set, diags)
}

// underDir puts dir in front of the file names of specs loaded from
// os.DirFS(dir), so that they name files the user can open.
func underDir(dir string, set *spec.Set, diags spec.Diagnostics) (*spec.Set, spec.Diagnostics) {
	for i := range diags {
		diags[i].File = filepath.Join(dir, filepath.FromSlash(diags[i].File))
	}
	for _, c := range set.Containers {
		c.Source.File = filepath.Join(dir, filepath.FromSlash(c.Source.File))
	}
	return set, diags
}

func writeValidateText(out io.Writer, rep validateReport) error {
	var b strings.Builder
	for _, d := range rep.Diagnostics {
		// spec.Diagnostic.String renders "file:line:col: severity: message";
		// the hint goes on a line of its own here.
		hint := d.Hint
		d.Hint = ""
		b.WriteString(d.String() + "\n")
		if hint != "" {
			fmt.Fprintf(&b, "    hint: %s\n", hint)
		}
	}
	switch {
	case !rep.Valid:
		fmt.Fprintf(&b, "invalid: %s, %s\n", plural(rep.Errors, "error"), plural(rep.Warnings, "warning"))
	default:
		fmt.Fprintf(&b, "valid: %s", plural(rep.Containers, "container"))
		if rep.Warnings > 0 {
			fmt.Fprintf(&b, ", %s", plural(rep.Warnings, "warning"))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(out, b.String())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
