package reconcile

import (
	"context"
	"errors"

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

// failureOf classifies a failure's error, in the order of the Failure
// constants.
func failureOf(err error) Failure {
	var te *pve.TaskError
	switch {
	case errors.Is(err, context.Canceled):
		return FailureCancelled
	case errors.Is(err, context.DeadlineExceeded):
		return FailureTimeout
	case errors.Is(err, pve.ErrStaleDigest) || errors.Is(err, errMoved):
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

// halfDone lists the steps that changed the container.
func (a *applier) halfDone() {
	for _, s := range a.cr.Steps {
		if s.Status == StepApplied && !s.Step.Action.IsProtection() {
			a.cr.HalfDone = append(a.cr.HalfDone, s.Step.String())
		}
	}
}

// fail ends the container after a failure: before any write nothing needs
// undoing; after it the policy decides between rollback and leaving it.
func (a *applier) fail(err error) {
	a.cr.Outcome, a.cr.Error, a.cr.Failure = OutcomeFailed, err.Error(), failureOf(err)
	if a.verified {
		a.cr.Warnings = append(a.cr.Warnings, "the change itself is in place and verified; only a retention step failed")
		return
	}
	if !a.wrote {
		return
	}
	if a.snapshot == "" || a.onFailure != spec.OnFailureRollback {
		a.halfDone()
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
	rb := &StepResult{Step: plan.Step{Action: plan.ActionSnapshot, Params: map[string]string{"snapname": a.snapshot},
		Why: "rolls back to the felhom snapshot after a failure"}}
	a.event(Event{Kind: EventStep, Detail: "roll back to " + a.snapshot})
	t0 := a.opts.Clock.Now()
	upid, rerr := a.api.RollbackSnapshot(sctx, a.cp.Node, a.cp.VMID, a.snapshot, a.cp.Running)
	if rerr == nil {
		rerr = a.await(sctx, upid, rb)
	}
	rb.Duration = a.opts.Clock.Now().Sub(t0)
	a.cr.Rollback = rb
	if rerr != nil {
		rb.fail(rerr)
		a.halfDone()
		a.cr.Error += "; rollback to " + a.snapshot + " failed: " + rerr.Error()
		return
	}
	rb.Status = StepApplied
	a.cr.RolledBack = true
	a.cr.Error += "; rolled back to " + a.snapshot
}

// fail marks the step failed with err, and with the task's exit status and
// log tail when err is a failed task.
func (sr *StepResult) fail(err error) {
	sr.Status, sr.Error = StepFailed, err.Error()
	var te *pve.TaskError
	if errors.As(err, &te) {
		sr.ExitStatus, sr.LogTail = te.ExitStatus, te.LogTail
	}
}
