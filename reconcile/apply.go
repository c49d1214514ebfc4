package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// Defaults for Options.
const (
	DefaultLockWait    = 5 * time.Minute
	DefaultLockPoll    = 2 * time.Second
	DefaultStepTimeout = 30 * time.Minute
)

// Options tune Apply. The zero value is usable.
type Options struct {
	// Concurrency bounds how many containers are worked on at once
	// (default DefaultConcurrency).
	Concurrency int
	// Clock is read for durations and slept on while waiting for locks
	// (default SystemClock).
	Clock Clock
	// LockWait bounds how long apply waits for a container's lock to go
	// before it gives up on that container (default DefaultLockWait);
	// LockPoll is how often it looks (default DefaultLockPoll).
	LockWait, LockPoll time.Duration
	// StepTimeout bounds one step, its task wait included (default
	// DefaultStepTimeout). Cancelling Apply's context does not cut a step
	// short: the running task is awaited so no lock is left behind.
	StepTimeout time.Duration
	// OnFailure, when set, overrides every container's policy for a
	// failure after the snapshot (felhom apply --on-failure). Empty: each
	// container's own, plan.ContainerPlan.OnFailure (the spec's
	// snapshot.on-failure), and spec.OnFailureRollback for a plan that has
	// none.
	OnFailure spec.OnFailure
	// Progress receives events as apply goes; nil reports nothing.
	Progress Progress
	// Specs, when set, are the specs the plan was made from; for each
	// container applied, ContainerResult.Baseline is computed from them.
	Specs []spec.Container
	// Preflight, when set, reads the token's privileges once before any
	// container is touched: a container whose plan needs a privilege the
	// token lacks fails before its first step (no snapshot), naming it.
	Preflight bool
	// Privileged carries the plan's pct-set steps; nil refuses every
	// container that has one, before it is touched.
	Privileged Privileged
	// ReadSecret reads the root password of a create from the file the
	// plan names (default ReadSecretFile), right before the create.
	ReadSecret func(path string) (pve.Secret, error)
}

// Apply carries out p: every container with status "changes" has its steps
// run in order, at most Options.Concurrency containers at once, taken in
// nodeOrder (spread over the nodes, as PVE serves a few calls at a time per
// node); all others are reported and not touched. It always returns a result for every
// container in p, also when some fail or ctx is cancelled.
func Apply(ctx context.Context, api API, p *plan.Plan, opts Options) *Result {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.LockWait <= 0 {
		opts.LockWait = DefaultLockWait
	}
	if opts.LockPoll <= 0 {
		opts.LockPoll = DefaultLockPoll
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = DefaultStepTimeout
	}
	specs := map[int]*spec.Container{}
	for i := range opts.Specs {
		specs[opts.Specs[i].Spec.VMID] = &opts.Specs[i]
	}
	res := &Result{Started: opts.Clock.Now(), Containers: make([]ContainerResult, len(p.Containers))}
	var lacks map[int][]string
	if opts.Preflight {
		lacks = preflightRefusals(ctx, api, p)
	}
	dup := map[int]bool{}
	for _, vmid := range p.Duplicates() {
		dup[vmid] = true
	}
	forEachSpread(len(p.Containers), opts.Concurrency, func(i int) string { return p.Containers[i].Node }, func(i int) {
		cp := p.Containers[i]
		a := &applier{api: api, opts: opts, cp: &cp, spec: specs[cp.VMID], plan: p, onFailure: failurePolicy(opts.OnFailure, cp.OnFailure),
			lacks: lacks[cp.VMID], duplicate: dup[cp.VMID]}
		res.Containers[i] = a.run(ctx)
	})
	res.Finished = opts.Clock.Now()
	res.Cancelled = ctx.Err() != nil
	return res
}

// applier works on one container.
type applier struct {
	api  API
	opts Options
	plan *plan.Plan
	cp   *plan.ContainerPlan
	spec *spec.Container
	cr   ContainerResult
	// onFailure is this container's failure policy (failurePolicy).
	onFailure spec.OnFailure
	// duplicate: the plan lists this vmid more than once.
	duplicate bool
	// lacks lists the privileges the preflight found missing: the
	// container is refused before its first step.
	lacks []string

	// digest is what the next write carries; cur the config it belongs to.
	digest string
	cur    pve.PendingConfig
	// start is the config read before the first step (its digest the
	// plan's): what a rollback must find unchanged apart from felhom's own
	// keys (issue 10 item 3).
	start pve.PendingConfig
	// snapshot is the felhom snapshot taken ("" until then); wrote is true
	// once one of felhom's writes has landed (judged from PVE's answer and
	// the config read after it, never from having sent it); landed marks
	// the write steps that changed the container although they failed.
	snapshot string
	wrote    bool
	landed   map[int]bool
	rebooted bool
	// started: felhom's start ran, so PVE applied what was pending;
	// powered is the run state the power step left (nil until it ran).
	started bool
	powered *bool
	// rebootSent: PVE took felhom's reboot of the running container, so the
	// owner's run state is "running" whatever the reboot left.
	rebootSent bool
	// verified is set once the read-back matched the plan: later failures
	// (retention) leave the change in place.
	verified bool
	// folded marks step indexes done by another step's task.
	folded map[int]bool
}

func (a *applier) event(e Event) {
	if a.opts.Progress == nil {
		return
	}
	e.VMID, e.Name, e.Node = a.cp.VMID, a.cp.Name, a.cp.Node
	e.Steps = len(a.cp.Steps)
	a.opts.Progress.Report(e)
}

// run applies the container's plan and returns what happened, with the
// time it took on the Clock.
func (a *applier) run(ctx context.Context) ContainerResult {
	cp := a.cp
	start := a.opts.Clock.Now()
	a.cr = ContainerResult{Name: cp.Name, Node: cp.Node, VMID: cp.VMID, Steps: make([]StepResult, len(cp.Steps))}
	for i, s := range cp.Steps {
		a.cr.Steps[i] = StepResult{Step: s, Status: StepSkipped}
	}
	a.work(ctx)
	// Set here, not in a defer after "return a.cr": that return has
	// already copied the result.
	a.cr.Duration = a.opts.Clock.Now().Sub(start)
	a.event(Event{Kind: EventDone, Outcome: a.cr.Outcome, Err: a.cr.Error, Elapsed: a.cr.Duration})
	return a.cr
}

// work runs the container's steps under the safety rules and fills a.cr.
func (a *applier) work(ctx context.Context) {
	cp := a.cp
	switch cp.Status {
	case plan.StatusChanges:
	case plan.StatusUnchanged:
		a.cr.Outcome = OutcomeUnchanged
		return
	default:
		a.cr.Outcome, a.cr.Failure = OutcomeSkipped, FailureBlocked
		a.cr.Error = "planned as " + string(cp.Status)
		if len(cp.Blocked) > 0 {
			a.cr.Error += ": " + strings.Join(cp.Blocked, "; ")
		}
		return
	}
	if err := a.unsafe(); err != nil {
		// A plan is input, not trust (issue 10 item 14): refused before
		// any call.
		a.cr.Outcome, a.cr.Error, a.cr.Failure = OutcomeFailed, err.Error(), FailureUnsafe
		a.skipRest(0, "refused: the plan breaks a safety rule")
		return
	}
	if ctx.Err() != nil {
		a.cr.Outcome, a.cr.Error, a.cr.Failure = OutcomeSkipped, "cancelled before it started", FailureCancelled
		a.skipRest(0, "cancelled")
		return
	}
	if len(a.lacks) > 0 {
		a.cr.Outcome = OutcomeFailed
		a.cr.Error = "refused at preflight: the API token lacks " + strings.Join(a.lacks, ", ")
		a.skipRest(0, "refused at preflight")
		return
	}
	if err := a.privilegedReady(); err != nil {
		// Rule 9: refused loudly, before anything is read or written.
		a.cr.Outcome, a.cr.Error, a.cr.Failure = OutcomeFailed, err.Error(), FailurePermission
		a.skipRest(0, "refused: the privileged backend may not write here")
		return
	}
	a.event(Event{Kind: EventStart})

	a.landed = map[int]bool{}
	if !cp.Creates() {
		// Rules 3 and 4: wait for any lock to go, then the digest must be
		// the plan's. A container the plan creates has no config yet: its
		// create step asks PVE whether the vmid is still free.
		cur, err := a.waitUnlocked(ctx)
		if err != nil {
			a.cr.Outcome, a.cr.Error, a.cr.Failure = OutcomeFailed, err.Error(), failureOf(err)
			if ctx.Err() != nil {
				a.cr.Outcome, a.cr.Failure = OutcomeSkipped, FailureCancelled
			}
			a.skipRest(0, a.cr.Error)
			return
		}
		a.cur, a.start = cur, cur
		if a.cur.Digest != cp.Digest {
			a.cr.Outcome, a.cr.Failure = OutcomeStale, FailureStale
			a.cr.Error = fmt.Sprintf("config changed since the plan was made (digest %s, planned %s); re-plan", short(a.cur.Digest), short(cp.Digest))
			a.skipRest(0, "stale")
			return
		}
		a.digest = cp.Digest
	}
	a.folded = a.foldPrune()

	for i := 0; i < len(cp.Steps); i++ {
		st := cp.Steps[i]
		if a.folded[i] {
			continue
		}
		if ctx.Err() != nil {
			a.cr.Outcome, a.cr.Error, a.cr.Failure = OutcomeFailed, "cancelled", FailureCancelled
			a.skipRest(i, "cancelled")
			a.halfDone()
			return
		}
		if !a.verified && (a.wrote || a.rebooted || a.powered != nil) && st.Action.IsRetention() {
			// Retention comes after the change (writes, or a reboot that
			// made pending values current) is verified and kept.
			if err := a.settle(ctx); err != nil {
				a.fail(err)
				a.skipRest(i, "verification failed")
				return
			}
		}
		if st.Action.IsPower() {
			// The writes are verified first: the power step is no part
			// of the change, and its failure leaves them.
			if err := a.verifyBeforePower(ctx); err != nil {
				a.fail(err)
				a.skipRest(i, "verification failed")
				return
			}
		}
		sr := &a.cr.Steps[i]
		a.event(Event{Kind: EventStep, Step: i + 1, Detail: st.String()})
		t0 := a.opts.Clock.Now()
		before := a.cur
		err := a.step(ctx, st, sr)
		if err != nil && st.Action.Writes() {
			err = a.judgeWrite(ctx, i, st, before, err)
		}
		if err == nil && st.Action.Writes() {
			a.wrote = true
		}
		sr.Duration = a.opts.Clock.Now().Sub(t0)
		if err != nil {
			failStep(sr, err)
			a.skipRest(i+1, "an earlier step failed")
			if st.Action.IsPower() {
				a.powerFailed(ctx, i, st, err)
				return
			}
			if errors.Is(err, pve.ErrStaleDigest) || errors.Is(err, errMoved) {
				// Someone else changed the container: rolling back would
				// undo their change too, so felhom stops and reports.
				a.cr.Outcome, a.cr.Failure = OutcomeStale, FailureStale
				a.cr.Error = fmt.Sprintf("step %d (%s): %v; re-plan", i+1, st.Action.Token(), err)
				a.halfDone()
				return
			}
			a.fail(fmt.Errorf("step %d (%s): %w", i+1, st.Action.Token(), err))
			return
		}
		if sr.Status == StepSkipped && sr.Error == "" {
			// The step ran; one that decided not to act says why in
			// Error (a reboot whose window has closed).
			sr.Status = StepApplied
		}
		if st.Action.Creates() {
			if err := a.afterCreate(ctx); err != nil {
				a.skipRest(i+1, "the rest of the spec was not applied")
				a.fail(err)
				return
			}
		}
	}
	if !a.verified {
		if err := a.settle(ctx); err != nil {
			a.fail(err)
			return
		}
	}
	a.cr.Outcome = OutcomeApplied
}

// unsafe is the safety rule the container's plan breaks (plan.CheckSafety),
// or nil. With the spec at hand, a retention step must also carry exactly
// the spec's retention to the spec's backup storage.
func (a *applier) unsafe() error {
	if a.duplicate {
		return &plan.SafetyError{VMID: a.cp.VMID, Rule: plan.RuleOneEntry, Detail: "the container is listed more than once; two appliers would work on it at once"}
	}
	if err := a.cp.CheckSafety(); err != nil {
		return err
	}
	if a.spec == nil {
		return nil
	}
	var want, storage string
	if b := a.spec.Spec.Backup; b != nil {
		want, storage = diff.PruneBackups(b.Retention), b.Storage
	}
	for i, st := range a.cp.Steps {
		if st.Action == plan.ActionPrune && (want == "" || st.Params["prune-backups"] != want || st.Params["storage"] != storage) {
			return &plan.SafetyError{VMID: a.cp.VMID, Step: i + 1, Rule: plan.RuleRetention,
				Detail: fmt.Sprintf("the prune keeps %q on %s; the spec's retention is %q on %q", st.Params["prune-backups"], st.Params["storage"], want, storage)}
		}
	}
	return nil
}
