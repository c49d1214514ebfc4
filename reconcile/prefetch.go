package reconcile

import (
	"context"
	"sort"
	"sync"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/spec"
)

// Prefetched is what a plan reads while the specs load: the cluster's
// resources, the storage list of every node hosting a container, and the
// pending config (GET .../pending) of each container the loader hands on
// (Want) as soon as it is validated. Start it with Prefetch before the
// load (spec.LoadEach with Want), then hand it to Plan in
// ObserveOptions.Prefetched, so that loading is off the plan's critical
// path (issue 15 item 3): the plan's reads run while the rest loads.
type Prefetched struct {
	done     chan struct{} // closed once res and storages are read
	res      []pve.Resource
	err      error
	storages map[string]storageRead // node -> its storage list

	nodeCap int // reads in flight per node at most

	mu     sync.Mutex
	wake   *sync.Cond     // a want, a read ended, the wants closed
	where  map[int]string // vmid -> node, once res is read
	early  []int          // vmids wanted before res was read
	queue  map[string][]*pendingRead
	busy   map[string]int // node -> reads in flight
	reads  map[int]*pendingRead
	closed bool // no more wants: the workers end when the queues are empty
	work   sync.WaitGroup
}

type storageRead struct {
	list []pve.Storage
	err  error
}

// pendingRead is one container's GET .../pending: queued, in flight, or
// done once done is closed.
type pendingRead struct {
	node string
	vmid int
	done chan struct{}
	p    pve.PendingConfig
	err  error
}

// Prefetch starts reading, in the background, GET /cluster/resources?type=vm
// and then GET /nodes/{node}/storage for every node hosting a container,
// and the pending config of each container wanted (Want), concurrency
// reads at a time (default DefaultConcurrency) and at most nodeConcurrency
// on one node (default pve.DefaultNodeConcurrency; give the client's,
// pve.Client.NodeConcurrency). The pending reads are taken from the nodes
// in turn, the least busy first, so that wants that come node by node
// (files in vmid order, vmids in blocks per node) keep every node's
// workers busy. A node hosting only containers no spec names costs its
// storage read, which Plan without Prefetch does not make. Cancel ctx to
// stop it when the plan is not made.
func Prefetch(ctx context.Context, api API, concurrency, nodeConcurrency int) *Prefetched {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if nodeConcurrency <= 0 {
		nodeConcurrency = pve.DefaultNodeConcurrency
	}
	p := &Prefetched{done: make(chan struct{}), storages: map[string]storageRead{}, nodeCap: nodeConcurrency,
		queue: map[string][]*pendingRead{}, busy: map[string]int{}, reads: map[int]*pendingRead{}}
	p.wake = sync.NewCond(&p.mu)
	context.AfterFunc(ctx, p.endWants)
	p.work.Add(concurrency)
	for range concurrency {
		go func() {
			defer p.work.Done()
			p.readPending(ctx, api)
		}()
	}
	go func() {
		defer close(p.done)
		p.res, p.err = api.ClusterResources(ctx, "vm")
		if p.err != nil {
			p.endWants() // nothing can be located: the workers end
			return
		}
		p.located(p.res)
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

// Want starts reading the pending config of the container c specifies,
// once the cluster resources say where it is: spec.LoadEach hands each
// container to it as soon as the container is validated. A container the
// cluster does not have (one to create, or missing) is not read, nor one
// wanted twice, nor one wanted after the plan took the prefetch over.
func (p *Prefetched) Want(c *spec.Container) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.where == nil {
		p.early = append(p.early, c.Spec.VMID)
		return
	}
	p.enqueue(c.Spec.VMID)
}

// located records where the resources put each container and queues the
// wants that came before them.
func (p *Prefetched) located(res []pve.Resource) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.where = make(map[int]string, len(res))
	for _, r := range res {
		if r.Type == "lxc" || r.Type == "" {
			p.where[r.VMID] = r.Node
		}
	}
	for _, vmid := range p.early {
		p.enqueue(vmid)
	}
	p.early = nil
}

// enqueue queues vmid's read on its node; p.mu is held.
func (p *Prefetched) enqueue(vmid int) {
	node, ok := p.where[vmid]
	if !ok || p.reads[vmid] != nil {
		return
	}
	r := &pendingRead{node: node, vmid: vmid, done: make(chan struct{})}
	p.reads[vmid] = r
	p.queue[node] = append(p.queue[node], r)
	p.wake.Broadcast()
}

// endWants says no more wants come: the workers read what is queued and
// end. Plan calls it when it takes the prefetch over, and so does ctx's end.
func (p *Prefetched) endWants() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.wake.Broadcast()
}

// readPending is one worker: it reads queued containers until the wants
// are closed and nothing is queued.
func (p *Prefetched) readPending(ctx context.Context, api API) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		node, ok := p.next()
		if !ok {
			if p.closed && p.queued() == 0 {
				return
			}
			p.wake.Wait()
			continue
		}
		r := p.queue[node][0]
		p.queue[node] = p.queue[node][1:]
		p.busy[node]++
		p.mu.Unlock()
		if r.err = ctx.Err(); r.err == nil {
			r.p, r.err = api.Pending(ctx, node, r.vmid)
		}
		close(r.done)
		p.mu.Lock()
		p.busy[node]--
		p.wake.Broadcast()
	}
}

// next is the node to read from now: of those with a queued read and fewer
// than nodeCap in flight, the least busy (then the one with the most
// queued, then by name). p.mu is held.
func (p *Prefetched) next() (string, bool) {
	best, found := "", false
	for n, q := range p.queue {
		if len(q) == 0 || p.busy[n] >= p.nodeCap {
			continue
		}
		if !found || p.busy[n] < p.busy[best] ||
			p.busy[n] == p.busy[best] && (len(q) > len(p.queue[best]) || len(q) == len(p.queue[best]) && n < best) {
			best, found = n, true
		}
	}
	return best, found
}

// queued is how many reads wait for a worker; p.mu is held.
func (p *Prefetched) queued() int {
	n := 0
	for _, q := range p.queue {
		n += len(q)
	}
	return n
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

// pending returns the pending config of vmid on node: prefetched (waiting
// for its read to end), or read now for a container not wanted. A
// prefetched read is taken once: a later plan reads afresh.
func (p *Prefetched) pending(ctx context.Context, api API, node string, vmid int) (pve.PendingConfig, error) {
	if p != nil {
		p.mu.Lock()
		r := p.reads[vmid]
		delete(p.reads, vmid)
		p.mu.Unlock()
		if r != nil && r.node == node {
			select {
			case <-r.done:
				return r.p, r.err
			case <-ctx.Done():
				return pve.PendingConfig{}, ctx.Err()
			}
		}
	}
	return api.Pending(ctx, node, vmid)
}

// clusterResources is observe's first read: prefetched, or read now.
func clusterResources(ctx context.Context, api API, pre *Prefetched) ([]pve.Resource, error) {
	if pre == nil {
		return api.ClusterResources(ctx, "vm")
	}
	return pre.resources(ctx)
}
