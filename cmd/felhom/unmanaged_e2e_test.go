package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// plan lists the containers no spec names; --unmanaged chooses whether it
// reports them (default), ignores them, or fails (exit 2, 1 winning for a
// container in error), and apply never touches them.
func TestE2EPlanUnmanaged(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 2G\n")
	out := e.expect(exitOK, repoRoot, "plan", dir)
	for _, want := range []string{"Unmanaged:", "ct 102 media on pve1", "ct 201 db on pve2", "3 unmanaged."} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	out = e.expect(exitOK, repoRoot, "plan", "--output", "json", dir)
	p, err := plan.Parse([]byte(out))
	if err != nil || len(p.Unmanaged) != 3 || p.Unmanaged[0] != (plan.Unmanaged{VMID: 102, Name: "media", Node: "pve1"}) {
		t.Fatalf("json plan: %v %+v", err, p)
	}
	if out := e.expect(exitOK, repoRoot, "plan", "--unmanaged", "ignore", dir); strings.Contains(out, "nmanaged") {
		t.Errorf("--unmanaged ignore still lists them:\n%s", out)
	}
	_, errOut, code := e.run(repoRoot, "plan", "--unmanaged", "fail", dir)
	if code != exitChanges || !strings.Contains(errOut, "3 container(s) on PVE are in no spec") {
		t.Errorf("--unmanaged fail: exit %d, stderr %s", code, errOut)
	}
	if _, errOut, code := e.run(repoRoot, "plan", "--unmanaged", "maybe", dir); code != exitInvalid || !strings.Contains(errOut, "ignore, report or fail") {
		t.Errorf("--unmanaged maybe: exit %d, stderr %s", code, errOut)
	}
	// Everything in git: fail passes.
	e.expect(exitOK, repoRoot, "plan", "--unmanaged", "fail", filepath.Join("examples", "containers"))

	before, _ := e.sim.ConfigText(102)
	e.expect(exitOK, repoRoot, "apply", "--auto-approve", dir)
	if after, _ := e.sim.ConfigText(102); after != before {
		t.Errorf("apply touched unmanaged ct 102")
	}
}
