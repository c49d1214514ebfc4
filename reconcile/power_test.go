package reconcile

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// handPower starts (vzstart) or shuts down (vzshutdown) ct 101 as an admin
// would, and waits for the task.
func handPower(t *testing.T, e *env, start bool) {
	t.Helper()
	call := e.api.Shutdown
	if start {
		call = e.api.Start
	}
	upid, err := call(context.Background(), "pve1", 101)
	if err == nil {
		_, err = e.api.WaitTask(context.Background(), upid)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// A stopped container whose spec says power: running gets its writes (at
// once: it is stopped), then the start; the run state and the config are
// read back, the baseline records power, and the next plan is clean.
func TestApplyStartsAfterTheWrites(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "power: running\n")})
	p := e.plan(specs)
	if got := stepTokens(planFor(t, p, 101)); got != "snapshot,set-config,start" {
		t.Fatalf("steps %s, want snapshot, set-config, start", got)
	}
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeApplied || !e.sim.Running(101) || mainValue(t, e, 101, "memory") != "2048" {
		t.Fatalf("result %s %q, running %v, memory %s", cr.Outcome, cr.Error, e.sim.Running(101), mainValue(t, e, 101, "memory"))
	}
	if last := cr.Steps[len(cr.Steps)-1]; last.Status != StepApplied || last.UPID == "" || !strings.Contains(last.UPID, ":vzstart:") {
		t.Errorf("start step %+v", last)
	}
	if cr.Baseline["power"] != "running" || cr.Baseline["memory"] == "" {
		t.Errorf("baseline %v, want power running and memory", cr.Baseline)
	}
	if again := planFor(t, e.plan(specs), 101); again.Status != plan.StatusUnchanged {
		t.Errorf("re-plan: %s %v", again.Status, again.Changes)
	}
}

// power: stopped on a running container with a change that needs a
// restart: the write, no reboot, a clean shutdown; the change stays pending
// (PVE's vm_stop applies nothing) and the next plan is clean.
func TestApplyShutsDownWithoutReboot(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart: {mode: when-needed}\npower: stopped\n")})
	p := e.plan(specs)
	if got := stepTokens(planFor(t, p, 101)); got != "snapshot,set-config,shutdown" {
		t.Fatalf("steps %s, want snapshot, set-config, shutdown", got)
	}
	e.resetCalls()
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeApplied || e.sim.Running(101) {
		t.Fatalf("result %s %q, running %v", cr.Outcome, cr.Error, e.sim.Running(101))
	}
	if e.calls["POST /nodes/{node}/lxc/{vmid}/status/reboot"] != 0 || e.calls["POST /nodes/{node}/lxc/{vmid}/status/stop"] != 0 ||
		e.calls["POST /nodes/{node}/lxc/{vmid}/status/shutdown"] != 1 {
		t.Errorf("power calls %v, want one shutdown and no reboot or stop", e.calls)
	}
	if !slices.Contains(cr.Pending, "nameserver") || cr.Baseline["power"] != "stopped" {
		t.Errorf("pending %q, baseline %v: want nameserver pending and power stopped", cr.Pending, cr.Baseline)
	}
	if again := planFor(t, e.plan(specs), 101); again.Status != plan.StatusUnchanged {
		t.Errorf("re-plan: %s %v", again.Status, again.Changes)
	}
}

// A start or shutdown task that fails is reported with its exit status and
// log tail; the writes before it landed fine and were verified, so they
// stay (no rollback, whatever the failure policy), and the run state is
// as it was.
func TestFailedPowerStepKeepsTheVerifiedWrites(t *testing.T) {
	for _, tt := range []struct {
		name, task, fail string
		running          bool
		power            spec.Power
	}{
		{"start", "vzstart", "startup for container '101' failed", false, spec.PowerRunning},
		{"shutdown", "vzshutdown", "container did not stop", true, spec.PowerStopped},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, tt.running, conf(101, "local-lvm"))
			e := newEnv(t, inv)
			specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "power: "+string(tt.power)+"\n")})
			p := e.plan(specs)
			e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: tt.task, Fail: tt.fail})
			e.resetCalls()
			cr := resultFor(t, e.apply(p, Options{Specs: specs, OnFailure: spec.OnFailureRollback}), 101)
			last := cr.Steps[len(cr.Steps)-1]
			if cr.Outcome != OutcomeFailed || cr.Failure != FailureTask || last.Status != StepFailed || last.ExitStatus != tt.fail || len(last.LogTail) == 0 {
				t.Fatalf("result %s/%s %q, last step %+v", cr.Outcome, cr.Failure, cr.Error, last)
			}
			if cr.RolledBack || e.calls["POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback"] != 0 {
				t.Error("rolled back after a failed power step")
			}
			if mainValue(t, e, 101, "memory") != "2048" || e.sim.Running(101) != tt.running {
				t.Errorf("memory %s, running %v: want the write kept and the run state unchanged", mainValue(t, e, 101, "memory"), e.sim.Running(101))
			}
			if !strings.Contains(strings.Join(cr.Warnings, "\n"), "not rolled back") {
				t.Errorf("warnings %q: want the report to say the verified writes stay", cr.Warnings)
			}
			// The next plan tries the power step again, and nothing else.
			e.sim.ClearTaskOutcomes()
			if got := stepTokens(planFor(t, e.plan(specs), 101)); got != tt.task[2:] {
				t.Errorf("re-plan steps %s, want %s alone", got, tt.task[2:])
			}
		})
	}
}

// A start alone takes no snapshot; it records power in the newest felhom
// snapshot's baseline, so that under drift: report a later hand stop is
// reported and left alone, while under revert it is started again.
func TestPowerDriftAfterAStartAlone(t *testing.T) {
	for _, policy := range []spec.Drift{spec.DriftReport, spec.DriftRevert} {
		t.Run(string(policy), func(t *testing.T) {
			e, _ := driftEnv(t, "drift: "+string(policy)+"\n")
			specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "drift: "+string(policy)+"\npower: running\n")})
			p := e.plan(specs)
			if got := stepTokens(planFor(t, p, 101)); got != "start" {
				t.Fatalf("steps %s, want a start alone", got)
			}
			e.resetCalls()
			cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
			if cr.Outcome != OutcomeApplied || !e.sim.Running(101) || cr.Snapshot != "" || e.calls["POST /nodes/{node}/lxc/{vmid}/snapshot"] != 0 {
				t.Fatalf("result %s %q, snapshot %q, calls %v", cr.Outcome, cr.Error, cr.Snapshot, e.calls)
			}
			if n := strings.Count(strings.Join(slices.Collect(maps.Values(snapshotDescriptions(t, e))), "\n"), `"power":"running"`); n != 1 {
				t.Fatalf("%d felhom snapshots record power running, want the newest one", n)
			}
			e.clock.c.Advance(time.Minute)
			handPower(t, e, false)
			cp := planFor(t, e.plan(specs), 101)
			switch policy {
			case spec.DriftReport:
				if cp.Status != plan.StatusUnchanged || !drifts(t, e.plan(specs))["power"] {
					t.Errorf("report: %s %v, want the hand stop reported as drift and left", cp.Status, cp.Changes)
				}
			case spec.DriftRevert:
				if stepTokens(cp) != "start" || !drifts(t, e.plan(specs))["power"] {
					t.Errorf("revert: steps %s %v, want a start of the drifted container", stepTokens(cp), cp.Changes)
				}
			}
		})
	}
}

// Started by someone else between plan and apply: PVE refuses the start
// ("CT 101 already running"); the status says so, and the step is
// unchanged, not failed.
func TestStartOfAContainerStartedSince(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": ctSpec("ct101", "pve1", 101, "power: running\n")})
	p := e.plan(specs)
	handPower(t, e, true)
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if last := cr.Steps[len(cr.Steps)-1]; cr.Outcome != OutcomeApplied || last.Status != StepUnchanged || !strings.Contains(last.Error, "already running") {
		t.Errorf("result %s %q, start %+v", cr.Outcome, cr.Error, last)
	}
}

// A start that applies a value PVE holds pending is protected first, as a
// reboot is: the snapshot, then the start; the pending value is current
// afterwards, read back and kept in the baseline, and the next plan is
// clean.
func TestStartThatAppliesPendingIsProtected(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm")+"\n[pve:pending]\nmemory: 2048\n")
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "power: running\n")})
	p := e.plan(specs)
	if got := stepTokens(planFor(t, p, 101)); got != "snapshot,start" {
		t.Fatalf("steps %s, want snapshot, start", got)
	}
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeApplied || cr.Snapshot == "" || !e.sim.Running(101) || mainValue(t, e, 101, "memory") != "2048" || len(cr.Pending) != 0 {
		t.Fatalf("result %s %q, snapshot %q, pending %q, memory %s", cr.Outcome, cr.Error, cr.Snapshot, cr.Pending, mainValue(t, e, 101, "memory"))
	}
	if cr.Baseline["memory"] != "2 GiB" || cr.Baseline["power"] != "running" {
		t.Errorf("baseline %v", cr.Baseline)
	}
	if again := planFor(t, e.plan(specs), 101); again.Status != plan.StatusUnchanged || len(again.Changes) != 0 {
		t.Errorf("re-plan: %s %v", again.Status, again.Changes)
	}
}
