package plan

import "testing"

// What each action is, by name: apply and diff decide on these, never on the
// order of the constants, so an action appended later keeps every other's
// meaning.
func TestActionProperties(t *testing.T) {
	type props struct{ protection, writes, restart, needsProtection, retention, power, creates bool }
	want := map[Action]props{
		ActionCreate:        {creates: true},
		ActionRestore:       {creates: true},
		ActionVzdump:        {protection: true},
		ActionSnapshot:      {protection: true},
		ActionResize:        {writes: true, needsProtection: true},
		ActionSetConfig:     {writes: true, needsProtection: true},
		ActionPctSet:        {writes: true, needsProtection: true},
		ActionReboot:        {restart: true, needsProtection: true},
		ActionSnapshotPrune: {retention: true},
		ActionPrune:         {retention: true},
		// A start needs protection only when it applies pending values
		// (diff and CheckSafety decide it from the plan), a shutdown never.
		ActionStart:    {power: true},
		ActionShutdown: {power: true},
	}
	for _, a := range Actions() {
		w, ok := want[a]
		if !ok {
			t.Errorf("%s: no expected properties in this test; add them", a.Token())
			continue
		}
		got := props{a.IsProtection(), a.Writes(), a.IsRestart(), a.NeedsProtection(), a.IsRetention(), a.IsPower(), a.Creates()}
		if got != w {
			t.Errorf("%s: properties %+v, want %+v", a.Token(), got, w)
		}
	}
	var zero Action
	if zero.IsProtection() || zero.Writes() || zero.IsRestart() || zero.NeedsProtection() || zero.IsRetention() || zero.IsPower() || zero.Creates() {
		t.Error("the invalid action has a property")
	}
}

// Steps run protection first, then the writes, then the restart, then the
// power step (start or shutdown), then retention: StepLess and Actions follow the phases, and every action has
// exactly one phase and its own place.
func TestActionOrderFollowsPhases(t *testing.T) {
	acts := Actions()
	phaseOf := func(a Action) int {
		n, p := 0, 0
		for i, is := range []bool{a.Creates(), a.IsProtection(), a.Writes(), a.IsRestart(), a.IsPower(), a.IsRetention()} {
			if is {
				n, p = n+1, i
			}
		}
		if n != 1 {
			t.Errorf("%s has %d phases, want 1", a.Token(), n)
		}
		return p
	}
	for i := range acts {
		for j := range acts {
			a, b := Step{Action: acts[i]}, Step{Action: acts[j]}
			if i < j && !StepLess(a, b) {
				t.Errorf("Actions lists %s before %s but StepLess does not order them so", a.Action.Token(), b.Action.Token())
			}
			if i != j && !StepLess(a, b) && !StepLess(b, a) {
				t.Errorf("%s and %s share a place", a.Action.Token(), b.Action.Token())
			}
			if phaseOf(a.Action) < phaseOf(b.Action) && !StepLess(a, b) {
				t.Errorf("%s (an earlier phase) does not run before %s", a.Action.Token(), b.Action.Token())
			}
		}
	}
	if got := []Action{ActionCreate, ActionRestore, ActionVzdump, ActionSnapshot, ActionPctSet, ActionResize, ActionSetConfig, ActionReboot, ActionStart, ActionShutdown, ActionSnapshotPrune, ActionPrune}; len(acts) != len(got) {
		t.Fatalf("Actions() = %v", acts)
	} else {
		for i := range got {
			if acts[i] != got[i] {
				t.Errorf("Actions()[%d] = %s, want %s", i, acts[i].Token(), got[i].Token())
			}
		}
	}
}
