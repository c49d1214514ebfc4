package backup

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
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

// taskLogLimit bounds the task log read for a batch's outcome.
const taskLogLimit = 10000

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

// Observed is what Observe read from PVE.
type Observed struct {
	// Containers are the targets found, with their live node, backups and
	// the runner's memory of their last failure, in vmid order.
	Containers []schedule.Container
	// Zones are the node time zones, by node.
	Zones map[string]*time.Location
	// Errors are the targets whose state could not be read, by vmid.
	Errors map[int]error
	// Storages are the storages whose backups were listed, as
	// "node/storage" (each listed once).
	Storages []string
}

// Evaluate evaluates every observed container at now, in its node's zone.
func (o *Observed) Evaluate(now time.Time) []schedule.Status {
	out := make([]schedule.Status, len(o.Containers))
	for i, c := range o.Containers {
		out[i] = schedule.Evaluate(c, o.Zones[c.Node], now)
	}
	return out
}

// NextDue is the earliest DueAt after now among the containers (zero when
// none falls due again).
func (o *Observed) NextDue(now time.Time) time.Time {
	var next time.Time
	for _, st := range o.Evaluate(now) {
		if !st.DueAt.IsZero() && (next.IsZero() || st.DueAt.Before(next)) {
			next = st.DueAt
		}
	}
	return next
}

// Zone returns node's time zone, reading it once per Runner (GET
// /nodes/{node}/time).
func (r *Runner) Zone(ctx context.Context, node string) (*time.Location, error) {
	r.mu.Lock()
	l := r.zones[node]
	r.mu.Unlock()
	if l != nil {
		return l, nil
	}
	t, err := r.api.NodeTime(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("node %s: time zone: %w", node, err)
	}
	l, err = t.Location()
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	r.mu.Lock()
	r.zones[node] = l
	r.mu.Unlock()
	return l, nil
}

// Observe reads the targets' state: one GET /cluster/resources (each
// container's node), each node's zone (once per Runner), and one GET
// .../storage/{storage}/content?content=backup per node and storage.
func (r *Runner) Observe(ctx context.Context, targets []Target) (*Observed, error) {
	res, err := r.api.ClusterResources(ctx, "vm")
	if err != nil {
		return nil, fmt.Errorf("backups: list guests: %w", err)
	}
	live := map[int]pve.Resource{}
	for _, x := range res {
		if x.Type == "lxc" {
			live[x.VMID] = x
		}
	}
	o := &Observed{Zones: map[string]*time.Location{}, Errors: map[int]error{}}
	type key struct{ node, storage string }
	lists := map[key][]pve.Volume{}
	listErr := map[key]error{}
	for _, t := range targets {
		node := t.Node
		if x, ok := live[t.VMID]; ok {
			node = x.Node
		} else {
			o.Errors[t.VMID] = fmt.Errorf("ct %d: not found on PVE", t.VMID)
			continue
		}
		if _, ok := o.Zones[node]; !ok {
			l, err := r.Zone(ctx, node)
			if err != nil {
				o.Errors[t.VMID] = err
				continue
			}
			o.Zones[node] = l
		}
		k := key{node, t.Policy.Options.Storage}
		if _, ok := lists[k]; !ok && listErr[k] == nil {
			vols, err := r.api.StorageContent(ctx, node, k.storage, pve.ContentQuery{Content: "backup"})
			if err != nil {
				listErr[k] = fmt.Errorf("storage %s on %s: list backups: %w", k.storage, node, err)
			} else {
				lists[k] = vols
				o.Storages = append(o.Storages, node+"/"+k.storage)
			}
		}
		if err := listErr[k]; err != nil {
			o.Errors[t.VMID] = err
			continue
		}
		c := schedule.Container{VMID: t.VMID, Name: t.Name, Node: node, Policy: t.Policy, Backups: backupsOf(lists[k], t.VMID)}
		r.mu.Lock()
		c.Failed = r.failed[t.VMID]
		r.mu.Unlock()
		o.Containers = append(o.Containers, c)
	}
	return o, nil
}

// backupsOf picks vmid's container backups from a storage listing.
func backupsOf(vols []pve.Volume, vmid int) []schedule.Backup {
	var out []schedule.Backup
	for _, v := range vols {
		if v.VMID == vmid && v.Content == "backup" && (v.Subtype == "" || v.Subtype == "lxc") {
			out = append(out, schedule.Backup{VolID: v.VolID, CTime: v.CTime, Size: v.Size, Protected: v.Protected})
		}
	}
	return out
}

// Outcome is how one container's backup ended.
type Outcome string

// Outcomes of a Result.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeFailed Outcome = "failed"
)

// Result is one container's backup attempt.
type Result struct {
	VMID    int
	Name    string
	Node    string
	Storage string
	Outcome Outcome
	// Occurrence is the scheduled run this backup stands for (zero for a
	// backup taken on demand).
	Occurrence time.Time
	// Archive and Size are the new archive as the storage lists it ("" and
	// 0 when the listing does not show one).
	Archive string
	Size    int64
	UPID    string // the vzdump task ("" when none started)
	// Started is when the vzdump was asked for; Duration what the task log
	// gives for this guest (or the task's span).
	Started  time.Time
	Duration time.Duration
	// Error says why it failed; Log is this guest's part of the task log
	// (or the task log's tail).
	Error    string
	Log      []string
	Warnings []string
}

// Report is what one Run did.
type Report struct {
	// Calls are the vzdump calls, in the order they were made per node.
	Calls []Call
	// Results has one entry per container attempted, in vmid order.
	Results []Result
}

// Call is one vzdump call.
type Call struct {
	Node       string
	Storage    string
	VMIDs      []int
	UPID       string
	ExitStatus string
	Started    time.Time
	Duration   time.Duration
}

// Failed counts the failed results.
func (r *Report) Failed() int {
	n := 0
	for _, x := range r.Results {
		if x.Outcome != OutcomeOK {
			n++
		}
	}
	return n
}

// Job is one container to back up in a Run.
type Job struct {
	Container  schedule.Container
	Occurrence time.Time // zero: on demand
}

// Due returns the due containers of o at now as jobs.
func Due(o *Observed, now time.Time) []Job {
	var out []Job
	for i, st := range o.Evaluate(now) {
		if st.Due {
			occ := st.Occurrence
			if occ.IsZero() {
				occ = st.DueAt
			}
			out = append(out, Job{Container: o.Containers[i], Occurrence: occ})
		}
	}
	return out
}

// Run backs up jobs: batched, one vzdump per node at a time, nodes in
// parallel, locked containers waited out apart from the rest. It returns
// a result for every job; a failure never stops the others.
func (r *Runner) Run(ctx context.Context, jobs []Job) *Report {
	byNode := map[string][]Job{}
	var nodes []string
	for _, j := range jobs {
		n := j.Container.Node
		if _, ok := byNode[n]; !ok {
			nodes = append(nodes, n)
		}
		byNode[n] = append(byNode[n], j)
	}
	sort.Strings(nodes)
	reports := make([]*Report, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i] = r.runNode(ctx, n, byNode[n])
		}()
	}
	wg.Wait()
	out := &Report{}
	for _, rep := range reports {
		out.Calls = append(out.Calls, rep.Calls...)
		out.Results = append(out.Results, rep.Results...)
	}
	sort.Slice(out.Results, func(i, j int) bool { return out.Results[i].VMID < out.Results[j].VMID })
	return out
}

// slot returns node's one-vzdump-at-a-time slot.
func (r *Runner) slot(node string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.slots[node]
	if s == nil {
		s = make(chan struct{}, 1)
		r.slots[node] = s
	}
	return s
}

// runNode runs one node's jobs: the unlocked ones batch by batch, then
// the locked ones as their locks clear.
func (r *Runner) runNode(ctx context.Context, node string, jobs []Job) *Report {
	rep := &Report{}
	byVMID := map[int]Job{}
	for _, j := range jobs {
		byVMID[j.Container.VMID] = j
	}
	pending := jobs
	deadline := time.Time{}
	for len(pending) > 0 {
		locks, err := r.locks(ctx)
		if err != nil {
			for _, j := range pending {
				rep.Results = append(rep.Results, failed(j, fmt.Sprintf("read locks: %v", err), nil))
			}
			break
		}
		var ready, locked []Job
		for _, j := range pending {
			if locks[j.Container.VMID] != "" {
				locked = append(locked, j)
			} else {
				ready = append(ready, j)
			}
		}
		if len(ready) > 0 {
			cs := make([]schedule.Container, len(ready))
			for i, j := range ready {
				cs[i] = j.Container
			}
			for _, b := range schedule.Batches(cs) {
				r.runBatch(ctx, b, byVMID, rep)
			}
		}
		if len(locked) == 0 {
			break
		}
		now := r.clock.Now()
		if deadline.IsZero() {
			deadline = now.Add(r.opts.LockWait)
		}
		if !now.Before(deadline) || ctx.Err() != nil {
			for _, j := range locked {
				msg := fmt.Sprintf("ct %d is locked (%s) for longer than %v; felhom never removes a lock", j.Container.VMID, locks[j.Container.VMID], r.opts.LockWait)
				if ctx.Err() != nil {
					msg = fmt.Sprintf("ct %d is locked (%s): %v", j.Container.VMID, locks[j.Container.VMID], ctx.Err())
				}
				rep.Results = append(rep.Results, failed(j, msg, nil))
			}
			break
		}
		_ = r.clock.Sleep(ctx, min(r.opts.LockPoll, deadline.Sub(now)))
		pending = locked
	}
	r.mu.Lock()
	for _, x := range rep.Results {
		if x.Outcome == OutcomeOK {
			delete(r.failed, x.VMID)
		} else {
			r.failed[x.VMID] = r.clock.Now()
		}
	}
	r.mu.Unlock()
	return rep
}

// locks reads every container's lock from one GET /cluster/resources.
func (r *Runner) locks(ctx context.Context) (map[int]string, error) {
	res, err := r.api.ClusterResources(ctx, "vm")
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for _, x := range res {
		if x.Type == "lxc" && x.Lock != "" {
			out[x.VMID] = x.Lock
		}
	}
	return out, nil
}

func failed(j Job, msg string, log []string) Result {
	c := j.Container
	return Result{VMID: c.VMID, Name: c.Name, Node: c.Node, Storage: c.Policy.Options.Storage, Outcome: OutcomeFailed,
		Occurrence: j.Occurrence, Error: msg, Log: log}
}

// runBatch runs one vzdump call in the node's slot and records a result
// per guest.
func (r *Runner) runBatch(ctx context.Context, b schedule.Batch, jobs map[int]Job, rep *Report) {
	slot := r.slot(b.Node)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		for _, v := range b.VMIDs {
			rep.Results = append(rep.Results, failed(jobs[v], fmt.Sprintf("wait for the node's vzdump slot: %v", ctx.Err()), nil))
		}
		return
	}
	defer func() { <-slot }()

	var vmids []int
	if r.opts.Hold != nil {
		for _, v := range b.VMIDs {
			release, err := r.opts.Hold(ctx, v)
			if err != nil {
				rep.Results = append(rep.Results, failed(jobs[v], fmt.Sprintf("wait for the container: %v", err), nil))
				continue
			}
			defer release()
			vmids = append(vmids, v)
		}
	} else {
		vmids = b.VMIDs
	}
	if len(vmids) == 0 {
		return
	}
	o := b.Options
	call := Call{Node: b.Node, Storage: o.Storage, VMIDs: vmids, Started: r.clock.Now()}
	upid, err := r.api.Vzdump(ctx, b.Node, pve.VzdumpOptions{VMIDs: vmids, Storage: o.Storage, Mode: o.Mode, Compress: o.Compress,
		PruneBackups: o.PruneBackups, NotesTemplate: o.NotesTemplate, Protected: o.Protected})
	if err != nil {
		call.ExitStatus = err.Error()
		rep.Calls = append(rep.Calls, call)
		for _, v := range vmids {
			rep.Results = append(rep.Results, failed(jobs[v], fmt.Sprintf("vzdump: %v", err), nil))
		}
		return
	}
	call.UPID = upid.String()
	res, werr := r.api.WaitTask(ctx, upid)
	call.Duration = r.clock.Now().Sub(call.Started)
	call.ExitStatus = res.ExitStatus
	var te *pve.TaskError
	if errors.As(werr, &te) {
		call.ExitStatus = te.ExitStatus
	} else if werr != nil {
		call.ExitStatus = werr.Error()
	}
	rep.Calls = append(rep.Calls, call)
	lines, lerr := r.taskLog(ctx, upid)
	if lerr != nil && te != nil {
		lines = te.LogTail
	}
	guests := parseLog(lines)
	var vols []pve.Volume
	var verr error
	listed := false
	for _, v := range vmids {
		j := jobs[v]
		g := guests[v]
		if g == nil {
			g = &guestLog{}
		}
		x := Result{VMID: v, Name: j.Container.Name, Node: b.Node, Storage: o.Storage, Occurrence: j.Occurrence, UPID: call.UPID,
			Started: call.Started, Duration: call.Duration}
		if g.took > 0 {
			x.Duration = g.took
		}
		switch {
		case g.err != "":
			x.Outcome, x.Error, x.Log = OutcomeFailed, g.err, g.lines
		case g.finished:
			x.Outcome, x.Warnings = OutcomeOK, g.warnings
		case werr != nil:
			x.Outcome, x.Error = OutcomeFailed, fmt.Sprintf("vzdump task: %s", call.ExitStatus)
			x.Log = lines
			if te != nil {
				x.Log = te.LogTail
			}
		case lerr != nil:
			// The task ended OK but its log could not be read: the
			// archive on the storage decides.
			x.Outcome = OutcomeOK
			x.Warnings = []string{fmt.Sprintf("(task log unavailable: %v)", lerr)}
		default:
			x.Outcome, x.Error, x.Log = OutcomeFailed, "the vzdump task's log does not show this guest's backup", tail(lines)
		}
		if x.Outcome == OutcomeOK {
			if !listed {
				vols, verr = r.api.StorageContent(ctx, b.Node, o.Storage, pve.ContentQuery{Content: "backup"})
				listed = true
			}
			if verr != nil {
				x.Warnings = append(x.Warnings, fmt.Sprintf("list the new archive: %v", verr))
			} else if nb := schedule.Newest(backupsOf(vols, v)); nb != nil && !nb.CTime.Before(upid.StartTime) {
				x.Archive, x.Size = nb.VolID, nb.Size
			} else {
				x.Outcome, x.Error = OutcomeFailed, "the vzdump task ended, but the storage lists no new archive"
			}
		}
		rep.Results = append(rep.Results, x)
	}
}

// taskLog reads a task's whole log (up to taskLogLimit lines).
func (r *Runner) taskLog(ctx context.Context, upid pve.UPID) ([]string, error) {
	ls, err := r.api.TaskLog(ctx, upid, 0, taskLogLimit)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.T
	}
	return out, nil
}

func tail(lines []string) []string {
	if len(lines) > pve.TaskLogTailLines {
		return lines[len(lines)-pve.TaskLogTailLines:]
	}
	return lines
}

// guestLog is one guest's part of a vzdump task log.
type guestLog struct {
	lines    []string
	finished bool
	took     time.Duration
	err      string
	warnings []string
}

// The lines PVE/VZDump.pm exec_backup_task writes per guest.
var (
	startRE    = regexp.MustCompile(`^INFO: Starting Backup of VM (\d+) `)
	finishedRE = regexp.MustCompile(`^INFO: Finished Backup of VM (\d+) \((\d+):(\d\d):(\d\d)\)`)
	failedRE   = regexp.MustCompile(`^ERROR: Backup of VM (\d+) failed - (.*)$`)
)

// parseLog splits a vzdump task log by guest.
func parseLog(lines []string) map[int]*guestLog {
	out := map[int]*guestLog{}
	get := func(s string) *guestLog {
		v, _ := strconv.Atoi(s)
		g := out[v]
		if g == nil {
			g = &guestLog{}
			out[v] = g
		}
		return g
	}
	var cur *guestLog
	for _, l := range lines {
		if m := startRE.FindStringSubmatch(l); m != nil {
			cur = get(m[1])
		}
		if cur != nil {
			cur.lines = append(cur.lines, l)
			if strings.HasPrefix(l, "WARN:") {
				cur.warnings = append(cur.warnings, l)
			}
		}
		if m := finishedRE.FindStringSubmatch(l); m != nil {
			g := get(m[1])
			h, _ := strconv.Atoi(m[2])
			mi, _ := strconv.Atoi(m[3])
			se, _ := strconv.Atoi(m[4])
			g.finished, g.took = true, time.Duration(h)*time.Hour+time.Duration(mi)*time.Minute+time.Duration(se)*time.Second
		}
		if m := failedRE.FindStringSubmatch(l); m != nil {
			g := get(m[1])
			g.err = m[2]
			if g != cur {
				g.lines = append(g.lines, l)
			}
		}
		if strings.HasPrefix(l, "INFO: Backup job finished") {
			cur = nil
		}
	}
	return out
}
