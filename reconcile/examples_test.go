package reconcile

import (
	"context"
	"testing"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/plan"
)

// TestExamplesApplyThenPlanNoChanges: every example container has changes
// against the example cluster, each is protected before its first write
// (a snapshot where PVE can take one, vzdump first where it cannot: media's
// bind mount, dns's root volume on dir storage), one apply applies them
// all, and the next plan finds every container unchanged (db's memory
// awaiting restart by its window policy counts as unchanged).
func TestExamplesApplyThenPlanNoChanges(t *testing.T) {
	e := newEnv(t, examplesInventory(t))
	specs := examplesSpecs(t)
	p := e.plan(specs)
	protect := map[int]plan.Action{101: plan.ActionSnapshot, 102: plan.ActionVzdump, 103: plan.ActionVzdump, 201: plan.ActionSnapshot}
	if len(p.Containers) != len(protect) {
		t.Fatalf("%d containers planned, want %d", len(p.Containers), len(protect))
	}
	for _, c := range p.Containers {
		if c.Status != plan.StatusChanges || len(c.Steps) == 0 {
			t.Errorf("ct %d %s: %s (blocked %q), want changes", c.VMID, c.Name, c.Status, c.Blocked)
			continue
		}
		if got, want := c.Steps[0].Action, protect[c.VMID]; got != want {
			t.Errorf("ct %d %s: first step %s, want %s", c.VMID, c.Name, got, want)
		}
	}
	res := e.apply(p, Options{Specs: specs})
	if len(res.Containers) != len(protect) {
		t.Fatalf("%d containers in the result, want %d", len(res.Containers), len(protect))
	}
	for _, c := range res.Containers {
		if c.Outcome != OutcomeApplied {
			t.Errorf("ct %d %s: %s %s, want applied", c.VMID, c.Name, c.Outcome, c.Error)
		}
	}
	again := e.plan(specs)
	for _, c := range again.Containers {
		if c.Status != plan.StatusUnchanged {
			t.Errorf("ct %d %s after apply: %s, want unchanged; blocked %q, changes %+v", c.VMID, c.Name, c.Status, c.Blocked, c.Changes)
		}
	}
	if again.HasChanges() {
		t.Error("the plan after apply has changes")
	}
	if db := planFor(t, again, 201); len(db.Changes) != 1 || db.Changes[0].Path != "memory" {
		t.Errorf("db after apply: want only memory awaiting restart, got %+v", db.Changes)
	}

	// A hand change: on web (snapshotted, so apply kept a baseline) it is
	// drift; on dns (vzdump stood in for the snapshot: no baseline) it is
	// an ordinary change, as examples/README.md says, so dns's drift:
	// report cannot hold it back. If reconcile learns to keep a baseline
	// without a snapshot, this test and that README paragraph change
	// together.
	hands := []struct {
		node  string
		vmid  int
		drift bool
	}{{"pve1", 101, true}, {"pve1", 103, false}}
	for _, h := range hands {
		if _, err := e.api.SetConfig(context.Background(), h.node, h.vmid, pve.ConfigChange{Set: map[string]string{"memory": "4096"}}); err != nil {
			t.Fatal(err)
		}
	}
	hand := e.plan(specs)
	for _, h := range hands {
		c := planFor(t, hand, h.vmid)
		if c.Status != plan.StatusChanges || len(c.Changes) != 1 || c.Changes[0].Path != "memory" || c.Changes[0].Drift != h.drift {
			t.Errorf("ct %d after a hand change: %s %+v, want one memory change with drift %v", h.vmid, c.Status, c.Changes, h.drift)
		}
	}
}
