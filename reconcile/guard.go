package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
		p, err := a.readConfig(ctx)
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

// rereadEffective is reread after a step that may apply pending changes (a
// stop-mode vzdump starts the container again): every key must be or
// become what it was to become (sameEffective).
func (a *applier) rereadEffective(ctx context.Context) error {
	p, err := a.waitUnlocked(ctx)
	if err != nil {
		return fmt.Errorf("read config back: %w", err)
	}
	if key, ok := sameEffective(a.cur, p, map[string]bool{"lock": true}); !ok {
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

// readAttempts bounds how often apply reads a config whose read failed
// without an answer, or with a transient one: a read is a GET, and trying it
// again costs nothing (issue 10 item 2).
const readAttempts = 4

// readConfig is GET .../pending, tried again after LockPoll on the Clock
// when PVE gave no answer or a server error, up to readAttempts times.
func (a *applier) readConfig(ctx context.Context) (pve.PendingConfig, error) {
	for n := 1; ; n++ {
		p, err := a.api.Pending(ctx, a.cp.Node, a.cp.VMID)
		if err == nil || n == readAttempts || !readRetryable(err) || ctx.Err() != nil {
			return p, err
		}
		if serr := a.opts.Clock.Sleep(ctx, a.opts.LockPoll); serr != nil {
			return p, err
		}
	}
}

// readRetryable: a read failed without an answer (network, timeout) or with
// a server error; a refusal (4xx) stays one.
func readRetryable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ae *pve.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	return true
}

// noAnswer reports whether err is a call PVE did not answer (a reset, a
// timeout, an answer lost on the way): whether it took effect is unknown
// until felhom reads what is there.
func noAnswer(err error) bool {
	var ae *pve.APIError
	var te *pve.TaskError
	return err != nil && !errors.As(err, &ae) && !errors.As(err, &te) && !errors.Is(err, context.Canceled)
}

// lockedTask reports whether err says the container was locked: PVE's
// answer, or a task that found the lock (vzdump says so only in its log).
func lockedTask(err error) bool {
	if errors.Is(err, pve.ErrLocked) {
		return true
	}
	var te *pve.TaskError
	if errors.As(err, &te) {
		for _, l := range te.LogTail {
			if strings.Contains(l, "CT is locked (") {
				return true
			}
		}
	}
	return false
}

// retryLocked runs fn, a call that starts a task and awaits it (snapshot,
// vzdump, snapshot delete); when PVE or the task found the container locked
// (a lock that came after felhom's check), it waits the lock out and tries
// again, up to writeAttempts times (issue 10 item 12).
func (a *applier) retryLocked(ctx context.Context, fn func() error) error {
	for n := 1; ; n++ {
		err := fn()
		if !lockedTask(err) || n == writeAttempts {
			return err
		}
		if _, werr := a.waitUnlocked(ctx); werr != nil {
			return fmt.Errorf("%w; then: %w", err, werr)
		}
	}
}

// effective is what a key will be once pending changes apply: its pending
// value, none for a pending delete, else its current value.
func effective(e pve.PendingEntry) *string {
	switch {
	case e.Delete != 0:
		return nil
	case e.Pending != nil:
		return e.Pending
	}
	return e.Value
}

// sameEffective reports whether two reads of a config agree on what every
// key not in skip is or will be after a restart (a reboot moves pending
// values to current without changing them); key names the first that
// differs.
func sameEffective(a, b pve.PendingConfig, skip map[string]bool) (key string, ok bool) {
	keys := map[string]bool{}
	for _, p := range []pve.PendingConfig{a, b} {
		for _, e := range p.Entries {
			if !skip[e.Key] {
				keys[e.Key] = true
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		ea, _ := a.Get(k)
		eb, _ := b.Get(k)
		x, y := effective(ea), effective(eb)
		if (x == nil) != (y == nil) || x != nil && *x != *y {
			return k, false
		}
	}
	return "", true
}
