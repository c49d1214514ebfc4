package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
)

// settle ends the change once its steps ran: it reads the config back and
// verifies it when the container was written, rebooted or started (a reboot
// or a start alone also changes the config: the pending values become
// current), then marks
// the change verified and records its baseline.
func (a *applier) settle(ctx context.Context) error {
	if a.wrote || a.rebooted || a.started {
		if err := a.verify(ctx); err != nil {
			return err
		}
	}
	a.verified = true
	a.recordBaseline(ctx)
	return nil
}

// verify reads the config back after the writes (rule 6): every key set or
// deleted must be current when the plan said hot (or after the reboot), and
// pending when it said pending until restart; a reverted key has no pending
// change left; a resized volume has at least its new size. Like a step, it
// runs to its end when apply is cancelled (the read-back decides between
// keeping and rolling back), bounded by the step timeout.
func (a *applier) verify(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.StepTimeout)
	defer cancel()
	p, err := a.readConfig(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w: %w", errUnverified, err)
	}
	a.cur = p
	var problems []string
	for _, s := range a.cp.Steps {
		switch s.Action {
		case plan.ActionSetConfig, plan.ActionPctSet:
			ch := configChange(s.Params)
			for k, v := range ch.Set {
				e, _ := p.Get(k)
				if a.pendingKey(k) {
					// Pending as planned, or already live: a container that
					// stopped since the plan takes every change at once.
					pendingOK := e.Pending != nil && diff.SameValue(k, v, *e.Pending)
					liveOK := e.Pending == nil && e.Value != nil && diff.SameValue(k, v, *e.Value)
					if !pendingOK && !liveOK {
						problems = append(problems, fmt.Sprintf("%s: want %q pending, found %s", k, v, show(e)))
					}
					continue
				}
				if e.Value == nil || e.Pending != nil || !diff.SameValue(k, v, *e.Value) {
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
		return fmt.Errorf("verify: %w: %s", errMismatch, strings.Join(problems, "; "))
	}
	return nil
}

// pendingKey reports whether the plan expects PVE to hold key pending after
// apply: one of its changes needs a restart and no reboot or start ran.
func (a *applier) pendingKey(key string) bool {
	if a.rebooted || a.started {
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

// volumeSize returns the size= of a rootfs or mpN value.
func volumeSize(key string, v *string) (format.Size, bool) {
	if v == nil {
		return 0, false
	}
	m, err := diff.ParseVolume(key, *v)
	if err != nil || m.Size == nil {
		return 0, false
	}
	return *m.Size, true
}
