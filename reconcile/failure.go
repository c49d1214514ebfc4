package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// failurePolicy is the policy for one container: the override when given,
// else the container's own from the plan, else rollback.
func failurePolicy(override, planned spec.OnFailure) spec.OnFailure {
	switch {
	case override != "":
		return override
	case planned != "":
		return planned
	}
	return spec.OnFailureRollback
}

// errMismatch marks a read-back that does not match the plan.
var errMismatch = errors.New("the config read back does not match the plan")

// errUnverified marks a read-back that could not be made: the change is
// there, unverified, and not a reason to undo it.
var errUnverified = errors.New("the config could not be read back")

// failureOf classifies a failure's error, in the order of the Failure
// constants.
func failureOf(err error) Failure {
	var te *pve.TaskError
	switch {
	case errors.Is(err, context.Canceled):
		return FailureCancelled
	case errors.Is(err, context.DeadlineExceeded):
		return FailureTimeout
	case errors.Is(err, pve.ErrStaleDigest) || errors.Is(err, errMoved) || errors.Is(err, errVMIDTaken):
		return FailureStale
	case errors.Is(err, pve.ErrLocked):
		return FailureLocked
	case errors.Is(err, pve.ErrPermission) || errors.Is(err, pve.ErrAuth):
		return FailurePermission
	case errors.As(err, &te):
		return FailureTask
	case errors.Is(err, errMismatch):
		return FailureVerify
	}
	return FailureAPI
}

// skipRest marks the steps from i on that have not run as skipped.
func (a *applier) skipRest(i int, why string) {
	for ; i < len(a.cr.Steps); i++ {
		if s := &a.cr.Steps[i]; s.Status == StepSkipped && !a.folded[i] {
			s.Error = why
		}
	}
}

// halfDone lists the steps that changed the container: those that ran,
// and those that failed after their write landed.
func (a *applier) halfDone() {
	for i, s := range a.cr.Steps {
		if (s.Status == StepApplied || a.landed[i]) && !s.Step.Action.IsProtection() {
			a.cr.HalfDone = append(a.cr.HalfDone, s.Step.String())
		}
	}
}

// fail ends the container after a failure: before any of felhom's writes
// landed nothing needs undoing; after it the policy decides between
// rollback and leaving it. A change that could not be read back is left
// and reported unverified (issue 10 item 2), and a config someone else
// changed since apply started is never rolled back (item 3).
func (a *applier) fail(err error) {
	a.cr.Outcome, a.cr.Error, a.cr.Failure = OutcomeFailed, err.Error(), failureOf(err)
	if a.verified {
		a.cr.Warnings = append(a.cr.Warnings, "the change itself is in place and verified; only a retention step failed")
		return
	}
	if !a.wrote {
		return
	}
	if errors.Is(err, errUnverified) {
		a.halfDone()
		a.cr.Warnings = append(a.cr.Warnings, "unverified: the change was made but could not be read back; it is left in place, not rolled back: check it, or re-plan")
		return
	}
	if a.snapshot == "" || a.onFailure != spec.OnFailureRollback {
		a.halfDone()
		if a.cp.Creates() {
			a.cr.Warnings = append(a.cr.Warnings, "the container was created and is left as it is (felhom never deletes a container); fix the cause and plan again")
			return
		}
		if a.snapshot == "" {
			a.cr.Warnings = append(a.cr.Warnings, "no felhom snapshot to roll back to; the container is left half-done")
		} else {
			a.cr.Warnings = append(a.cr.Warnings, "left half-done (on failure: leave); snapshot "+a.snapshot+" holds the state before")
		}
		return
	}
	// The rollback runs even when apply was cancelled: a half-done
	// container is worse than a late exit.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), a.opts.StepTimeout)
	defer cancel()
	if why := a.movedSinceStart(sctx); why != "" {
		a.halfDone()
		a.cr.Outcome, a.cr.Failure = OutcomeStale, FailureStale
		a.cr.Error += "; not rolled back: " + why + "; re-plan"
		return
	}
	rb := &StepResult{Step: plan.Step{Action: plan.ActionSnapshot, Params: map[string]string{"snapname": a.snapshot},
		Why: "rolls back to the felhom snapshot after a failure"}}
	a.event(Event{Kind: EventStep, Detail: "roll back to " + a.snapshot})
	t0 := a.opts.Clock.Now()
	start := a.runningNow(sctx)
	upid, rerr := a.api.RollbackSnapshot(sctx, a.cp.Node, a.cp.VMID, a.snapshot, start)
	if rerr == nil {
		rerr = a.await(sctx, upid, rb)
	}
	rb.Duration = a.opts.Clock.Now().Sub(t0)
	a.cr.Rollback = rb
	if rerr != nil {
		failStep(rb, rerr)
		a.halfDone()
		a.cr.Error += "; rollback to " + a.snapshot + " failed: " + rerr.Error()
		if st, serr := a.api.CurrentStatus(sctx, a.cp.Node, a.cp.VMID); serr == nil && start && st.Status != "running" {
			a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("the container is stopped (PVE stops it to roll back); start it with 'pct start %d' once it is fixed", a.cp.VMID))
		}
		a.reportLock(sctx)
		return
	}
	rb.Status = StepApplied
	a.cr.RolledBack = true
	a.cr.Error += "; rolled back to " + a.snapshot
}

// movedSinceStart says why a rollback must not run: a key felhom's plan does
// not write differs from the config apply started from (someone else
// changed it since, and a rollback would erase it), or the config cannot be
// read to tell. "" when the rollback may run.
func (a *applier) movedSinceStart(ctx context.Context) string {
	p, err := a.readConfig(ctx)
	if err != nil {
		return "the config could not be read to check that no one else changed it: " + err.Error()
	}
	skip := map[string]bool{}
	for _, st := range a.cp.Steps {
		if st.Action.Writes() {
			maps.Copy(skip, stepKeys(st))
		}
	}
	skip["parent"], skip["lock"] = true, true
	if key, ok := sameEffective(a.start, p, skip); !ok {
		return fmt.Sprintf("%s was changed by someone else since apply started (a rollback would undo it)", key)
	}
	return ""
}

// runningNow is the run state a rollback restores (issue 10 item 4): the
// owner's at apply time, not the plan's. After felhom's own reboot of the
// running container that is "running" whatever the reboot left; otherwise
// it is read now (a rollback force-stops a running container and starts it
// again only when asked).
func (a *applier) runningNow(ctx context.Context) bool {
	if a.rebootSent {
		return true
	}
	st, err := a.api.CurrentStatus(ctx, a.cp.Node, a.cp.VMID)
	if err != nil {
		return a.cp.Running
	}
	return st.Status == "running"
}

// reportLock reports a lock PVE left on the container after one of felhom's
// tasks failed (a failed snapshot delete leaves snapshot-delete, a failed
// rollback leaves rollback): felhom never removes a lock, so the report says
// how to (issue 10 item 13).
func (a *applier) reportLock(ctx context.Context) {
	p, err := a.readConfig(ctx)
	if err != nil {
		return
	}
	l := lockOf(p)
	if l == "" {
		return
	}
	how := fmt.Sprintf("once its cause is fixed, clear it on node %s with 'pct unlock %d'", a.cp.Node, a.cp.VMID)
	if l == "snapshot-delete" {
		how += " (or delete the snapshot again with 'pct delsnapshot " + fmt.Sprint(a.cp.VMID) + " <name> --force')"
	}
	a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("PVE left lock %s on the container after its task failed; felhom does not remove locks: %s", l, how))
}

// failStep marks the step failed with err, and with the task's exit status and
// log tail when err is a failed task.
func failStep(sr *StepResult, err error) {
	sr.Status, sr.Error = StepFailed, err.Error()
	var te *pve.TaskError
	if errors.As(err, &te) {
		sr.ExitStatus, sr.LogTail = te.ExitStatus, te.LogTail
	}
}
