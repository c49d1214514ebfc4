package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/felhom/felhom/reconcile/plan"
)

// Privileged carries the config writes only root@pam may make (the plan's
// pct-set step): `pct set` as root on the container's node.
// *privileged.Runner satisfies it; reconcile never runs a process itself.
type Privileged interface {
	// Available returns nil when the backend may write a container on
	// node now, else an error saying why not and what would enable it.
	Available(node string) error
	// SetConfig sets and deletes root-only keys of one container in one
	// write that carries the config digest.
	SetConfig(ctx context.Context, node string, vmid int, set map[string]string, del []string, digest string) error
}

// errNoPrivileged is a plan with a pct-set step given to an Apply without
// a privileged backend.
var errNoPrivileged = errors.New("the plan writes keys only root@pam may write, and this apply has no privileged backend (set privileged.enabled: true in felhom's config and run felhom as root on the container's node)")

// privilegedReady checks, before anything is touched, that the backend may
// carry the container's pct-set step, if it has one: a plan made where the
// backend was available may be applied where it is not (a saved plan, or
// felhom run by another user or on another node).
func (a *applier) privilegedReady() error {
	for _, s := range a.cp.Steps {
		if s.Action != plan.ActionPctSet {
			continue
		}
		if a.opts.Privileged == nil {
			return errNoPrivileged
		}
		if err := a.opts.Privileged.Available(a.cp.Node); err != nil {
			return fmt.Errorf("privileged backend: %w", err)
		}
		return nil
	}
	return nil
}

// pctSet writes the step's root-only keys through the privileged backend,
// with the digest of felhom's last read. PVE's digest decides what a
// failure did: unchanged, nothing landed (a refused value, a stale digest),
// and the container is not rolled back for it unless an earlier write
// landed; moved by someone else, the container is stale.
func (a *applier) pctSet(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp := a.cp
	if a.opts.Privileged == nil {
		return errNoPrivileged
	}
	ch := configChange(st.Params)
	if len(ch.Revert) > 0 {
		return errors.New("pct set: the step carries a revert, which the privileged backend does not write")
	}
	touched := make([]string, 0, len(ch.Set)+len(ch.Delete)+maxUnused)
	for k := range ch.Set {
		touched = append(touched, k)
	}
	touched = append(touched, ch.Delete...)
	for n := 1; ; n++ {
		err := a.opts.Privileged.SetConfig(ctx, cp.Node, cp.VMID, ch.Set, ch.Delete, a.digest)
		if err == nil {
			break
		}
		p, rerr := a.api.Pending(ctx, cp.Node, cp.VMID)
		switch {
		case rerr == nil && lockOf(p) != "" && n < writeAttempts:
			// Rule 4, as write does for the API: a backup took the lock
			// between felhom's read and pct set, which PVE refused ("CT is
			// locked"). Wait it out, check that nothing else changed
			// (which refreshes the digest) and try again.
			if err := a.reread(ctx); err != nil {
				return err
			}
			continue
		case rerr == nil && lockOf(p) != "":
			// Still locked after the retries: pct set was refused for the
			// lock, so nothing of it landed.
			if !a.earlierWriteLanded() {
				a.wrote = false
			}
			return fmt.Errorf("still locked (%s); felhom does not remove locks it did not set: %w", lockOf(p), err)
		case rerr != nil:
			// Whether it landed is unknown: treated as landed.
		case p.Digest == a.digest:
			if !a.earlierWriteLanded() {
				a.wrote = false
			}
		default:
			if key, same := sameExcept(a.cur, p, keySet(touched)); !same {
				return fmt.Errorf("%w: %s (pct set: %v)", errMoved, key, err)
			}
		}
		return err
	}
	// A bind or device mount point set over a volume moves the volume to
	// an unusedN key (PVE keeps it, rule 8), so those may appear too.
	for i := range maxUnused {
		touched = append(touched, "unused"+strconv.Itoa(i))
	}
	return a.reread(ctx, touched...)
}

// maxUnused is PVE's number of unusedN keys (pve-container
// src/PVE/LXC/Config.pm $MAX_UNUSED_DISKS, equal to $MAX_MOUNT_POINTS).
const maxUnused = 256

// earlierWriteLanded reports whether a write step before the running one
// was applied.
func (a *applier) earlierWriteLanded() bool {
	for _, s := range a.cr.Steps {
		if s.Step.Action.Writes() && s.Status == StepApplied {
			return true
		}
	}
	return false
}

func keySet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// availableRoot is a Privileged backend as the plan's diff.Root: where it
// is available now.
type availableRoot struct{ p Privileged }

func (r availableRoot) For(node string) error { return r.p.Available(node) }
