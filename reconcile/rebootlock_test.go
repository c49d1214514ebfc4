package reconcile

import (
	"strings"
	"testing"
	"time"
)

// Issue 10 item 12: PVE's vm_reboot checks no lock, so a reboot during a
// backup's lock: backup would go through; felhom waits the lock out first.
func TestRebootWaitsForABackupLock(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")}))
	if got := stepTokens(planFor(t, p, 101)); got != "snapshot,set-config,reboot" {
		t.Fatalf("steps %s", got)
	}
	w := newWire(e)
	w.before = func(c wireCall) {
		if c.method == "POST" && strings.HasSuffix(c.path, "/status/reboot") {
			if l := mainValue(t, e, 101, "lock"); l != "" {
				t.Errorf("rebooted while locked (%s)", l)
			}
		}
	}
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventStep && ev.Detail == "reboot" {
			if err := e.sim.HoldLock(101, "backup", 30*time.Second); err != nil {
				t.Error(err)
			}
		}
	}}
	api := e.clientVia(testToken, w)
	cr := resultFor(t, Apply(t.Context(), api, p, Options{Clock: e.clock, LockWait: time.Minute, Progress: rec}), 101)
	if cr.Outcome != OutcomeApplied || rec.kinds(EventWait) == 0 {
		t.Fatalf("result: %s %s, %d waits", cr.Outcome, cr.Error, rec.kinds(EventWait))
	}
}

// Issue 10 item 12: a reboot that also applies pending changes felhom did
// not make says so, in the plan and in the result.
func TestRebootNamesOthersPendingChanges(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm")+"[pve:pending]\nswap: 1024\n")
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")}))
	cp := planFor(t, p, 101)
	if !strings.Contains(strings.Join(cp.Warnings, " "), "swap") {
		t.Errorf("plan warnings %q do not name swap", cp.Warnings)
	}
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied || !strings.Contains(strings.Join(cr.Warnings, " "), "pending changes felhom did not make: swap") {
		t.Errorf("result: %s %s %q", cr.Outcome, cr.Error, cr.Warnings)
	}
}
