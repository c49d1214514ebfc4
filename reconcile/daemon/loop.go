package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/backup"
)

// Mode says whether the daemon changes containers.
type Mode string

// The modes.
const (
	// ModeApply plans and applies (the default).
	ModeApply Mode = "apply"
	// ModePlan only observes and plans: drift and pending changes are
	// reported, nothing is changed.
	ModePlan Mode = "plan"
)

// Defaults for Options.
const (
	DefaultResync         = 10 * time.Minute
	DefaultBackoffInitial = 30 * time.Second
	DefaultBackoffMax     = 15 * time.Minute
	// DefaultStuck is how long a cycle may run before /healthz calls the
	// loop stuck.
	DefaultStuck = time.Hour
	// historyLen is how many cycles Status keeps.
	historyLen = 20
)

// Options tune the loop. Source and API are required.
type Options struct {
	Source Source
	API    reconcile.API
	// Mode is ModeApply (default) or ModePlan.
	Mode Mode
	// Clock is read for plan times, backoff and status (default
	// reconcile.SystemClock); apply sleeps on it while it waits for locks.
	Clock reconcile.Clock
	// Log receives one line per cycle and per container change (default:
	// discard).
	Log *slog.Logger
	// Resync is the interval of full resyncs, which re-observe every
	// container (default DefaultResync).
	Resync time.Duration
	// BackoffInitial and BackoffMax bound a failing container's backoff:
	// it doubles from BackoffInitial with each failure in a row, up to
	// BackoffMax.
	BackoffInitial, BackoffMax time.Duration
	// Apply tunes apply (concurrency, lock wait, failure policy); its Clock
	// is the loop's and its Progress logs.
	Apply reconcile.Options
	// Metrics, when set, is kept up to date.
	Metrics *Metrics
	// Backups, when set, makes Run take the specs' scheduled backups
	// (RunBackups, backups.go) through it; BackupLockWait bounds the wait
	// for a container PVE has locked (default backup.DefaultLockWait).
	Backups        backup.API
	BackupLockWait time.Duration
}

// Loop is the daemon's reconcile loop. Cycle runs one cycle; Run runs
// cycles until its context ends. Status and the trigger methods are safe to
// call from any goroutine.
type Loop struct {
	opts  Options
	api   *cachedAPI
	log   *slog.Logger
	cts   serial
	wake  chan struct{}
	cycle sync.Mutex // one cycle at a time

	mu      sync.Mutex // guards everything below
	st      state
	backups *backup.Runner // made on first use
}

// New makes a loop.
func New(opts Options) (*Loop, error) {
	if opts.Source == nil || opts.API == nil {
		return nil, errors.New("daemon: a source and an API are required")
	}
	switch opts.Mode {
	case "":
		opts.Mode = ModeApply
	case ModeApply, ModePlan:
	default:
		return nil, fmt.Errorf("daemon: mode %q: must be apply or plan", opts.Mode)
	}
	if opts.Clock == nil {
		opts.Clock = reconcile.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Resync <= 0 {
		opts.Resync = DefaultResync
	}
	if opts.BackoffInitial <= 0 {
		opts.BackoffInitial = DefaultBackoffInitial
	}
	if opts.BackoffMax < opts.BackoffInitial {
		opts.BackoffMax = max(DefaultBackoffMax, opts.BackoffInitial)
	}
	opts.Apply.Clock = opts.Clock
	l := &Loop{opts: opts, api: &cachedAPI{API: opts.API}, log: opts.Log, wake: make(chan struct{}, 1)}
	l.st = newState(opts.Source.String(), opts.Mode)
	if opts.Metrics != nil {
		opts.Metrics.setMode(opts.Mode)
	}
	return l, nil
}

// Trigger asks for a cycle as soon as the running one (if any) ends: a
// webhook, a SIGHUP, a person. Triggers while one is waiting are one.
func (l *Loop) Trigger() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Suspend pauses (on) or resumes the daemon's work on the container vmid,
// as suspend: true in its spec does; a resumed container is planned in the
// next cycle.
func (l *Loop) Suspend(vmid int, on bool) {
	l.mu.Lock()
	l.st.suspend(vmid, on)
	st := l.st.snapshot()
	l.mu.Unlock()
	if m := l.opts.Metrics; m != nil {
		m.status(st)
	}
}

// WithContainer runs fn while no cycle works on the container vmid, and
// keeps cycles off it meanwhile: the place for per-container work outside
// the plan (scheduled backups). It returns false, without running fn, when
// the container is busy now.
func (l *Loop) WithContainer(vmid int, fn func()) bool {
	if len(l.cts.tryAcquire([]int{vmid})) == 0 {
		return false
	}
	defer l.cts.release([]int{vmid})
	fn()
	return true
}

// Run runs a full cycle at once, then a cycle whenever the source changes
// or Trigger is called, a full resync every Options.Resync, and a retry
// when a backoff runs out, until ctx ends. A cycle under way when ctx ends
// starts nothing new and waits for its running tasks (reconcile.Apply's
// rule), so no lock is left behind; Run then returns nil.
func (l *Loop) Run(ctx context.Context) error {
	l.mu.Lock()
	l.st.running = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.st.running = false
		l.mu.Unlock()
	}()
	if l.opts.Backups != nil {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); l.RunBackups(ctx) }()
		defer wg.Wait() // a backup under way ends with its task, leaving no lock
	}
	kind := KindResync
	resync := time.NewTimer(0)
	defer resync.Stop()
	<-resync.C
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		rec := l.Cycle(ctx, kind)
		if ctx.Err() != nil {
			return nil
		}
		if kind == KindResync {
			resync.Reset(l.opts.Resync)
		}
		retry.Stop()
		if d, ok := l.nextRetry(rec); ok {
			retry.Reset(d)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.opts.Source.Changed():
			kind = KindChange
		case <-l.wake:
			kind = KindChange
		case <-retry.C:
			kind = KindRetry
		case <-resync.C:
			kind = KindResync
		}
	}
}

// nextRetry is how long until the earliest backoff ends, or the cycle's
// own retry when it failed as a whole.
func (l *Loop) nextRetry(rec CycleRecord) (time.Duration, bool) {
	if rec.Result == ResultError {
		return l.opts.BackoffInitial, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.st.earliestRetry()
	if !ok {
		return 0, false
	}
	return max(at.Sub(l.opts.Clock.Now()), time.Second), true
}

// backoff is the wait after n failures in a row (n >= 1).
func (l *Loop) backoff(n int) time.Duration {
	d := l.opts.BackoffInitial
	for i := 1; i < n && d < l.opts.BackoffMax; i++ {
		d *= 2
	}
	return min(d, l.opts.BackoffMax)
}
