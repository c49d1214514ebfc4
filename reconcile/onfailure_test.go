package reconcile

import (
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/spec"
)

// The failure policy is each container's own (snapshot.on-failure, carried
// in the plan); Options.OnFailure, when given, overrides it for every
// container.
func TestFailurePolicyPerContainer(t *testing.T) {
	rebootSpec := "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n"
	tests := []struct {
		name     string
		override spec.OnFailure
		// want rolled back, by vmid: 101 says leave, 102 says nothing.
		want101, want102 bool
	}{
		{"each its own", "", false, true},
		{"override rollback", spec.OnFailureRollback, true, true},
		{"override leave", spec.OnFailureLeave, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, conf(101, "local-lvm"))
			addCT(inv, 102, true, conf(102, "local-lvm"))
			e := newEnv(t, inv)
			p := e.plan(loadSpecs(t, map[string]string{
				"a.yaml": specMemory(101, rebootSpec+"snapshot:\n  on-failure: leave\n"),
				"b.yaml": specMemory(102, rebootSpec),
			}))
			if a, b := planFor(t, p, 101).OnFailure, planFor(t, p, 102).OnFailure; a != spec.OnFailureLeave || b != spec.OnFailureRollback {
				t.Fatalf("plan on_failure: 101 %q, 102 %q", a, b)
			}
			e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzreboot", Fail: "container did not stop in time"})
			res := e.apply(p, Options{OnFailure: tt.override})
			for vmid, want := range map[int]bool{101: tt.want101, 102: tt.want102} {
				cr := resultFor(t, res, vmid)
				if cr.Outcome != OutcomeFailed || cr.RolledBack != want {
					t.Errorf("ct %d: %s, rolled back %v, want %v (%s)", vmid, cr.Outcome, cr.RolledBack, want, cr.Error)
				}
				wantMem := "2048"
				if want {
					wantMem = "1024"
				}
				if got := mainValue(t, e, vmid, "memory"); got != wantMem {
					t.Errorf("ct %d: memory %s, want %s", vmid, got, wantMem)
				}
				if !want && len(cr.HalfDone) == 0 {
					t.Errorf("ct %d left without a half-done report", vmid)
				}
			}
		})
	}
}

// A plan written before on_failure existed (or by hand) has none: apply
// rolls back, as it always did.
func TestFailurePolicyMissingFromPlan(t *testing.T) {
	e, p := planRebootFail(t)
	for i := range p.Containers {
		p.Containers[i].OnFailure = ""
	}
	if cr := resultFor(t, e.apply(p, Options{}), 101); !cr.RolledBack {
		t.Errorf("not rolled back: %s %s", cr.Outcome, cr.Error)
	}
}
