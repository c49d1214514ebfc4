package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// OnFailure says what apply does when a step fails after the snapshot.
type OnFailure string

// The failure policies.
const (
	// RollbackOnFailure rolls the container back to the felhom snapshot
	// (and starts it again when it was running).
	RollbackOnFailure OnFailure = "rollback"
	// LeaveOnFailure leaves the container as the failure found it and
	// reports what is half-done.
	LeaveOnFailure OnFailure = "leave"
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
	// snapshot.on-failure), and RollbackOnFailure for a plan that has none.
	OnFailure OnFailure
	// Progress receives events as apply goes; nil reports nothing.
	Progress Progress
	// Specs, when set, are the specs the plan was made from; for each
	// container applied, ContainerResult.Baseline is computed from them.
	Specs []spec.Container
}

// Apply carries out p: every container with status "changes" has its steps
// run in order, at most Options.Concurrency containers at once; all others
// are reported and not touched. It always returns a result for every
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
	forEach(len(p.Containers), opts.Concurrency, func(i int) {
		cp := p.Containers[i]
		a := &applier{api: api, opts: opts, cp: &cp, spec: specs[cp.VMID], plan: p, onFailure: failurePolicy(opts.OnFailure, cp.OnFailure)}
		res.Containers[i] = a.run(ctx)
	})
	res.Finished = opts.Clock.Now()
	res.Cancelled = ctx.Err() != nil
	return res
}

// failurePolicy is the policy for one container: the override when given,
// else the container's own from the plan, else rollback.
func failurePolicy(override OnFailure, planned string) OnFailure {
	switch {
	case override != "":
		return override
	case planned == plan.OnFailureLeave:
		return LeaveOnFailure
	}
	return RollbackOnFailure
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
	onFailure OnFailure

	// digest is what the next write carries; cur the config it belongs to.
	digest string
	cur    pve.PendingConfig
	// snapshot is the felhom snapshot taken ("" until then); wrote is true
	// once a step has changed the container's config or volumes.
	snapshot string
	wrote    bool
	rebooted bool
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
		a.cr.Outcome = OutcomeSkipped
		a.cr.Error = "planned as " + string(cp.Status)
		if len(cp.Blocked) > 0 {
			a.cr.Error += ": " + strings.Join(cp.Blocked, "; ")
		}
		return
	}
	if ctx.Err() != nil {
		a.cr.Outcome, a.cr.Error = OutcomeSkipped, "cancelled before it started"
		a.skipRest(0, "cancelled")
		return
	}
	a.event(Event{Kind: EventStart})

	// Rules 3 and 4: wait for any lock to go, then the digest must be the
	// plan's.
	cur, err := a.waitUnlocked(ctx)
	if err != nil {
		a.cr.Outcome, a.cr.Error = OutcomeFailed, err.Error()
		if ctx.Err() != nil {
			a.cr.Outcome = OutcomeSkipped
		}
		a.skipRest(0, a.cr.Error)
		return
	}
	a.cur = cur
	if a.cur.Digest != cp.Digest {
		a.cr.Outcome = OutcomeStale
		a.cr.Error = fmt.Sprintf("config changed since the plan was made (digest %s, planned %s); re-plan", short(a.cur.Digest), short(cp.Digest))
		a.skipRest(0, "stale")
		return
	}
	a.digest = cp.Digest
	a.folded = a.foldPrune()

	for i, st := range cp.Steps {
		if a.folded[i] {
			continue
		}
		if ctx.Err() != nil {
			a.cr.Outcome, a.cr.Error = OutcomeFailed, "cancelled"
			a.skipRest(i, "cancelled")
			a.halfDone()
			return
		}
		if !a.verified && (a.wrote || a.rebooted) && st.Action > plan.ActionReboot {
			// Retention comes after the change (writes, or a reboot that
			// made pending values current) is verified and kept.
			if err := a.settle(ctx); err != nil {
				a.fail(err)
				a.skipRest(i, "verification failed")
				return
			}
		}
		sr := &a.cr.Steps[i]
		a.event(Event{Kind: EventStep, Step: i + 1, Detail: st.String()})
		t0 := a.opts.Clock.Now()
		err := a.step(ctx, i, st, sr)
		sr.Duration = a.opts.Clock.Now().Sub(t0)
		if err != nil {
			sr.fail(err)
			a.skipRest(i+1, "an earlier step failed")
			if errors.Is(err, pve.ErrStaleDigest) || errors.Is(err, errMoved) {
				// Someone else changed the container: rolling back would
				// undo their change too, so felhom stops and reports.
				a.cr.Outcome = OutcomeStale
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
	}
	if !a.verified {
		if err := a.settle(ctx); err != nil {
			a.fail(err)
			return
		}
	}
	a.cr.Outcome = OutcomeApplied
}

// settle ends the change once its steps ran: it reads the config back and
// verifies it when the container was written or rebooted (a reboot alone
// also changes the config: the pending values become current), then marks
// the change verified and records its baseline.
func (a *applier) settle(ctx context.Context) error {
	if a.wrote || a.rebooted {
		if err := a.verify(); err != nil {
			return err
		}
	}
	a.verified = true
	a.recordBaseline(ctx)
	return nil
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

// errMoved marks a config that changed under felhom between its own writes.
var errMoved = errors.New("config changed by someone else")

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
		if s.Status == StepApplied && s.Step.Action != plan.ActionSnapshot && s.Step.Action != plan.ActionVzdump {
			a.cr.HalfDone = append(a.cr.HalfDone, s.Step.String())
		}
	}
}

// fail ends the container after a failure: before any write nothing needs
// undoing; after it the policy decides between rollback and leaving it.
func (a *applier) fail(err error) {
	a.cr.Outcome, a.cr.Error = OutcomeFailed, err.Error()
	if a.verified {
		a.cr.Warnings = append(a.cr.Warnings, "the change itself is in place and verified; only a retention step failed")
		return
	}
	if !a.wrote {
		return
	}
	if a.snapshot == "" || a.onFailure != RollbackOnFailure {
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

// waitUnlocked reads the config until it carries no lock, up to LockWait,
// and returns it. It never removes a lock.
func (a *applier) waitUnlocked(ctx context.Context) (pve.PendingConfig, error) {
	deadline := a.opts.Clock.Now().Add(a.opts.LockWait)
	for {
		p, err := a.api.Pending(ctx, a.cp.Node, a.cp.VMID)
		if err != nil {
			return p, fmt.Errorf("read config: %w", err)
		}
		lock := lockOf(p)
		if lock == "" {
			return p, nil
		}
		if !a.opts.Clock.Now().Before(deadline) {
			return p, fmt.Errorf("still locked (%s) after %s; felhom does not remove locks it did not set", lock, a.opts.LockWait)
		}
		a.event(Event{Kind: EventWait, Detail: "waiting for lock " + lock})
		if err := a.opts.Clock.Sleep(ctx, a.opts.LockPoll); err != nil {
			return p, fmt.Errorf("waiting for lock %s: %w", lock, err)
		}
	}
}

func lockOf(p pve.PendingConfig) string {
	if e, ok := p.Get("lock"); ok && e.Value != nil {
		return *e.Value
	}
	return ""
}

// step runs one step with a context that Ctrl-C does not cut: the task it
// starts is awaited to its end.
func (a *applier) step(ctx context.Context, i int, st plan.Step, sr *StepResult) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.StepTimeout)
	defer cancel()
	cp, p := a.cp, st.Params
	switch st.Action {
	case plan.ActionVzdump:
		o := pve.VzdumpOptions{VMID: cp.VMID, Storage: p["storage"], Mode: p["mode"], Compress: p["compress"],
			NotesTemplate: p["notes-template"], PruneBackups: p["prune-backups"]}
		if r, ok := p["remove"]; ok {
			b := r == "1"
			o.Remove = &b
		}
		for j := range a.folded {
			// The retention of the same storage rides on this vzdump.
			o.PruneBackups = cp.Steps[j].Params["prune-backups"]
			t := true
			o.Remove = &t
		}
		upid, err := a.api.Vzdump(sctx, cp.Node, o)
		if err != nil {
			return err
		}
		if err := a.await(sctx, upid, sr); err != nil {
			return err
		}
		for j := range a.folded {
			a.cr.Steps[j].Status, a.cr.Steps[j].UPID, a.cr.Steps[j].ExitStatus = StepApplied, upid.String(), sr.ExitStatus
			a.cr.Steps[j].Error = ""
		}
		// A backup locks the config while it runs; the config must come
		// back as it was.
		return a.reread(sctx)

	case plan.ActionSnapshot:
		name := p["snapname"]
		upid, err := a.api.CreateSnapshot(sctx, cp.Node, cp.VMID, name, Describe(a.plan, cp))
		if err != nil {
			return err
		}
		if err := a.await(sctx, upid, sr); err != nil {
			return err
		}
		a.snapshot, a.cr.Snapshot = name, name
		// A snapshot sets "parent" (and, while it runs, "lock").
		return a.reread(sctx, "parent")

	case plan.ActionResize:
		a.wrote = true
		var upid pve.UPID
		err := a.write(sctx, func() (err error) {
			upid, err = a.api.Resize(sctx, cp.Node, cp.VMID, p["disk"], p["size"], a.digest)
			return err
		})
		if err != nil {
			return err
		}
		if err := a.await(sctx, upid, sr); err != nil {
			return err
		}
		return a.reread(sctx, p["disk"])

	case plan.ActionSetConfig:
		a.wrote = true
		ch := configChange(p)
		var upid *pve.UPID
		err := a.write(sctx, func() (err error) {
			ch.Digest = a.digest
			upid, err = a.api.SetConfig(sctx, cp.Node, cp.VMID, ch)
			return err
		})
		if err != nil {
			return err
		}
		if upid != nil {
			if err := a.await(sctx, *upid, sr); err != nil {
				return err
			}
		}
		return nil

	case plan.ActionReboot:
		if why := a.windowClosed(); why != "" {
			sr.Error = "the restart window is closed"
			a.cr.Warnings = append(a.cr.Warnings, why)
			return nil
		}
		upid, err := a.api.Reboot(sctx, cp.Node, cp.VMID)
		if err != nil {
			// PVE refuses to reboot a stopped container. The plan saw it
			// running; whether it stopped since is read from its status
			// (one call, only after a refusal), not from the message.
			if st, serr := a.api.CurrentStatus(sctx, cp.Node, cp.VMID); serr == nil && st.Status == "stopped" {
				// PVE took every change at once; the read-back checks it.
				sr.Status, sr.Error = StepUnchanged, "the container is stopped"
				return nil
			}
			return err
		}
		if err := a.await(sctx, upid, sr); err != nil {
			return err
		}
		a.rebooted = true
		return nil

	case plan.ActionSnapshotPrune:
		upid, err := a.api.DeleteSnapshot(sctx, cp.Node, cp.VMID, p["snapname"], false)
		if err == nil {
			err = a.await(sctx, upid, sr)
		}
		if errors.Is(err, pve.ErrNotFound) {
			// Someone deleted it already (PVE says so in the call or in
			// its task): nothing is left to do.
			sr.Status, sr.Error = StepUnchanged, "already gone"
			return nil
		}
		if err != nil {
			return err
		}
		if p["snapname"] == a.snapshot {
			a.cr.Snapshot = ""
			a.cr.Warnings = append(a.cr.Warnings, "snapshot "+a.snapshot+" deleted after success (snapshot policy keep: 0)")
		}
		return nil

	case plan.ActionPrune:
		// A prune with a vzdump to the same storage rode on it (foldPrune);
		// this one stands alone: PVE's own prune, for this container's
		// backups only, by the retention the plan carries.
		q, err := pruneQuery(cp.VMID, p)
		if err != nil {
			return err
		}
		upid, err := a.api.PruneBackups(sctx, cp.Node, p["storage"], q)
		if err != nil {
			return err
		}
		return a.await(sctx, upid, sr)
	}
	return fmt.Errorf("unknown action %v", st.Action)
}

// windowClosed is why the plan's reboot must not run now: it was planned
// because the restart window was open, and that window has closed since (a
// saved plan applied later, or a long apply). "" when the reboot may run.
// The window is asked about at the Clock's time, in its zone (the local one
// for SystemClock), as diff asked at plan time.
func (a *applier) windowClosed() string {
	w := a.cp.RestartWindow
	if w == nil {
		return ""
	}
	var waiting []string
	for _, ch := range a.cp.Changes {
		if ch.Class == plan.ClassPendingRestart || ch.Class == plan.ClassAwaitingRestart {
			waiting = append(waiting, ch.Path)
		}
	}
	open, next, err := w.Open(a.opts.Clock.Now())
	switch {
	case err != nil:
		return fmt.Sprintf("not rebooted: restart window %q: %v; pending until a restart: %s", w.Schedule, err, strings.Join(waiting, ", "))
	case open:
		return ""
	case next.IsZero():
		return fmt.Sprintf("not rebooted: restart window %q has closed since the plan and never opens again; pending until a restart: %s", w.Schedule, strings.Join(waiting, ", "))
	}
	return fmt.Sprintf("not rebooted: restart window %q has closed since the plan; pending until it opens at %s: %s",
		w.Schedule, next.UTC().Format(time.RFC3339), strings.Join(waiting, ", "))
}

// writeAttempts bounds how often a write is tried when PVE keeps finding the
// container locked.
const writeAttempts = 3

// write runs one config write. When PVE answers that the container is
// locked (a backup took the lock between felhom's read and its write), it
// waits the lock out, checks that nothing else changed meanwhile (which
// refreshes the digest the write carries) and tries again.
func (a *applier) write(ctx context.Context, fn func() error) error {
	for n := 1; ; n++ {
		err := fn()
		if !errors.Is(err, pve.ErrLocked) || n == writeAttempts {
			return err
		}
		if rerr := a.reread(ctx); rerr != nil {
			return rerr
		}
	}
}

// pruneQuery checks a prune step's parameters and turns them into PVE's
// prune call. Rule 8: the prune must name this container (without a vmid PVE
// prunes every guest's backups on the storage) and the spec's retention
// (without one PVE applies the storage's own). A plan read from a file is
// checked as strictly as one just made.
func pruneQuery(vmid int, p map[string]string) (pve.PruneQuery, error) {
	switch {
	case p["storage"] == "":
		return pve.PruneQuery{}, errors.New("prune backups: the step names no storage")
	case p["vmid"] != strconv.Itoa(vmid):
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: the step is for vmid %q, not this container's %d; felhom prunes only the container's own backups", p["storage"], p["vmid"], vmid)
	case p["type"] != "lxc":
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: the step is for type %q, not lxc", p["storage"], p["type"])
	case p["prune-backups"] == "":
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: the step carries no retention; felhom never prunes by the storage's own", p["storage"])
	}
	if _, err := prune.ParseOptions(p["prune-backups"]); err != nil {
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: %w", p["storage"], err)
	}
	return pve.PruneQuery{PruneBackups: p["prune-backups"], Type: "lxc", VMID: vmid}, nil
}

// foldPrune finds prune steps that the vzdump step can carry out itself
// (vzdump with prune-backups and remove=1 prunes that storage after the
// backup, as PVE's own backup jobs do).
func (a *applier) foldPrune() map[int]bool {
	out := map[int]bool{}
	var dumpStorage string
	for _, s := range a.cp.Steps {
		if s.Action == plan.ActionVzdump {
			dumpStorage = s.Params["storage"]
		}
	}
	if dumpStorage == "" {
		return out
	}
	for i, s := range a.cp.Steps {
		if s.Action != plan.ActionPrune || s.Params["storage"] != dumpStorage {
			continue
		}
		if _, err := pruneQuery(a.cp.VMID, s.Params); err == nil {
			// A prune the check refuses is not folded: it runs as its own
			// step and fails there, loudly.
			out[i] = true
			break
		}
	}
	return out
}

// configChange turns set-config parameters into a PUT.
func configChange(p map[string]string) pve.ConfigChange {
	ch := pve.ConfigChange{Set: map[string]string{}}
	for k, v := range p {
		switch k {
		case "delete":
			ch.Delete = format.SplitWords(v)
		case "revert":
			ch.Revert = format.SplitWords(v)
		case "digest":
		default:
			ch.Set[k] = v
		}
	}
	return ch
}

// await waits for a task and records its outcome in sr.
func (a *applier) await(ctx context.Context, upid pve.UPID, sr *StepResult) error {
	sr.UPID = upid.String()
	a.event(Event{Kind: EventTask, UPID: sr.UPID})
	tr, err := a.api.WaitTask(ctx, upid)
	if err != nil {
		return err
	}
	sr.ExitStatus = tr.ExitStatus
	if tr.Warnings > 0 {
		sr.Warnings = tr.WarningLines
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("%s ended with %s", upid.Type, tr.ExitStatus))
	}
	return nil
}

// reread reads the config after felhom's own write and takes its digest for
// the next write, but only when nothing changed apart from the keys that
// write touches: else someone else changed the container meanwhile.
func (a *applier) reread(ctx context.Context, touched ...string) error {
	p, err := a.waitUnlocked(ctx)
	if err != nil {
		return fmt.Errorf("read config back: %w", err)
	}
	skip := map[string]bool{}
	for _, k := range touched {
		skip[k] = true
	}
	if key, ok := sameExcept(a.cur, p, skip); !ok {
		return fmt.Errorf("%w: %s", errMoved, key)
	}
	a.cur, a.digest = p, p.Digest
	return nil
}

// sameExcept reports whether two reads of a config agree on every key not in
// skip; key names the first that differs.
func sameExcept(a, b pve.PendingConfig, skip map[string]bool) (key string, ok bool) {
	index := func(p pve.PendingConfig) map[string]pve.PendingEntry {
		m := make(map[string]pve.PendingEntry, len(p.Entries))
		for _, e := range p.Entries {
			if !skip[e.Key] {
				m[e.Key] = e
			}
		}
		return m
	}
	ma, mb := index(a), index(b)
	for k, ea := range ma {
		eb, found := mb[k]
		if !found || !sameEntry(ea, eb) {
			return k, false
		}
	}
	for k := range mb {
		if _, found := ma[k]; !found {
			return k, false
		}
	}
	return "", true
}

func sameEntry(a, b pve.PendingEntry) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.Value, b.Value) && eq(a.Pending, b.Pending) && a.Delete == b.Delete
}

// verify reads the config back after the writes (rule 6): every key set or
// deleted must be current when the plan said hot (or after the reboot), and
// pending when it said pending until restart; a reverted key has no pending
// change left; a resized volume has at least its new size.
func (a *applier) verify() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.StepTimeout)
	defer cancel()
	p, err := a.api.Pending(ctx, a.cp.Node, a.cp.VMID)
	if err != nil {
		return fmt.Errorf("verify: read config back: %w", err)
	}
	a.cur = p
	var problems []string
	for _, s := range a.cp.Steps {
		switch s.Action {
		case plan.ActionSetConfig:
			ch := configChange(s.Params)
			for k, v := range ch.Set {
				e, _ := p.Get(k)
				if a.pendingKey(k) {
					// Pending as planned, or already live: a container that
					// stopped since the plan takes every change at once.
					pendingOK := e.Pending != nil && sameValue(k, v, *e.Pending)
					liveOK := e.Pending == nil && e.Value != nil && sameValue(k, v, *e.Value)
					if !pendingOK && !liveOK {
						problems = append(problems, fmt.Sprintf("%s: want %q pending, found %s", k, v, show(e)))
					}
					continue
				}
				if e.Value == nil || e.Pending != nil || !sameValue(k, v, *e.Value) {
					problems = append(problems, fmt.Sprintf("%s: want %q live, found %s", k, v, show(e)))
				}
			}
			for _, k := range ch.Delete {
				e, found := p.Get(k)
				if a.pendingKey(k) {
					if e.Delete == 0 && (e.Value != nil || e.Pending != nil) {
						problems = append(problems, fmt.Sprintf("%s: want a pending delete, found %s", k, show(e)))
					}
					continue
				}
				if found && (e.Value != nil || e.Pending != nil) {
					problems = append(problems, fmt.Sprintf("%s: want it gone, found %s", k, show(e)))
				}
			}
			for _, k := range ch.Revert {
				if e, _ := p.Get(k); e.Pending != nil || e.Delete != 0 {
					problems = append(problems, fmt.Sprintf("%s: want no pending change, found %s", k, show(e)))
				}
			}
		case plan.ActionResize:
			disk := s.Params["disk"]
			want, werr := format.ParseDiskSize(s.Params["size"]) // "16G"; a bare number is bytes
			e, _ := p.Get(disk)
			got, ok := volumeSize(disk, e.Value)
			if werr == nil && (!ok || got < want) {
				problems = append(problems, fmt.Sprintf("%s: want size %s, found %s", disk, s.Params["size"], show(e)))
			}
		}
	}
	for _, e := range p.Entries {
		if e.Pending != nil || e.Delete != 0 {
			a.cr.Pending = append(a.cr.Pending, e.Key)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify: the config read back does not match the plan: %s", strings.Join(problems, "; "))
	}
	return nil
}

// pendingKey reports whether the plan expects PVE to hold key pending after
// apply: one of its changes needs a restart and no reboot ran.
func (a *applier) pendingKey(key string) bool {
	if a.rebooted {
		return false
	}
	for _, ch := range a.cp.Changes {
		if (ch.Path == key || strings.HasPrefix(ch.Path, key+".")) && ch.Class == plan.ClassPendingRestart {
			return true
		}
	}
	return false
}

func show(e pve.PendingEntry) string {
	var parts []string
	if e.Value != nil {
		parts = append(parts, fmt.Sprintf("current %q", *e.Value))
	}
	if e.Pending != nil {
		parts = append(parts, fmt.Sprintf("pending %q", *e.Pending))
	}
	if e.Delete != 0 {
		parts = append(parts, "pending delete")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// recordBaseline runs once the change is in place and verified: it records
// what the spec's fields read back as (ContainerResult.Baseline) and keeps
// it where the next plan finds it, in the description of the felhom
// snapshot taken before the change (SnapshotDescription; one PUT
// .../snapshot/{snapname}/config). Nothing is kept when no snapshot was
// taken (a vzdump stood in, or the snapshot policy takes none) or when the
// plan's own snapshot-prune deletes it. Without the specs (a saved plan)
// the older baseline is carried over (carriedBaseline). A write that fails
// is a warning: the change itself stands.
func (a *applier) recordBaseline(ctx context.Context) {
	var b map[string]string
	if a.spec != nil && a.cur.Digest != "" {
		l := &diff.Live{Node: a.cp.Node, VMID: a.cp.VMID, Running: a.cp.Running}
		fillPending(l, a.cur)
		b = diff.Baseline(a.spec, l)
		a.cr.Baseline = b
	}
	if a.snapshot == "" || a.prunes(a.snapshot) {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.StepTimeout)
	defer cancel()
	if b == nil {
		b = a.carriedBaseline(sctx)
	}
	desc := SnapshotDescription(Describe(a.plan, a.cp), b)
	err := a.api.UpdateSnapshotDescription(sctx, a.cp.Node, a.cp.VMID, a.snapshot, desc)
	if errors.Is(err, pve.ErrLocked) {
		// A backup took the lock meanwhile: wait it out once.
		if _, werr := a.waitUnlocked(sctx); werr == nil {
			err = a.api.UpdateSnapshotDescription(sctx, a.cp.Node, a.cp.VMID, a.snapshot, desc)
		}
	}
	if err != nil {
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("what was applied is not kept in snapshot %s (%v); later plans may mark drift wrongly on this container until its next apply", a.snapshot, err))
	}
}

// carriedBaseline is the baseline of an apply without the specs (a saved
// plan): the container's older baseline (one GET .../snapshot) without the
// paths this plan wrote, whose form after the write only the spec gives.
// Paths the plan did not write keep what felhom applied before, so a drift
// the policy left alone ("report") stays drift. Nothing known (no older
// baseline, or the list cannot be read) gives an empty one, which keeps an
// older baseline from speaking for the changed fields.
func (a *applier) carriedBaseline(ctx context.Context) map[string]string {
	out := map[string]string{}
	snaps, err := a.api.Snapshots(ctx, a.cp.Node, a.cp.VMID)
	if err != nil {
		return out
	}
	written := map[string]bool{}
	for _, s := range a.cp.Steps {
		switch s.Action {
		case plan.ActionSetConfig:
			ch := configChange(s.Params)
			for k := range ch.Set {
				written[k] = true
			}
			for _, k := range append(ch.Delete, ch.Revert...) {
				written[k] = true
			}
		case plan.ActionResize:
			written[s.Params["disk"]] = true
		}
	}
	for _, ch := range a.cp.Changes {
		// Only a reboot that ran (not one skipped for a closed window)
		// made the restart-bound changes current.
		if a.rebooted && (ch.Class == plan.ClassPendingRestart || ch.Class == plan.ClassAwaitingRestart) {
			written[configKey(ch.Path)] = true
		}
	}
	for path, v := range latestBaseline(snaps) {
		if !written[configKey(path)] {
			out[path] = v
		}
	}
	return out
}

// configKey is the config key a change path belongs to: "net0" for
// "net0.bridge", "memory" for "memory".
func configKey(path string) string {
	k, _, _ := strings.Cut(path, ".")
	return k
}

// prunes reports whether the plan's snapshot-prune steps delete the snapshot
// called name.
func (a *applier) prunes(name string) bool {
	for _, s := range a.cp.Steps {
		if s.Action == plan.ActionSnapshotPrune && s.Params["snapname"] == name {
			return true
		}
	}
	return false
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// Describe is the description of the felhom snapshot taken before changing
// cp: the plan for that container, as text PVE keeps with the snapshot.
func Describe(p *plan.Plan, cp *plan.ContainerPlan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "felhom: taken before applying its plan")
	if p != nil && p.SourceRevision != "" {
		fmt.Fprintf(&b, " for %s", p.SourceRevision)
	}
	if p != nil && !p.CreatedAt.IsZero() {
		fmt.Fprintf(&b, " (made %s)", p.CreatedAt.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	for _, ch := range cp.Changes {
		switch ch.Op {
		case plan.OpAdd:
			fmt.Fprintf(&b, "+ %s %s (%s)\n", ch.Path, ch.After, ch.Class)
		case plan.OpRemove:
			fmt.Fprintf(&b, "- %s %s (%s)\n", ch.Path, ch.Before, ch.Class)
		default:
			fmt.Fprintf(&b, "~ %s %s -> %s (%s)\n", ch.Path, ch.Before, ch.After, ch.Class)
		}
	}
	for i, s := range cp.Steps {
		fmt.Fprintf(&b, "%d. %s\n", i+1, s.String())
	}
	return strings.TrimRight(b.String(), "\n")
}
