package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestE2EGlobalLogFlags: --log-format and --log-level are global: apply's
// progress log follows them as the daemon's does, and a value felhom does not
// know is refused before anything runs (exit 3).
func TestE2EGlobalLogFlags(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 2G\n")

	_, errOut, code := e.run(repoRoot, "apply", "--auto-approve", "--log-format", "json", dir)
	if code != exitOK {
		t.Fatalf("apply --log-format json: exit %d\n%s", code, errOut)
	}
	tasks := 0
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %q", line)
		}
		if rec["msg"] == "apply: task" {
			tasks++
		}
	}
	if tasks == 0 {
		t.Errorf("no apply: task record in the JSON log:\n%s", errOut)
	}

	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 3G\n")
	_, errOut, code = e.run(repoRoot, "apply", "--auto-approve", "--log-level", "error", dir)
	if code != exitOK || strings.Contains(errOut, "apply: task") {
		t.Errorf("apply --log-level error: exit %d, stderr:\n%s", code, errOut)
	}

	for _, args := range [][]string{
		{"validate", "--log-format", "xml", dir},
		{"plan", "--log-level", "loud", dir},
	} {
		_, errOut, code := e.run(repoRoot, args...)
		if code != exitInvalid || !strings.Contains(errOut, args[1]) {
			t.Errorf("felhom %s: exit %d, want %d naming %s:\n%s", strings.Join(args, " "), code, exitInvalid, args[1], errOut)
		}
	}
}
