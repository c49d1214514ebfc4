package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// ObserveOptions tune Observe.
type ObserveOptions struct {
	// Concurrency bounds how many containers are read at once (default
	// DefaultConcurrency). The API client may bound requests further.
	Concurrency int
	// Prefetched, when set, holds the cluster resources, storage lists
	// and pending configs read while the specs loaded (Prefetch); observe
	// reads only what it lacks.
	Prefetched *Prefetched
}

// Observe reads the live state of the containers the specs name, keyed by
// VMID. A container PVE does not have is absent from the map (diff plans it
// as missing, by name); a container that could not be read has Live.Err set
// and the others are still observed. The error is only for what stops every
// container: the cluster resources call failing, or ctx ending.
//
// Calls: 1 GET /cluster/resources?type=vm, 1 GET /nodes/{node}/storage per
// node hosting a managed container, 1 GET /nodes/{node}/time per node
// hosting a container with a restart window, and per managed container one
// GET .../pending, taken in nodeOrder (each node's containers spread
// through the reads, so every node's workers stay busy); plus one GET .../content per storage holding an existing
// volume a spec attaches or a volume a spec grows (checkVolumes). Snapshots are not read here:
// Plan reads them (ObserveSnapshots) only for the containers whose diff is
// not empty, the only ones whose plan they can change.
func Observe(ctx context.Context, api API, specs []spec.Container, opts ObserveOptions) (map[int]*diff.Live, error) {
	o, err := observe(ctx, api, specs, opts)
	return o.live, err
}

// observed is what observe read: the live containers the specs name, the
// containers no spec names (sorted by VMID) from the same cluster
// resources call, and what the specs that create a container need
// (observeCreates).
type observed struct {
	live      map[int]*diff.Live
	unmanaged []plan.Unmanaged
	creates   map[int]*diff.NewCT
}

func observe(ctx context.Context, api API, specs []spec.Container, opts ObserveOptions) (observed, error) {
	res, err := clusterResources(ctx, api, opts.Prefetched)
	if err != nil {
		return observed{}, fmt.Errorf("observe: cluster resources: %w", err)
	}
	live, creates, err := observeFrom(ctx, api, res, specs, opts)
	if err != nil {
		return observed{}, err
	}
	return observed{live: live, unmanaged: unmanaged(res, specs), creates: creates}, nil
}

// unmanaged lists the containers of res that no spec names.
func unmanaged(res []pve.Resource, specs []spec.Container) []plan.Unmanaged {
	named := make(map[int]bool, len(specs))
	for i := range specs {
		named[specs[i].Spec.VMID] = true
	}
	var out []plan.Unmanaged
	for _, r := range res {
		if (r.Type == "lxc" || r.Type == "") && r.VMID > 0 && !named[r.VMID] {
			out = append(out, plan.Unmanaged{VMID: r.VMID, Name: r.Name, Node: r.Node})
		}
	}
	slices.SortFunc(out, func(a, b plan.Unmanaged) int {
		return cmp.Or(cmp.Compare(a.VMID, b.VMID), strings.Compare(a.Node, b.Node))
	})
	return out
}

// observeFrom is Observe on the cluster resources res already read; it
// also observes what the specs that create a container need.
func observeFrom(ctx context.Context, api API, res []pve.Resource, specs []spec.Container, opts ObserveOptions) (map[int]*diff.Live, map[int]*diff.NewCT, error) {
	where := make(map[int]pve.Resource, len(res))
	for _, r := range res {
		if r.Type == "lxc" || r.Type == "" {
			where[r.VMID] = r
		}
	}
	live := make(map[int]*diff.Live, len(specs))
	var todo []*diff.Live
	nodeSet := map[string]bool{}
	zoneSet := map[string]bool{} // nodes whose zone a restart window needs
	for i := range specs {
		r, ok := where[specs[i].Spec.VMID]
		if !ok {
			continue
		}
		l := &diff.Live{Node: r.Node, VMID: r.VMID, Running: r.Status == "running", Lock: r.Lock}
		live[r.VMID] = l
		todo = append(todo, l)
		nodeSet[r.Node] = true
		if rs := specs[i].Spec.Restart; rs != nil && rs.Mode == spec.RestartInWindow && rs.Window != nil {
			zoneSet[r.Node] = true
		}
	}
	for _, n := range createNodes(res, specs) {
		nodeSet[n] = true // the storages a create puts its volumes on
	}
	nodes := make([]string, 0, len(nodeSet))
	for n := range nodeSet {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)

	// Storage capability, once per node; a node whose list cannot be read
	// leaves its containers unable to snapshot, and says why.
	caps := make(map[string]map[string]diff.Storage, len(nodes))
	capErr := make(map[string]error, len(nodes))
	var mu sync.Mutex
	forEach(len(nodes), opts.Concurrency, func(i int) {
		st, err := opts.Prefetched.storageList(ctx, api, nodes[i])
		m := make(map[string]diff.Storage, len(st))
		for _, s := range st {
			m[s.Storage] = diff.Storage{Type: s.Type, Content: splitContent(s.Content), Avail: s.Avail}
		}
		mu.Lock()
		caps[nodes[i]], capErr[nodes[i]] = m, err
		mu.Unlock()
	})

	// The node's zone, once per node hosting a container with a restart
	// window; one that cannot be read leaves those containers in error
	// rather than read in another zone.
	zones := make(map[string]*time.Location, len(zoneSet))
	zoneErr := make(map[string]error, len(zoneSet))
	zoneNodes := slices.Sorted(maps.Keys(zoneSet))
	forEach(len(zoneNodes), opts.Concurrency, func(i int) {
		n := zoneNodes[i]
		nt, err := api.NodeTime(ctx, n)
		var loc *time.Location
		if err == nil {
			loc, err = nt.Location()
		}
		mu.Lock()
		zones[n], zoneErr[n] = loc, err
		mu.Unlock()
	})
	needsZone := map[int]bool{}
	for i := range specs {
		if rs := specs[i].Spec.Restart; rs != nil && rs.Mode == spec.RestartInWindow && rs.Window != nil {
			needsZone[specs[i].Spec.VMID] = true
		}
	}

	opts.Prefetched.endWants() // the specs are known: what was wanted is all
	forEachSpread(len(todo), opts.Concurrency, func(i int) string { return todo[i].Node }, func(i int) {
		l := todo[i]
		if needsZone[l.VMID] {
			if err := zoneErr[l.Node]; err != nil {
				l.Err = fmt.Sprintf("node %s: time zone for the restart window: %v", l.Node, err)
				return
			}
			l.Zone = zones[l.Node]
		}
		if err := ctx.Err(); err != nil {
			l.Err = err.Error()
			return
		}
		if err := capErr[l.Node]; err != nil {
			l.Err = err.Error()
			return
		}
		l.Storages = caps[l.Node]
		p, err := opts.Prefetched.pending(ctx, api, l.Node, l.VMID)
		if err != nil {
			l.Err = err.Error()
			return
		}
		fillPending(l, p)
	})
	checkVolumes(ctx, api, specs, live, opts.Concurrency)
	creates := observeCreates(ctx, api, res, specs, caps, capErr, opts.Concurrency)
	if err := ctx.Err(); err != nil {
		return live, creates, fmt.Errorf("observe: %w", err)
	}
	return live, creates, nil
}

// checkVolumes fills Live.Volumes for the existing volumes the specs attach
// that the containers do not hold yet, and Live.VolumeSizes for the
// container volumes the specs grow: one GET .../content per storage and
// node that has such a volume, so a spec naming no volume to attach and no
// grow costs nothing. A list that cannot be read leaves its volumes
// unchecked.
func checkVolumes(ctx context.Context, api API, specs []spec.Container, live map[int]*diff.Live, concurrency int) {
	type place struct{ node, storage string }
	want := map[place][]*diff.Live{}
	add := func(l *diff.Live, volume string) {
		storage, _, _ := strings.Cut(volume, ":")
		k := place{l.Node, storage}
		if !slices.Contains(want[k], l) {
			want[k] = append(want[k], l)
		}
	}
	grown := map[*diff.Live]map[string]bool{} // volumes whose size is read
	for i := range specs {
		l := live[specs[i].Spec.VMID]
		if l == nil || l.Err != "" {
			continue
		}
		for _, mp := range specs[i].Spec.MountPoints {
			if mp.Kind() != spec.MountVolume || holdsVolume(l, mp.Volume) {
				continue
			}
			if l.Volumes == nil {
				l.Volumes = map[string]bool{}
			}
			l.Volumes[mp.Volume] = false
			add(l, mp.Volume)
		}
		for _, vol := range grows(specs[i].Spec, l) {
			if grown[l] == nil {
				grown[l] = map[string]bool{}
			}
			grown[l][vol] = true
			add(l, vol)
		}
	}
	places := slices.SortedFunc(maps.Keys(want), func(a, b place) int {
		return cmp.Or(cmp.Compare(a.node, b.node), cmp.Compare(a.storage, b.storage))
	})
	lists := make([]map[string]int64, len(places))
	forEach(len(places), concurrency, func(i int) {
		vols, err := api.StorageContent(ctx, places[i].node, places[i].storage, pve.ContentQuery{})
		if err != nil {
			return
		}
		lists[i] = make(map[string]int64, len(vols))
		for _, v := range vols {
			lists[i][v.VolID] = v.Size
		}
	})
	for i, k := range places {
		for _, l := range want[k] {
			for vol := range l.Volumes {
				if s, _, _ := strings.Cut(vol, ":"); s != k.storage {
					continue
				}
				if lists[i] == nil {
					delete(l.Volumes, vol) // unchecked
				} else {
					_, l.Volumes[vol] = lists[i][vol]
				}
			}
			for vol := range grown[l] {
				if s, _, _ := strings.Cut(vol, ":"); s != k.storage || lists[i] == nil {
					continue
				}
				if size, ok := lists[i][vol]; ok && size > 0 {
					if l.VolumeSizes == nil {
						l.VolumeSizes = map[string]format.Size{}
					}
					l.VolumeSizes[vol] = format.Size(size)
				}
			}
		}
	}
}

// grows lists the volumes of the container's config whose size the spec
// asks to be larger than the config's size=.
func grows(s spec.ContainerSpec, l *diff.Live) []string {
	wanted := map[string]*format.Size{}
	if s.RootFS != nil {
		wanted["rootfs"] = s.RootFS.Size
	}
	for slot, mp := range s.MountPoints {
		wanted[slot] = mp.Size
	}
	var out []string
	for _, key := range slices.Sorted(maps.Keys(wanted)) {
		raw, ok := l.Config[key]
		if !ok || wanted[key] == nil {
			continue
		}
		m, err := diff.ParseVolume(key, raw)
		if err == nil && m.Kind() == format.Volume && m.Size != nil && *wanted[key] > *m.Size {
			out = append(out, m.Volume)
		}
	}
	return out
}

// holdsVolume reports whether the container's config already has volume
// as its rootfs or a mount point.
func holdsVolume(l *diff.Live, volume string) bool {
	for k, v := range l.Config {
		if !diff.IsVolumeKey(k) {
			continue
		}
		if m, err := diff.ParseVolume(k, v); err == nil && m.Volume == volume {
			return true
		}
	}
	return false
}

// splitContent reads a storage's content list ("rootdir,images,backup").
func splitContent(list string) []string {
	var out []string
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// ObserveSnapshots reads the snapshot list of each container in todo (one
// GET .../snapshot each, concurrency at once, spread over the nodes) into Live.Snapshots and
// Live.Applied, the baseline of the newest felhom snapshot that holds one.
// They matter only to a container whose diff is not empty: Applied marks
// its changes as drift (diff.Live.Applied), Snapshots gives its snapshot
// retention. A list that cannot be read sets Live.Err.
func ObserveSnapshots(ctx context.Context, api API, todo []*diff.Live, concurrency int) {
	forEachSpread(len(todo), concurrency, func(i int) string { return todo[i].Node }, func(i int) {
		l := todo[i]
		if err := ctx.Err(); err != nil {
			l.Err = err.Error()
			return
		}
		if err := observeSnapshots(ctx, api, l); err != nil {
			l.Err = err.Error()
		}
	})
}

func observeSnapshots(ctx context.Context, api API, l *diff.Live) error {
	snaps, err := api.Snapshots(ctx, l.Node, l.VMID)
	if err != nil {
		return err
	}
	l.Snapshots = nil
	for _, s := range snaps {
		if !s.IsCurrent() {
			l.Snapshots = append(l.Snapshots, s.Name)
		}
	}
	l.Applied = latestBaseline(snaps)
	return nil
}

// fillPending copies GET .../pending into l. The config lock appears there as
// the "lock" key; it wins over the (older) cluster resources view.
func fillPending(l *diff.Live, p pve.PendingConfig) {
	l.Digest = p.Digest
	l.Config = make(map[string]string, len(p.Entries))
	l.Pending = map[string]string{}
	l.PendingDelete = map[string]bool{}
	for _, e := range p.Entries {
		if e.Value != nil {
			l.Config[e.Key] = *e.Value
		}
		if e.Pending != nil {
			l.Pending[e.Key] = *e.Pending
		}
		if e.Delete > 0 {
			l.PendingDelete[e.Key] = true
		}
	}
	l.Lock = l.Config["lock"]
}
