package diff

import (
	"fmt"
	"strings"

	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// Power: the spec's run state (spec.Power) against the live one
// (Live.Running, from GET /cluster/resources). A difference is a start or a
// clean shutdown (pve-container API2/LXC/Status.pm vm_start, vm_shutdown)
// after the writes.

// PowerPath is the change path of the run state, in changes and baselines.
const PowerPath = "power"

// livePower is the live run state as the spec spells it.
func (d *differ) livePower() spec.Power {
	if d.live.Running {
		return spec.PowerRunning
	}
	return spec.PowerStopped
}

// power compares the spec's power with the live run state and records the
// change; nothing when the spec leaves power out.
func (d *differ) power() {
	if d.s.Power == "" {
		return
	}
	live := d.livePower()
	f := field{path: PowerPath, op: plan.OpUpdate, before: string(live), after: string(d.s.Power), same: live == d.s.Power}
	if d.baseline != nil {
		d.baseline[PowerPath] = f.before
		return
	}
	if f.same {
		return
	}
	if d.reportOnly(f) {
		d.addChange(f, plan.ClassHot, "started or stopped outside felhom; the drift policy reports it and leaves it")
		d.report = append(d.report, f.path)
		return
	}
	reason := "felhom starts the container after the writes (power: running)"
	if d.s.Power == spec.PowerStopped {
		reason = "felhom shuts the container down cleanly after the writes (power: stopped)"
	}
	d.addChange(f, plan.ClassHot, reason)
	d.powerTo = d.s.Power
	d.need(plan.UsePower, "")
}

// powerStep is the start or shutdown the power change asks for; ok false
// when there is none.
func (d *differ) powerStep() (plan.Step, bool) {
	switch d.powerTo {
	case spec.PowerRunning:
		why := "the spec says power: running and the container is stopped"
		if pending := d.livePending(); len(pending) > 0 {
			why += "; PVE applies what is pending as it starts (" + strings.Join(pending, ", ") + ")"
		}
		return plan.Step{Action: plan.ActionStart, Params: map[string]string{}, Why: why}, true
	case spec.PowerStopped:
		return plan.Step{Action: plan.ActionShutdown, Params: map[string]string{},
			Why: "the spec says power: stopped and the container runs: a clean shutdown (PVE's timeout, never a hard stop)"}, true
	}
	return plan.Step{}, false
}

// startApplies reports whether the planned start makes pending values
// current (PVE's vm_start applies them first): then it is protected as a
// reboot is. It warns about pending keys the spec does not manage.
func (d *differ) startApplies() bool {
	if d.powerTo != spec.PowerRunning {
		return false
	}
	if others := d.unmanagedPending(); len(others) > 0 {
		d.warnings = append(d.warnings, "the start also applies pending changes the spec does not manage: "+strings.Join(others, ", "))
	}
	return len(d.livePending()) > 0
}

// restartWaits is the note for changes waiting for a restart that the power
// step decides instead of the restart policy, and true; false when the plan
// has no power step and the restart policy decides.
func (d *differ) restartWaits() (string, bool) {
	n := plural(len(d.restart), "change", "changes")
	switch d.powerTo {
	case spec.PowerRunning:
		return fmt.Sprintf("%s %s effect when felhom starts the container (power: running)", n, verb(len(d.restart), "takes", "take")), true
	case spec.PowerStopped:
		return fmt.Sprintf("%s %s pending: the container is shut down (power: stopped), not rebooted; %s effect when the container next starts",
			n, verb(len(d.restart), "stays", "stay"), verb(len(d.restart), "it takes", "they take")), true
	}
	return "", false
}
