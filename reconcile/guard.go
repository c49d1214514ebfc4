package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/felhom/felhom/pve"
)

// errMoved marks a config that changed under felhom between its own writes.
var errMoved = errors.New("config changed by someone else")

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
			return p, stillLocked{lock: lock, waited: a.opts.LockWait}
		}
		a.event(Event{Kind: EventWait, Detail: "waiting for lock " + lock})
		if err := a.opts.Clock.Sleep(ctx, a.opts.LockPoll); err != nil {
			return p, fmt.Errorf("waiting for lock %s: %w", lock, err)
		}
	}
}

// stillLocked is a lock that did not go within LockWait; it is
// errors.Is(err, pve.ErrLocked).
type stillLocked struct {
	lock   string
	waited time.Duration
}

func (e stillLocked) Error() string {
	return fmt.Sprintf("still locked (%s) after %s; felhom does not remove locks it did not set", e.lock, e.waited)
}

func (e stillLocked) Is(target error) bool { return target == pve.ErrLocked }

func lockOf(p pve.PendingConfig) string {
	if e, ok := p.Get("lock"); ok && e.Value != nil {
		return *e.Value
	}
	return ""
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

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
