package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
)

// TestE2EBackup runs felhom backup on the examples: --due backs up every
// container (the simulator's backups are older than their schedules
// allow), a second --due takes none and says when the next is, --now takes
// the named ones, and a failing vzdump exits 1 with its log.
func TestE2EBackup(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := filepath.Join(repoRoot, "examples", "containers")
	out := e.expect(0, ".", "backup", dir, "--due")
	for _, want := range []string{"ct 101 (web) on pve1: backed up to nas:backup/vzdump-lxc-101-", "ct 201 (db) on pve2: backed up to", "4 backed up, 0 failed, in 3 vzdump call(s)."} {
		if !strings.Contains(out, want) {
			t.Errorf("first --due: no %q in\n%s", want, out)
		}
	}
	out = e.expect(0, ".", "backup", dir, "--due")
	if !strings.Contains(out, "No backup is due.\nNext: ct 201 (db) at ") || !strings.Contains(out, " node time (Europe/Budapest), ") {
		t.Errorf("second --due:\n%s", out)
	}
	out = e.expect(0, ".", "backup", dir, "--now", "web", "201")
	if !strings.Contains(out, "2 backed up, 0 failed, in 2 vzdump call(s).") {
		t.Errorf("--now web 201:\n%s", out)
	}
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdump", Fail: "storage 'nas' is not online", Count: 1})
	out, errOut, code := e.run(".", "backup", dir, "--now", "103")
	if code != exitError || !strings.Contains(out, "ct 103 (dns) on pve1: backup to nas FAILED: vzdump task: storage 'nas' is not online") ||
		!strings.Contains(out, "    TASK ERROR: storage 'nas' is not online") || !strings.Contains(errOut, "backup: 1 of 1 backup(s) failed") {
		t.Errorf("failing vzdump: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, args := range [][]string{{"backup", dir}, {"backup", dir, "--due", "--now", "web"}, {"backup", dir, "--now", "nosuch"}} {
		if _, errOut, code := e.run(".", args...); code != exitInvalid {
			t.Errorf("felhom %v: exit %d, want 3\n%s", args, code, errOut)
		}
	}
}
