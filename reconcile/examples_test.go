package reconcile

import (
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

func TestExamplesApplyThenPlanNoChanges(t *testing.T) {
	e := newEnv(t, examplesInventory(t))
	specs := examplesSpecs(t)
	p := e.plan(specs)
	for _, c := range p.Containers {
		t.Logf("ct %d %s: %s %v %v", c.VMID, c.Name, c.Status, c.Blocked, c.Warnings)
		for _, ch := range c.Changes {
			t.Logf("   %s %s %s -> %s (%s)", ch.Op, ch.Path, ch.Before, ch.After, ch.Class)
		}
		for _, s := range c.Steps {
			t.Logf("   step %s", s)
		}
	}
	res := e.apply(p, Options{Specs: specs})
	for _, c := range res.Containers {
		t.Logf("ct %d: %s %s", c.VMID, c.Outcome, c.Error)
		if c.Outcome == OutcomeFailed || c.Outcome == OutcomeStale {
			t.Errorf("ct %d %s: %s", c.VMID, c.Outcome, c.Error)
		}
	}
	again := e.plan(specs)
	if again.HasChanges() {
		for _, c := range again.Containers {
			if c.Status == plan.StatusChanges {
				t.Errorf("ct %d still has changes after apply: %+v", c.VMID, c.Changes)
			}
		}
	}
}
