package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/schedule"
)

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
