package reconcile

import (
	"context"
	"sort"

	"github.com/felhom/felhom/pve"
)

// Prefetched is what a plan reads before it needs the specs: the cluster's
// resources and the storage list of every node hosting a container. Start
// it with Prefetch while the specs load (Load), then hand it to Plan in
// ObserveOptions.Prefetched, so that loading is off the plan's critical
// path (issue 15 item 3).
type Prefetched struct {
	done     chan struct{}
	res      []pve.Resource
	err      error
	storages map[string]storageRead // node -> its storage list
}

type storageRead struct {
	list []pve.Storage
	err  error
}

// Prefetch starts reading, in the background, GET /cluster/resources?type=vm
// and then GET /nodes/{node}/storage for every node hosting a container,
// concurrency at a time. A node hosting only containers no spec names costs
// its storage read, which Plan without Prefetch does not make. Cancel ctx
// to stop it when the plan is not made.
func Prefetch(ctx context.Context, api API, concurrency int) *Prefetched {
	p := &Prefetched{done: make(chan struct{}), storages: map[string]storageRead{}}
	go func() {
		defer close(p.done)
		p.res, p.err = api.ClusterResources(ctx, "vm")
		if p.err != nil {
			return
		}
		seen := map[string]bool{}
		var nodes []string
		for _, r := range p.res {
			if (r.Type == "lxc" || r.Type == "") && r.Node != "" && !seen[r.Node] {
				seen[r.Node] = true
				nodes = append(nodes, r.Node)
			}
		}
		sort.Strings(nodes)
		reads := make([]storageRead, len(nodes))
		forEach(len(nodes), concurrency, func(i int) {
			reads[i].list, reads[i].err = api.Storages(ctx, nodes[i])
		})
		for i, n := range nodes {
			p.storages[n] = reads[i]
		}
	}()
	return p
}

// resources waits for the prefetch and returns the cluster resources.
func (p *Prefetched) resources(ctx context.Context) ([]pve.Resource, error) {
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// storageList returns node's storage list: prefetched, or read now for a
// node the prefetch did not read. Call it after resources.
func (p *Prefetched) storageList(ctx context.Context, api API, node string) ([]pve.Storage, error) {
	if p != nil {
		if s, ok := p.storages[node]; ok {
			return s.list, s.err
		}
	}
	return api.Storages(ctx, node)
}

// clusterResources is observe's first read: prefetched, or read now.
func clusterResources(ctx context.Context, api API, pre *Prefetched) ([]pve.Resource, error) {
	if pre == nil {
		return api.ClusterResources(ctx, "vm")
	}
	return pre.resources(ctx)
}
