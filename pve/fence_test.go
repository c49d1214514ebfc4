package pve

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFenceNoProcesses enforces DESIGN.md's fence: pve never runs a
// process. No package under pve/ (tests aside) may import os/exec, directly
// or through any dependency.
func TestFenceNoProcesses(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/felhom/felhom/pve/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	seenPVE := false
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg := fields[0]
		seenPVE = seenPVE || pkg == "github.com/felhom/felhom/pve"
		for _, imp := range fields[1:] {
			if imp == "os/exec" {
				t.Errorf("%s imports os/exec (reached from pve/...)", pkg)
			}
		}
	}
	if !seenPVE || len(lines) < 10 {
		t.Fatalf("go list listed %d packages without pve itself; the check proves nothing:\n%s", len(lines), out)
	}
}
