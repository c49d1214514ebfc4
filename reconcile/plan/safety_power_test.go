package plan

import (
	"errors"
	"testing"

	"github.com/felhom/felhom/spec"
)

// TestCheckSafetyPower: a start only of a container that was stopped, and
// protected when a change waits for a restart (the start applies it); a
// shutdown only of one that was running and never after a reboot; one power
// step at most, towards the carried spec's power.
func TestCheckSafetyPower(t *testing.T) {
	snap := Step{Action: ActionSnapshot, Params: map[string]string{"snapname": "felhom-20261203t120000-abc"}}
	start := Step{Action: ActionStart, Params: map[string]string{}}
	shutdown := Step{Action: ActionShutdown, Params: map[string]string{}}
	reboot := Step{Action: ActionReboot, Params: map[string]string{}}
	waits := []Change{{Path: "memory", Op: OpUpdate, Class: ClassAwaitingRestart}}
	for _, tt := range []struct {
		name    string
		running bool
		power   spec.Power // the carried spec's; "" carries none
		changes []Change
		steps   []Step
		rule    string // "" when safe
	}{
		{"a start of a stopped container", false, spec.PowerRunning, nil, []Step{start}, ""},
		{"a start without a carried spec", false, "", nil, []Step{start}, ""},
		{"a start of a running container", true, spec.PowerRunning, nil, []Step{start}, RulePower},
		{"a start the spec does not ask for", false, spec.PowerStopped, nil, []Step{start}, RulePower},
		{"a start that applies a waiting change, protected", false, spec.PowerRunning, waits, []Step{snap, start}, ""},
		{"a start that applies a waiting change, unprotected", false, spec.PowerRunning, waits, []Step{start}, RuleProtection},
		{"a shutdown of a running container", true, spec.PowerStopped, nil, []Step{shutdown}, ""},
		{"a shutdown of a stopped container", false, spec.PowerStopped, nil, []Step{shutdown}, RulePower},
		{"a shutdown when the spec says running", true, spec.PowerRunning, nil, []Step{shutdown}, RulePower},
		{"a shutdown after a reboot", true, spec.PowerStopped, waits, []Step{snap, reboot, shutdown}, RuleRestart},
		{"two shutdowns", true, spec.PowerStopped, nil, []Step{shutdown, shutdown}, RulePower},
		{"a shutdown before the writes", true, spec.PowerStopped, nil, []Step{snap, shutdown, {Action: ActionSetConfig, Params: map[string]string{"memory": "2048"}}}, RuleOrder},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ContainerPlan{VMID: 101, Running: tt.running, Status: StatusChanges, Changes: tt.changes, Steps: tt.steps, Restart: spec.RestartWhenNeeded}
			if tt.power != "" {
				c.Spec = &spec.ContainerSpec{Power: tt.power}
			}
			err := c.CheckSafety()
			var se *SafetyError
			switch {
			case tt.rule == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.rule != "" && (!errors.As(err, &se) || se.Rule != tt.rule):
				t.Errorf("CheckSafety = %v, want refused by %q", err, tt.rule)
			}
		})
	}
}
