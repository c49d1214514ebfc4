package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
)

// The power step: a start or a clean shutdown for the spec's power, after
// the writes are verified (pve-container API2/LXC/Status.pm vm_start,
// vm_shutdown). It is no part of the config change: when it fails, the
// verified writes stay (DESIGN.md rule 7 rolls back only a change that
// failed).

// startStep starts the stopped container (spec power: running).
func (a *applier) startStep(ctx context.Context, _ plan.Step, sr *StepResult) error {
	return a.power(ctx, sr, true)
}

// shutdownStep shuts the running container down cleanly (spec power:
// stopped): PVE's own timeout, no forceStop, never a hard stop.
func (a *applier) shutdownStep(ctx context.Context, _ plan.Step, sr *StepResult) error {
	return a.power(ctx, sr, false)
}

// runState is a run state as PVE's status spells it.
func runState(running bool) string {
	if running {
		return "running"
	}
	return "stopped"
}

// power starts (run) or shuts down the container, waits for its task and
// reads the run state back.
func (a *applier) power(ctx context.Context, sr *StepResult, run bool) error {
	cp := a.cp
	// PVE's start and shutdown workers refuse a locked container
	// (check_lock): felhom waits the lock out first (rule 4).
	if _, err := a.waitUnlocked(ctx); err != nil {
		return err
	}
	call, want := a.api.Shutdown, runState(run)
	if run {
		call = a.api.Start
	}
	upid, err := call(ctx, cp.Node, cp.VMID)
	if err != nil {
		// PVE refuses to start a running container and to shut down a
		// stopped one before it forks. Whether the container got there
		// since the plan is read from its status (one call, only after a
		// refusal), not from the message.
		if st, serr := a.api.CurrentStatus(ctx, cp.Node, cp.VMID); serr == nil && st.Status == want {
			sr.Status, sr.Error = StepUnchanged, "already "+want
			a.powered, a.started = &run, run
			return nil
		}
		return err
	}
	if err := a.await(ctx, upid, sr); err != nil {
		return err
	}
	// vm_start applied what was pending before it started the container.
	a.started = run
	st, err := a.api.CurrentStatus(ctx, cp.Node, cp.VMID)
	if err != nil {
		return fmt.Errorf("read back the run state: %w: %w", errUnverified, err)
	}
	if st.Status != want {
		return fmt.Errorf("verify: %w: the container is %s after its %s task ended %s", errMismatch, st.Status, upid.Type, sr.ExitStatus)
	}
	a.powered = &run
	return nil
}

// verifyBeforePower verifies the writes before the power step, so that the
// power step's failure is never taken for a failed change.
func (a *applier) verifyBeforePower(ctx context.Context) error {
	if a.verified || !(a.wrote || a.rebooted) {
		return nil
	}
	return a.verify(ctx)
}

// powerFailed ends the container after its start or shutdown failed: the
// writes before it were verified, so they stay (no rollback, whatever the
// failure policy) and their baseline is kept; the report says so, with the
// task's exit status and log tail in the step.
func (a *applier) powerFailed(ctx context.Context, i int, st plan.Step, err error) {
	a.cr.Outcome, a.cr.Failure = OutcomeFailed, failureOf(err)
	a.cr.Error = fmt.Sprintf("step %d (%s): %v; the container is not %s as the spec says", i+1, st.Action.Token(), err, runState(st.Action == plan.ActionStart))
	if !(a.wrote || a.rebooted) {
		return
	}
	a.cr.Warnings = append(a.cr.Warnings, "the writes before the "+st.Action.Token()+" landed and were verified: they stay, not rolled back (a failed start or shutdown is no failure of the config change)")
	if p, rerr := a.readConfig(ctx); rerr == nil {
		a.cur = p // a failed start may have applied what was pending
	}
	a.verified = true
	a.recordBaseline(ctx)
}

// runningAfter is the run state the baseline records: the power step's,
// else the plan's.
func (a *applier) runningAfter() bool {
	if a.powered != nil {
		return *a.powered
	}
	return a.cp.Running
}

// recordPower keeps the run state a power step left in the baseline when
// the apply took no snapshot of its own (a start that applied nothing, a
// shutdown): only the power path of the newest felhom snapshot's baseline
// is rewritten, so a later hand start or stop is drift. Nothing is kept
// when no felhom snapshot has a baseline yet.
func (a *applier) recordPower(ctx context.Context) {
	snaps, err := a.api.Snapshots(ctx, a.cp.Node, a.cp.VMID)
	if err != nil {
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("the run state is not kept in the baseline (%v); a later plan may mark power as drift wrongly", err))
		return
	}
	s, b := latestBaselineSnapshot(snaps)
	if b == nil {
		return
	}
	b[diff.PowerPath] = runState(*a.powered)
	if a.cr.Baseline != nil {
		a.cr.Baseline[diff.PowerPath] = b[diff.PowerPath]
	}
	summary := strings.TrimRight(s.Description, "\r\n \t")
	summary = summary[:strings.LastIndexByte(summary, '\n')+1]
	if err := a.api.UpdateSnapshotDescription(ctx, a.cp.Node, a.cp.VMID, s.Name, SnapshotDescription(summary, b)); err != nil {
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("the run state is not kept in snapshot %s (%v); a later plan may mark power as drift wrongly", s.Name, err))
	}
}
