package pvesim

import (
	"strings"
	"testing"
	"time"
)

// TestShutdownAsPVE: vm_shutdown applies nothing (what is pending stays
// pending until the next vm_start); it checks the lock with no exception
// for 'mounted', which stop and start make; a shutdown that times out
// ("container did not stop") leaves the container running.
func TestShutdownAsPVE(t *testing.T) {
	e := newEnv(t, pendingInventory()) // ct 100 runs, hostname web-new pending
	if st, log := e.task("POST", "/nodes/pve1/lxc/100/status/shutdown", "timeout", "30"); st["exitstatus"] != "OK" || e.sim.Running(100) {
		t.Fatalf("shutdown: %v %v", st, log)
	}
	if c := e.conf(100); !strings.Contains(c, "[pve:pending]\nhostname: web-new\n") {
		t.Fatalf("the shutdown applied what was pending:\n%s", c)
	}
	if st, _ := e.task("POST", "/nodes/pve1/lxc/100/status/start"); st["exitstatus"] != "OK" || !strings.Contains(e.conf(100), "hostname: web-new\n") || strings.Contains(e.conf(100), "pending") {
		t.Fatalf("start: %v\n%s", st, e.conf(100))
	}

	if err := e.sim.HoldLock(100, "mounted", time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.task("POST", "/nodes/pve1/lxc/100/status/shutdown"); st["exitstatus"] != "CT is locked (mounted)" || !e.sim.Running(100) {
		t.Errorf("shutdown under lock mounted: %v", st)
	}
	if st, _ := e.task("POST", "/nodes/pve1/lxc/100/status/stop"); st["exitstatus"] != "OK" || e.sim.Running(100) {
		t.Errorf("stop under lock mounted: %v", st)
	}
	e.sim.Clock().Advance(2 * time.Hour)

	e.task("POST", "/nodes/pve1/lxc/100/status/start")
	e.sim.SetTaskOutcome(TaskOutcome{Type: "vzshutdown", Fail: "container did not stop"})
	st, log := e.task("POST", "/nodes/pve1/lxc/100/status/shutdown")
	if st["exitstatus"] != "container did not stop" || log[len(log)-1] != "TASK ERROR: container did not stop" || !e.sim.Running(100) {
		t.Errorf("timed-out shutdown: %v %v, running %v", st, log, e.sim.Running(100))
	}
}
