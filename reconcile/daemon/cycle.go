package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/render"
	"github.com/felhom/felhom/spec"
)

// Cycle runs one cycle of kind: fetch the source; load and validate a new
// revision (an invalid one is reported and the last good one stays); pick
// the containers to plan (selectWork); plan them and, in apply mode, apply
// the plan (reconcile.Run); record per container what happened. It returns
// the cycle's record, which Status lists too.
func (l *Loop) Cycle(ctx context.Context, kind Kind) CycleRecord {
	l.cycle.Lock()
	defer l.cycle.Unlock()
	now := l.opts.Clock.Now()
	rec := CycleRecord{Kind: kind, Started: now}
	l.mu.Lock()
	l.st.cycleStart = now
	l.mu.Unlock()
	defer func() {
		rec.Duration = l.opts.Clock.Now().Sub(rec.Started)
		l.mu.Lock()
		l.st.cycleStart = time.Time{}
		l.st.addCycle(rec)
		l.mu.Unlock()
		l.logCycle(rec)
		if m := l.opts.Metrics; m != nil {
			m.cycle(rec)
			l.mu.Lock()
			st := l.st.snapshot()
			l.mu.Unlock()
			m.status(st)
		}
	}()

	if kind == KindResync {
		l.api.reset()
	}
	if err := l.refresh(ctx, &rec); err != nil {
		rec.Result, rec.Error = ResultError, err.Error()
		if rec.Revision == "" {
			return rec
		}
	}
	l.mu.Lock()
	rec.Revision = l.st.good
	todo := l.st.selectWork(kind, now)
	l.mu.Unlock()
	if rec.Revision == "" {
		return rec
	}
	if len(todo) == 0 {
		if rec.Result == "" {
			rec.Result = ResultIdle
		}
		return rec
	}
	took := l.cts.tryAcquire(todo)
	defer l.cts.release(took)

	l.mu.Lock()
	specs := make([]spec.Container, 0, len(took))
	for _, id := range took {
		specs = append(specs, *l.st.cts[id].spec)
	}
	busy := len(todo) - len(took)
	for _, id := range todo {
		if !contains(took, id) {
			l.st.cts[id].dirty = true // busy with other work: next cycle
		}
	}
	l.mu.Unlock()
	if busy > 0 {
		l.log.Info("containers busy; left for the next cycle", "revision", rec.Revision, "count", busy)
	}

	run, err := reconcile.Run(ctx, l.api, &reconcile.Specs{Containers: specs, Revision: rec.Revision}, l.runOptions(rec.Revision, now))
	if err != nil {
		l.mu.Lock()
		l.st.status.Reachable = false
		for _, id := range took {
			l.st.cts[id].dirty = true
		}
		l.mu.Unlock()
		rec.Result, rec.Error = ResultError, err.Error()
		return rec
	}
	done := l.opts.Clock.Now()
	m := l.opts.Metrics
	if m != nil && run.Result != nil && !run.Declined {
		m.applied(run.Result)
	}
	results := map[int]*reconcile.ContainerResult{}
	if run.Result != nil {
		for i := range run.Result.Containers {
			results[run.Result.Containers[i].VMID] = &run.Result.Containers[i]
		}
	}
	l.mu.Lock()
	l.st.status.Reachable = true
	for _, cp := range run.Plan.Containers {
		c := l.st.cts[cp.VMID]
		if c == nil {
			continue
		}
		rec.Planned = append(rec.Planned, cp.VMID)
		cr := results[cp.VMID]
		if run.Declined {
			cr = nil
		}
		if c.record(rec.Revision, l.opts.Mode, cp, cr, done, l.backoff) {
			rec.Failed = append(rec.Failed, cp.VMID)
			if m != nil {
				m.failed(c.Failure)
			}
		}
		if cr != nil && cr.Outcome == reconcile.OutcomeApplied {
			rec.Changed = append(rec.Changed, cp.VMID)
		}
		l.logContainer(rec.Revision, c, cp, cr)
	}
	l.mu.Unlock()
	if rec.Result == "" {
		rec.Result = ResultOK
		if len(rec.Failed) > 0 {
			rec.Result = ResultFailed
		}
	}
	return rec
}

// refresh fetches the source and, when its revision is new, loads it: a
// valid one becomes the revision in force, an invalid one is recorded and
// logged. rec.Result is set to ResultInvalid for an invalid one.
func (l *Loop) refresh(ctx context.Context, rec *CycleRecord) error {
	rev, err := l.opts.Source.Fetch(ctx)
	now := l.opts.Clock.Now()
	if m := l.opts.Metrics; m != nil {
		m.fetch(err, now)
	}
	l.mu.Lock()
	rec.Revision = l.st.good
	if err != nil {
		l.st.status.FetchError = err.Error()
		l.mu.Unlock()
		l.log.Error("source fetch failed; the last good revision stays", "source", l.opts.Source.String(), "revision", rec.Revision, "error", err)
		return fmt.Errorf("fetch %s: %w", l.opts.Source, err)
	}
	l.st.status.FetchError, l.st.status.LastFetch = "", now
	same := rev.ID != "" && (rev.ID == l.st.good || l.st.status.Invalid != nil && l.st.status.Invalid.Revision == rev.ID)
	l.mu.Unlock()
	if same {
		return nil
	}
	specs, err := reconcile.Load(reconcile.Source{FS: rev.FS, Root: ".", Revision: rev.ID})
	var inv *spec.InvalidError
	if errors.As(err, &inv) {
		id := rev.ID
		if id == "" {
			id = "(unnamed)"
		}
		ir := &InvalidRevision{Revision: id, Since: now}
		for _, d := range inv.Diagnostics {
			if d.Severity == spec.SeverityError {
				ir.Errors = append(ir.Errors, d.String())
				l.log.Error("invalid revision: not applied", "revision", id, "last_good", rec.Revision, "diagnostic", d.String())
			}
		}
		l.mu.Lock()
		l.st.status.Invalid = ir
		l.mu.Unlock()
		rec.Result, rec.Error = ResultInvalid, err.Error()
		return nil
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", rev.ID, err)
	}
	l.mu.Lock()
	changed := l.st.adopt(specs.Revision, rev.Time, specs.Containers)
	l.st.status.Invalid = nil
	rec.Revision = specs.Revision
	l.mu.Unlock()
	l.log.Info("new revision", "revision", specs.Revision, "containers", len(specs.Containers), "changed", changed)
	return nil
}

// runOptions are reconcile.Run's options for a cycle on rev at now: plan
// mode declines every plan, so nothing is applied.
func (l *Loop) runOptions(rev string, now time.Time) reconcile.RunOptions {
	ao := l.opts.Apply
	ao.Progress = render.LogProgress{Log: l.log.With("revision", rev)}
	ro := reconcile.RunOptions{
		Plan:  reconcile.PlanOptions{ObserveOptions: reconcile.ObserveOptions{Concurrency: ao.Concurrency}, Now: now, Preflight: true},
		Apply: ao,
		// Observed: PVE answered (readiness), before the apply.
		Planned: func(*plan.Plan) error {
			l.mu.Lock()
			l.st.status.Reachable = true
			l.mu.Unlock()
			return nil
		},
	}
	if l.opts.Mode == ModePlan {
		ro.Confirm = func(context.Context, *plan.Plan) (bool, error) { return false, nil }
	}
	return ro
}

// Status is the daemon's state now.
func (l *Loop) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.snapshot()
}

func (l *Loop) logCycle(rec CycleRecord) {
	attrs := []any{"kind", string(rec.Kind), "revision", rec.Revision, "result", string(rec.Result),
		"planned", len(rec.Planned), "changed", len(rec.Changed), "failed", len(rec.Failed), "duration", rec.Duration.String()}
	if rec.Error != "" {
		l.log.Warn("cycle", append(attrs, "error", rec.Error)...)
		return
	}
	l.log.Info("cycle", attrs...)
}

func (l *Loop) logContainer(rev string, c *ct, cp plan.ContainerPlan, cr *reconcile.ContainerResult) {
	attrs := []any{"revision", rev, "vmid", c.VMID, "name", c.Name, "state", string(c.State)}
	if len(c.Drift) > 0 {
		verb := "drift found"
		switch {
		case c.DriftPolicy == string(spec.DriftReport):
			verb = "drift reported"
		case cr != nil && cr.Outcome == reconcile.OutcomeApplied:
			verb = "drift reverted"
		}
		l.log.Warn(verb, append(attrs, "paths", c.Drift, "policy", c.DriftPolicy)...)
	}
	switch {
	case cr != nil && cr.Outcome == reconcile.OutcomeApplied:
		l.log.Info("applied", append(attrs, "steps", len(cr.Steps), "snapshot", cr.Snapshot)...)
	case c.Error != "":
		l.log.Log(context.Background(), levelOf(c.State), "not reconciled", append(attrs, "error", c.Error, "failures", c.Failures)...)
	case cp.Status == plan.StatusChanges:
		l.log.Info("changes planned, not applied (mode: plan)", append(attrs, "steps", len(cp.Steps))...)
	}
}

func levelOf(s State) slog.Level {
	if s == StateBlocked || s == StateMissing {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// specHash names a container's spec by its content, defaults applied.
func specHash(c *spec.Container) string {
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func contains(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
