package reconcile

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// A saved plan carries the restart window its reboot was planned under;
// apply reboots only while that window is still open. Planned inside the
// window and applied after it closed: no reboot, the pending changes are
// reported as waiting for the window. Applied while still open: the reboot
// runs.
func TestSavedPlanRebootsOnlyInsideTheWindow(t *testing.T) {
	for _, tt := range []struct {
		name   string
		later  time.Duration
		reboot bool
	}{
		{"window still open", 30 * time.Minute, true},
		{"window closed since", 3 * time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, conf(101, "local-lvm"))
			e := newEnv(t, inv)
			// testNow is Wednesday 10:00 UTC: the window is open until 11:00.
			p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101,
				"nameserver: 9.9.9.9\nrestart:\n  mode: window\n  window:\n    schedule: wed 09:00 UTC\n    duration: 2h\n")}))
			cp := planFor(t, p, 101)
			if last := cp.Steps[len(cp.Steps)-1]; last.Action != plan.ActionReboot {
				t.Fatalf("no reboot planned inside the window: %v", cp.Steps)
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := plan.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			e.sim.Clock().Advance(tt.later)
			e.resetCalls()
			cr := resultFor(t, e.apply(saved, Options{}), 101)
			if cr.Outcome != OutcomeApplied {
				t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
			}
			reboot := cr.Steps[len(cr.Steps)-1]
			reboots := e.calls["POST /nodes/{node}/lxc/{vmid}/status/reboot"]
			if tt.reboot {
				if reboot.Status != StepApplied || reboots != 1 || mainValue(t, e, 101, "nameserver") != "9.9.9.9" {
					t.Errorf("reboot %+v, %d reboot calls", reboot, reboots)
				}
				return
			}
			if reboot.Status != StepSkipped || !strings.Contains(reboot.Error, "window") || reboots != 0 {
				t.Errorf("reboot %+v, %d reboot calls; want it skipped because the window closed", reboot, reboots)
			}
			if !slices.Contains(cr.Pending, "nameserver") || !strings.Contains(strings.Join(cr.Warnings, "\n"), `restart window "wed 09:00 UTC"`) {
				t.Errorf("pending %q, warnings %q: want nameserver reported as waiting for the window", cr.Pending, cr.Warnings)
			}
			if mainValue(t, e, 101, "memory") != "2048" {
				t.Error("the hot change was not made")
			}
		})
	}
}

// A reboot PVE refuses is taken for "stopped since the plan" only when the
// container's status says stopped, not from the error's wording: here PVE
// answers with that wording while the container still runs, and the
// reboot counts as failed.
func TestRebootRefusedWhileRunningFails(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")}))
	e.sim.InjectFault(pvesim.Fault{Method: "POST", Path: "/nodes/{node}/lxc/{vmid}/status/reboot", Status: 500, Message: "VM 101 not running"})
	cr := resultFor(t, e.apply(p, Options{OnFailure: spec.OnFailureLeave}), 101)
	last := cr.Steps[len(cr.Steps)-1]
	if cr.Outcome != OutcomeFailed || last.Step.Action != plan.ActionReboot || last.Status != StepFailed {
		t.Fatalf("result: %s %s, reboot %+v", cr.Outcome, cr.Error, last)
	}
	if !e.sim.Running(101) {
		t.Error("the container stopped")
	}
}

// A plan whose only change is a reboot (the desired memory already waits
// pending) is verified and its baseline kept before retention runs, as a
// plan with writes is: a failed snapshot-prune then leaves a verified change
// whose felhom snapshot tells the next plan what was applied.
func TestRebootOnlyIsVerifiedBeforeRetention(t *testing.T) {
	old := "\n[felhom-20261101t000000]\narch: amd64\ncores: 2\nhostname: ct101\nmemory: 1024\nostype: debian\n" +
		"rootfs: local-lvm:vm-101-disk-0,size=8G\nsnaptime: 1761955200\nswap: 512\nunprivileged: 1\n"
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm", "parent: felhom-20261101t000000")+"\n[pve:pending]\nmemory: 2048\n"+old)
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "restart:\n  mode: when-needed\nsnapshot:\n  keep: 1\n")})
	p := e.plan(specs)
	if got := stepTokens(planFor(t, p, 101)); got != "snapshot,reboot,snapshot-prune" {
		t.Fatalf("steps %s, want snapshot, reboot, snapshot-prune", got)
	}
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdelsnapshot", Fail: "dataset is busy"})
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeFailed || !strings.Contains(strings.Join(cr.Warnings, " "), "in place and verified") {
		t.Fatalf("result: %s %s %v", cr.Outcome, cr.Error, cr.Warnings)
	}
	if cr.Baseline["memory"] == "" {
		t.Errorf("no baseline recorded: %v", cr.Baseline)
	}
	if desc := snapshotDescriptions(t, e)[cr.Snapshot]; !strings.Contains(desc, BaselinePrefix) {
		t.Errorf("snapshot %s keeps no baseline:\n%s", cr.Snapshot, desc)
	}
}
