package main

import (
	"strings"
	"testing"
)

// The spec's power end to end with the built binary against the simulator
// over HTTPS: a stopped container with power: running is started by apply,
// a running one with power: stopped is shut down cleanly; then plan is
// clean (exit 0 with --detailed-exitcode). Containers without power are
// left as they run.
func TestE2EPowerStartAndShutdown(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	if e.sim.Running(103) || !e.sim.Running(201) || !e.sim.Running(102) {
		t.Fatal("the example cluster changed: want ct 103 stopped, ct 102 and 201 running")
	}
	dir := t.TempDir()
	writeSpec(t, dir, "dns.yaml", "dns", "pve1", 103, "power: running\n")
	writeSpec(t, dir, "db.yaml", "db", "pve2", 201, "power: stopped\n")
	writeSpec(t, dir, "media.yaml", "media", "pve1", 102, "cores: 4\n")
	out, _, code := e.run(repoRoot, "plan", "--detailed-exitcode", dir)
	if code != exitChanges {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	for _, want := range []string{"~ power  stopped → running", "1. start", "~ power  running → stopped", "1. shut down cleanly", "VM.PowerMgmt on /vms/103"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	out = e.expect(exitOK, repoRoot, "apply", "--auto-approve", dir)
	for _, want := range []string{"ct 103 dns on pve1: applied", "ct 201 db on pve2: applied"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if !e.sim.Running(103) || e.sim.Running(201) || !e.sim.Running(102) {
		t.Errorf("after apply: running 103 %v (want true), 201 %v (want false), 102 %v (want true, no power)", e.sim.Running(103), e.sim.Running(201), e.sim.Running(102))
	}
	out, _, code = e.run(repoRoot, "plan", "--detailed-exitcode", dir)
	if code != exitOK || !strings.Contains(out, "Plan: 0 to change, 3 unchanged") {
		t.Errorf("plan after apply: exit %d\n%s", code, out)
	}
}
