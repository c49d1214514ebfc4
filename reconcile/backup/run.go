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
)

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
