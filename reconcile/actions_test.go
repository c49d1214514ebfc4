package reconcile

import (
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// A plan can carry every action plan knows, so apply must know how to carry
// out each: an action added to plan without its entry in actions would fail
// every apply that holds it as "unknown action".
func TestEveryActionRuns(t *testing.T) {
	for _, act := range plan.Actions() {
		if actions[act] == nil {
			t.Errorf("action %s (%s) has no entry in actions", act.Token(), act)
		}
	}
	if len(actions) != len(plan.Actions()) {
		t.Errorf("actions has %d entries, plan has %d actions", len(actions), len(plan.Actions()))
	}
}
