package backup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/schedule"
	"github.com/felhom/felhom/spec"
)

// API is the part of the PVE API the runner uses; *pve.Client satisfies
// it.
type API interface {
	ClusterResources(ctx context.Context, typ string) ([]pve.Resource, error)
	NodeTime(ctx context.Context, node string) (pve.NodeTime, error)
	StorageContent(ctx context.Context, node, storage string, q pve.ContentQuery) ([]pve.Volume, error)
	Vzdump(ctx context.Context, node string, o pve.VzdumpOptions) (pve.UPID, error)
	WaitTask(ctx context.Context, upid pve.UPID) (pve.TaskResult, error)
	TaskLog(ctx context.Context, upid pve.UPID, start, limit int) ([]pve.TaskLogLine, error)
}

var _ API = (*pve.Client)(nil)

// Clock is the time the runner reads and waits on (reconcile.SystemClock
// and the tests' simulator clock satisfy it).
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Defaults for Options.
const (
	DefaultLockWait = 30 * time.Minute
	DefaultLockPoll = 10 * time.Second
)

// Options tune a Runner.
type Options struct {
	// LockWait bounds how long a locked container is waited out
	// (default DefaultLockWait); LockPoll is the polling interval
	// (default DefaultLockPoll).
	LockWait, LockPoll time.Duration
	// Hold, when set, is called before a container's vzdump; the backup
	// runs only when it returns nil, and release is called when the
	// vzdump ended. The daemon's per-container serialisation.
	Hold func(ctx context.Context, vmid int) (release func(), err error)
}

// Target is one container with a backup policy.
type Target struct {
	VMID   int
	Name   string
	Node   string // the spec's node; where PVE lists the container elsewhere, that node wins
	Policy schedule.Policy
}

// Targets returns the containers of specs that have a backup policy.
func Targets(specs []spec.Container) ([]Target, error) {
	var out []Target
	var errs []error
	for _, c := range specs {
		b := c.Spec.Backup
		if b == nil || b.Schedule == "" {
			continue
		}
		p, err := schedule.PolicyFromSpec(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("ct %d (%s): %w", c.Spec.VMID, c.Metadata.Name, err))
			continue
		}
		out = append(out, Target{VMID: c.Spec.VMID, Name: c.Metadata.Name, Node: c.Spec.Node, Policy: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VMID < out[j].VMID })
	return out, errors.Join(errs...)
}

// Runner observes and runs scheduled backups. One Runner is shared by
// every caller of a process (the daemon's loop and its catch-up), so its
// per-node slots hold across them. It is safe for concurrent use.
type Runner struct {
	api   API
	clock Clock
	opts  Options

	mu     sync.Mutex
	zones  map[string]*time.Location
	slots  map[string]chan struct{}
	failed map[int]time.Time
}

// New returns a Runner on api.
func New(api API, clock Clock, opts Options) *Runner {
	if opts.LockWait <= 0 {
		opts.LockWait = DefaultLockWait
	}
	if opts.LockPoll <= 0 {
		opts.LockPoll = DefaultLockPoll
	}
	return &Runner{api: api, clock: clock, opts: opts, zones: map[string]*time.Location{},
		slots: map[string]chan struct{}{}, failed: map[int]time.Time{}}
}
