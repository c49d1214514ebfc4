package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
)

// judgeWrite decides, after write step i failed with stepErr, whether any of
// it landed: from PVE's answer and the config read after it, never from
// having sent it (issue 10 items 1 and 13). before is the config the write
// was made on.
//
//   - The digest did not move (or only a lock came): PVE refused before it wrote (a 400, 403 or
//     500 before write_config, a resize task that failed before its config
//     update, a lock): nothing to undo, and no rollback.
//   - It moved, in keys the step does not touch: someone else wrote; the
//     step is stale (errMoved), never rolled back.
//   - It moved in the step's own keys only: felhom's write landed. When PVE
//     gave no answer at all (a reset, a timeout, a lost response) and the
//     read shows the whole write in place, the step succeeded; otherwise it
//     failed with its change on the container (half-done, or rolled back).
//
// When the config cannot be read, nothing can be told: a write PVE refused
// in so many words is taken as not landed, any other as landed.
func (a *applier) judgeWrite(ctx context.Context, i int, st plan.Step, before pve.PendingConfig, stepErr error) error {
	if errors.Is(stepErr, errMoved) {
		// Only the read after felhom's own accepted write says this.
		a.wrote, a.landed[i] = true, true
		return stepErr
	}
	p, err := a.readConfig(ctx)
	if err != nil {
		var ae *pve.APIError
		if !errors.As(stepErr, &ae) {
			a.wrote, a.landed[i] = true, true
		}
		return fmt.Errorf("%w; whether it landed is unknown: read config: %v", stepErr, err)
	}
	if _, same := sameEffective(before, p, map[string]bool{"parent": true, "lock": true}); p.Digest == before.Digest || same {
		// A lock taken meanwhile moves the digest too, but writes nothing.
		return stepErr
	}
	if key, ok := sameEffective(before, p, stepKeys(st)); !ok {
		if a.stepLanded(st, p) {
			a.wrote, a.landed[i] = true, true
		}
		return fmt.Errorf("%w: %s (after: %v)", errMoved, key, stepErr)
	}
	a.wrote, a.landed[i] = true, true
	if noAnswer(stepErr) && a.stepLanded(st, p) {
		a.cur, a.digest = p, p.Digest
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("step %d (%s): PVE's answer was lost (%v); the config read back shows the write in place", i+1, st.Action.Token(), stepErr))
		return nil
	}
	return stepErr
}

// stepKeys are the config keys a write step changes, and the ones a
// snapshot or lock may change beside it.
func stepKeys(st plan.Step) map[string]bool {
	skip := map[string]bool{"parent": true, "lock": true}
	switch st.Action {
	case plan.ActionResize:
		skip[st.Params["disk"]] = true
	case plan.ActionSetConfig:
		ch := configChange(st.Params)
		for k := range ch.Set {
			skip[k] = true
		}
		for _, k := range append(ch.Delete, ch.Revert...) {
			skip[k] = true
		}
	}
	return skip
}

// stepLanded reports whether the whole of a write step is in p: every key
// set (current or pending), deleted (gone or a pending delete), reverted;
// a resized volume at its new size or more.
func (a *applier) stepLanded(st plan.Step, p pve.PendingConfig) bool {
	switch st.Action {
	case plan.ActionResize:
		want, err := format.ParseDiskSize(st.Params["size"])
		e, _ := p.Get(st.Params["disk"])
		got, ok := volumeSize(st.Params["disk"], e.Value)
		return err == nil && ok && got >= want
	case plan.ActionSetConfig:
		ch := configChange(st.Params)
		for k, v := range ch.Set {
			e, _ := p.Get(k)
			if !(e.Pending != nil && diff.SameValue(k, v, *e.Pending)) && !(e.Pending == nil && e.Value != nil && diff.SameValue(k, v, *e.Value)) {
				return false
			}
		}
		for _, k := range ch.Delete {
			if e, _ := p.Get(k); e.Delete == 0 && (e.Value != nil || e.Pending != nil) {
				return false
			}
		}
		for _, k := range ch.Revert {
			if e, _ := p.Get(k); e.Pending != nil || e.Delete != 0 {
				return false
			}
		}
		return true
	}
	return false
}
