package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/render"
)

// actionFunc carries out one step of its action kind on the applier's
// container. ctx is the step's own (see step); st.Params are the step's
// parameters; sr receives the task's UPID, exit status and warnings. A step
// that decides not to act sets sr.Status and sr.Error and returns nil.
type actionFunc func(a *applier, ctx context.Context, st plan.Step, sr *StepResult) error

// actions is how apply carries out each action kind: a new kind is one entry
// here and its function below. Every plan.Action has one (TestEveryActionRuns).
var actions = map[plan.Action]actionFunc{
	plan.ActionVzdump:        (*applier).vzdump,
	plan.ActionSnapshot:      (*applier).snapshotStep,
	plan.ActionResize:        (*applier).resize,
	plan.ActionSetConfig:     (*applier).setConfig,
	plan.ActionPctSet:        (*applier).pctSet,
	plan.ActionReboot:        (*applier).reboot,
	plan.ActionStart:         (*applier).startStep,
	plan.ActionShutdown:      (*applier).shutdownStep,
	plan.ActionSnapshotPrune: (*applier).snapshotPrune,
	plan.ActionPrune:         (*applier).prune,
	plan.ActionCreate:        (*applier).createCT,
	plan.ActionRestore:       (*applier).createCT,
}

// step runs one step with a context that Ctrl-C does not cut: the task it
// starts is awaited to its end.
func (a *applier) step(ctx context.Context, st plan.Step, sr *StepResult) error {
	fn, ok := actions[st.Action]
	if !ok {
		return fmt.Errorf("unknown action %v", st.Action)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.StepTimeout)
	defer cancel()
	return fn(a, sctx, st, sr)
}

// snapshotStep takes the felhom snapshot, the plan as its description.
func (a *applier) snapshotStep(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp := a.cp
	name := st.Params["snapname"]
	err := a.retryLocked(ctx, func() error {
		upid, err := a.api.CreateSnapshot(ctx, cp.Node, cp.VMID, name, render.Describe(a.plan, cp))
		if err == nil {
			err = a.await(ctx, upid, sr)
		}
		return err
	})
	if noAnswer(err) {
		err = a.snapshotThere(ctx, name, err)
	}
	if err != nil {
		return err
	}
	a.snapshot, a.cr.Snapshot = name, name
	// A snapshot sets "parent" (and, while it runs, "lock").
	return a.reread(ctx, "parent")
}

// snapshotThere finds out from PVE what a snapshot call whose answer was
// lost left (issue 10 item 13): once the container is unlocked (the task's
// lock gone), a snapshot of that name that is not half-made is complete and
// the step succeeded; one still there otherwise is reported. It returns nil
// when the snapshot is complete, else the error to report.
func (a *applier) snapshotThere(ctx context.Context, name string, callErr error) error {
	if _, err := a.waitUnlocked(ctx); err != nil {
		return a.orphan(ctx, name, callErr)
	}
	snaps, err := a.api.Snapshots(ctx, a.cp.Node, a.cp.VMID)
	if err != nil {
		return fmt.Errorf("%w; whether the snapshot was made is unknown: %v", callErr, err)
	}
	for _, s := range snaps {
		if s.Name == name && s.SnapState == "" {
			a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("snapshot %s: PVE's answer was lost (%v); the snapshot list shows it complete", name, callErr))
			return nil
		}
	}
	return a.orphan(ctx, name, callErr)
}

// orphan reports a felhom snapshot PVE has although its call failed.
func (a *applier) orphan(ctx context.Context, name string, callErr error) error {
	snaps, err := a.api.Snapshots(ctx, a.cp.Node, a.cp.VMID)
	if err == nil {
		for _, s := range snaps {
			if s.Name == name {
				a.cr.Snapshot = name
				return fmt.Errorf("%w; snapshot %s is on the container (state %q) though its call failed; delete it once it is no longer needed", callErr, name, s.SnapState)
			}
		}
	}
	return callErr
}

// resize grows one volume.
func (a *applier) resize(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp, p := a.cp, st.Params
	var upid pve.UPID
	err := a.write(ctx, func() (err error) {
		upid, err = a.api.Resize(ctx, cp.Node, cp.VMID, p["disk"], p["size"], a.digest)
		return err
	})
	if err != nil {
		return err
	}
	if err := a.await(ctx, upid, sr); err != nil {
		return err
	}
	return a.reread(ctx, p["disk"])
}

// setConfig writes the step's keys in one config PUT.
func (a *applier) setConfig(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp := a.cp
	ch := configChange(st.Params)
	var upid *pve.UPID
	err := a.write(ctx, func() (err error) {
		ch.Digest = a.digest
		upid, err = a.api.SetConfig(ctx, cp.Node, cp.VMID, ch)
		return err
	})
	if err != nil {
		return err
	}
	if upid != nil {
		if err := a.await(ctx, *upid, sr); err != nil {
			return err
		}
	}
	return nil
}

// reboot reboots the running container so PVE applies its pending changes,
// unless the restart window closed since the plan.
func (a *applier) reboot(ctx context.Context, _ plan.Step, sr *StepResult) error {
	cp := a.cp
	if why := a.windowClosed(); why != "" {
		sr.Error = "the restart window is closed"
		a.cr.Warnings = append(a.cr.Warnings, why)
		return nil
	}
	// PVE's vm_reboot checks no lock (pve-container LXC.pm): felhom does,
	// so a reboot never cuts a backup or snapshot short (issue 10 item 12).
	cur, err := a.waitUnlocked(ctx)
	if err != nil {
		return err
	}
	if others := a.othersPending(cur); len(others) > 0 {
		a.cr.Warnings = append(a.cr.Warnings, "the reboot also applies pending changes felhom did not make: "+strings.Join(others, ", "))
	}
	upid, err := a.api.Reboot(ctx, cp.Node, cp.VMID)
	if noAnswer(err) && a.restartedAnyway(ctx) {
		// The answer was lost, but PVE rebooted: nothing is pending any
		// more (issue 10 item 13).
		a.rebooted, a.rebootSent = true, true
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("reboot: PVE's answer was lost (%v); the config read back shows the pending changes applied", err))
		return nil
	}
	if err != nil {
		// PVE refuses to reboot a stopped container. The plan saw it
		// running; whether it stopped since is read from its status
		// (one call, only after a refusal), not from the message.
		if st, serr := a.api.CurrentStatus(ctx, cp.Node, cp.VMID); serr == nil && st.Status == "stopped" {
			// PVE took every change at once; the read-back checks it.
			sr.Status, sr.Error = StepUnchanged, "the container is stopped"
			return nil
		}
		return err
	}
	a.rebootSent = true
	if err := a.await(ctx, upid, sr); err != nil {
		return err
	}
	a.rebooted = true
	return nil
}

// othersPending lists the keys p holds pending that no change of the plan
// names: someone else's, which PVE applies with felhom's reboot.
func (a *applier) othersPending(p pve.PendingConfig) []string {
	mine := map[string]bool{}
	for _, ch := range a.cp.Changes {
		key, _, _ := strings.Cut(ch.Path, ".")
		mine[key] = true
	}
	var out []string
	for _, e := range p.Entries {
		if (e.Pending != nil || e.Delete != 0) && !mine[e.Key] {
			out = append(out, e.Key)
		}
	}
	return out
}

// restartedAnyway reports whether a reboot whose answer was lost took
// place: the keys the plan left for a restart are pending no more.
func (a *applier) restartedAnyway(ctx context.Context) bool {
	p, err := a.readConfig(ctx)
	if err != nil {
		return false
	}
	waiting := 0
	for _, ch := range a.cp.Changes {
		if !ch.Class.NeedsRestart() {
			continue
		}
		waiting++
		key, _, _ := strings.Cut(ch.Path, ".")
		if e, _ := p.Get(key); e.Pending != nil || e.Delete != 0 {
			return false
		}
	}
	return waiting > 0
}

// snapshotPrune deletes one felhom snapshot beyond the retention.
func (a *applier) snapshotPrune(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp, p := a.cp, st.Params
	err := a.retryLocked(ctx, func() error {
		upid, err := a.api.DeleteSnapshot(ctx, cp.Node, cp.VMID, p["snapname"], false)
		if err == nil {
			err = a.await(ctx, upid, sr)
		}
		return err
	})
	if errors.Is(err, pve.ErrNotFound) {
		// Someone deleted it already (PVE says so in the call or in
		// its task): nothing is left to do.
		sr.Status, sr.Error = StepUnchanged, "already gone"
		return nil
	}
	if err != nil {
		var te *pve.TaskError
		if errors.As(err, &te) {
			a.reportLock(ctx)
		}
		return err
	}
	if p["snapname"] == a.snapshot {
		a.cr.Snapshot = ""
		a.cr.Warnings = append(a.cr.Warnings, "snapshot "+a.snapshot+" deleted after success (snapshot policy keep: 0)")
	}
	return nil
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
		if ch.Class.NeedsRestart() {
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
