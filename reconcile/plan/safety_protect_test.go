package plan

import (
	"errors"
	"testing"

	"github.com/felhom/felhom/spec"
)

// TestCheckSafetyProtectionOff: a write with no felhom snapshot or backup
// before it is safe only when the plan's spec turns before-change off.
func TestCheckSafetyProtectionOff(t *testing.T) {
	off, on := false, true
	write := Step{Action: ActionSetConfig, Params: map[string]string{"memory": "2048"}}
	for _, tt := range []struct {
		name string
		spec *spec.ContainerSpec
		safe bool
	}{
		{"no spec carried", nil, false},
		{"no snapshot policy", &spec.ContainerSpec{}, false},
		{"before-change unset", &spec.ContainerSpec{Snapshot: &spec.SnapshotPolicy{}}, false},
		{"before-change on", &spec.ContainerSpec{Snapshot: &spec.SnapshotPolicy{BeforeChange: &on}}, false},
		{"before-change off", &spec.ContainerSpec{Snapshot: &spec.SnapshotPolicy{BeforeChange: &off}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ContainerPlan{VMID: 101, Status: StatusChanges, Steps: []Step{write}, Spec: tt.spec}
			err := c.CheckSafety()
			var se *SafetyError
			switch {
			case tt.safe && err != nil:
				t.Errorf("refused: %v", err)
			case !tt.safe && (!errors.As(err, &se) || se.Rule != RuleProtection):
				t.Errorf("CheckSafety = %v, want refused by %q", err, RuleProtection)
			}
		})
	}
}
