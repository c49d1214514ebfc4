package result

import (
	"time"

	"github.com/felhom/felhom/reconcile/plan"
)

// Outcome sums up what apply did to one container.
type Outcome string

// The outcomes.
const (
	// OutcomeApplied: every step ran and the read-back matched the plan.
	OutcomeApplied Outcome = "applied"
	// OutcomeUnchanged: the plan had nothing to do; the container was not
	// touched.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeSkipped: the container was not touched because the plan
	// blocked it (root-only, impossible, missing, unreadable) or apply was
	// cancelled before it started; Error says why.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeStale: the container's config moved since the plan was made
	// (its digest differs); felhom stopped for it. Re-plan.
	OutcomeStale Outcome = "stale"
	// OutcomeFailed: a step failed or the read-back did not match; Error,
	// the failed step's LogTail and RolledBack/HalfDone say what happened.
	OutcomeFailed Outcome = "failed"
)

// Failure is the kind of reason a container was not applied: a small,
// fixed set of values fit for a metric label. Error says the reason itself.
type Failure string

// The failure kinds. A failure is classified by the first that fits, in
// this order.
const (
	// FailureBlocked: the plan blocked the container (root-only,
	// impossible, missing, unreadable); apply did not touch it.
	FailureBlocked Failure = "blocked"
	// FailureCancelled: apply was cancelled before or while it worked on
	// the container.
	FailureCancelled Failure = "cancelled"
	// FailureTimeout: a step (its task wait included) ran past
	// reconcile.Options.StepTimeout.
	FailureTimeout Failure = "timeout"
	// FailureStale: the config moved since the plan was made, or between
	// felhom's own writes.
	FailureStale Failure = "stale"
	// FailureLocked: the container stayed locked (past reconcile.Options.LockWait,
	// or PVE kept answering that it is locked).
	FailureLocked Failure = "locked"
	// FailurePermission: PVE refused the token (403, or 401).
	FailurePermission Failure = "permission"
	// FailureTask: a PVE task ended with an error.
	FailureTask Failure = "task"
	// FailureVerify: the config read back did not match the plan.
	FailureVerify Failure = "verify"
	// FailureAPI: any other failed call to PVE (a refused request, the
	// network).
	FailureAPI Failure = "api"
	// FailureUnsafe: the plan breaks a safety rule (plan.CheckSafety: a
	// saved plan edited, or one container listed twice); apply refused the
	// container before any call.
	FailureUnsafe Failure = "unsafe"
)

// StepStatus says what happened to one step.
type StepStatus string

// The step statuses, past tense: results say what was done.
const (
	StepApplied   StepStatus = "applied"
	StepUnchanged StepStatus = "unchanged" // nothing needed doing (e.g. folded into another step's task)
	StepSkipped   StepStatus = "skipped"   // not run; Error says why
	StepFailed    StepStatus = "failed"
)

// Result is what Apply did, container by container. Partial results are
// results: every container of the plan has an entry, whatever happened to
// the others.
type Result struct {
	Started    time.Time         `json:"started"`
	Finished   time.Time         `json:"finished"`
	Containers []ContainerResult `json:"containers"`
	// Cancelled is true when apply was interrupted; containers not started
	// are skipped, a started one stopped after its running step.
	Cancelled bool `json:"cancelled"`
}

// ContainerResult is what apply did to one container.
type ContainerResult struct {
	Name    string  `json:"name"`
	Node    string  `json:"node"`
	VMID    int     `json:"vmid"`
	Outcome Outcome `json:"outcome"`
	// Error says why the container was skipped, stale or failed.
	Error string `json:"error,omitempty"`
	// Failure names the kind of that reason, for counting and branching
	// (a daemon's failures by kind); it is set whenever Error is.
	Failure Failure `json:"failure,omitempty"`
	// Snapshot is the felhom snapshot taken before the first write ("" when
	// none was taken).
	Snapshot string `json:"snapshot,omitempty"`
	// Steps are the plan's steps with what happened to each, in order.
	Steps []StepResult `json:"steps"`
	// RolledBack is true when a failure after the snapshot was rolled back
	// to it; Rollback holds that task.
	RolledBack bool        `json:"rolled_back"`
	Rollback   *StepResult `json:"rollback,omitempty"`
	// HalfDone lists, for a failure that was not rolled back, the steps
	// that changed the container before it.
	HalfDone []string `json:"half_done,omitempty"`
	// Pending lists the keys PVE holds pending after apply (waiting for a
	// restart the restart policy did not allow now).
	Pending []string `json:"pending,omitempty"`
	// Warnings are task warnings and notes for people.
	Warnings []string `json:"warnings,omitempty"`
	// Baseline is diff.Baseline of the spec read back once the change was
	// verified (only when reconcile.Options.Specs names the container). Apply keeps
	// it in the felhom snapshot's description, where Observe finds it, so
	// that later plans tell drift.
	Baseline map[string]string `json:"baseline,omitempty"`
	Duration time.Duration     `json:"duration"`
}

// StepResult is what happened to one step.
type StepResult struct {
	Step   plan.Step  `json:"step"`
	Status StepStatus `json:"status"`
	// UPID is the task the step started ("" for synchronous calls).
	UPID string `json:"upid,omitempty"`
	// ExitStatus is the task's exit status ("OK", "WARNINGS: 2", or the
	// error text).
	ExitStatus string `json:"exit_status,omitempty"`
	// Warnings are the task log's WARN: lines.
	Warnings []string `json:"warnings,omitempty"`
	// LogTail is the end of a failed task's log.
	LogTail  []string      `json:"log_tail,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
}

// Failed reports whether any container failed or went stale.
func (r *Result) Failed() bool {
	for _, c := range r.Containers {
		if c.Outcome == OutcomeFailed || c.Outcome == OutcomeStale {
			return true
		}
	}
	return false
}

// Count returns how many containers ended with each outcome.
func (r *Result) Count() map[Outcome]int {
	out := map[Outcome]int{}
	for _, c := range r.Containers {
		out[c.Outcome]++
	}
	return out
}
