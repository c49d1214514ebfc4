package reconcile

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/felhom/felhom/pve"
)

// API is the part of the PVE API reconcile uses. *pve.Client satisfies it;
// tests may hand in the simulator through a client or a fake.
type API interface {
	ClusterResources(ctx context.Context, typ string) ([]pve.Resource, error)
	Pending(ctx context.Context, node string, vmid int) (pve.PendingConfig, error)
	Snapshots(ctx context.Context, node string, vmid int) ([]pve.Snapshot, error)
	Storages(ctx context.Context, node string) ([]pve.Storage, error)
	StorageContent(ctx context.Context, node, storage string, q pve.ContentQuery) ([]pve.Volume, error)
	ExtractConfig(ctx context.Context, node, volid string) (string, error)
	Nodes(ctx context.Context) ([]pve.Node, error)
	NodeTime(ctx context.Context, node string) (pve.NodeTime, error)
	Permissions(ctx context.Context, path string) (pve.Permissions, error)
	CurrentStatus(ctx context.Context, node string, vmid int) (pve.ContainerStatus, error)

	SetConfig(ctx context.Context, node string, vmid int, ch pve.ConfigChange) (*pve.UPID, error)
	Resize(ctx context.Context, node string, vmid int, disk, size, digest string) (pve.UPID, error)
	CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (pve.UPID, error)
	DeleteSnapshot(ctx context.Context, node string, vmid int, name string, force bool) (pve.UPID, error)
	RollbackSnapshot(ctx context.Context, node string, vmid int, name string, start bool) (pve.UPID, error)
	UpdateSnapshotDescription(ctx context.Context, node string, vmid int, name, description string) error
	Vzdump(ctx context.Context, node string, o pve.VzdumpOptions) (pve.UPID, error)
	PruneBackups(ctx context.Context, node, storage string, q pve.PruneQuery) (pve.UPID, error)
	Reboot(ctx context.Context, node string, vmid int) (pve.UPID, error)
	Start(ctx context.Context, node string, vmid int) (pve.UPID, error)
	Shutdown(ctx context.Context, node string, vmid int) (pve.UPID, error)
	Create(ctx context.Context, node string, o pve.CreateOptions) (pve.UPID, error)
	Restore(ctx context.Context, node string, o pve.RestoreOptions) (pve.UPID, error)
	NextID(ctx context.Context, vmid int) (int, error)
	WaitTask(ctx context.Context, upid pve.UPID) (pve.TaskResult, error)
}

var _ API = (*pve.Client)(nil)

// Clock is the time apply reads and sleeps on while it waits for a lock.
// Tests hand in one that advances the simulator's clock instead of sleeping.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, and returns ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DefaultConcurrency is how many containers Observe and Apply work on at
// once when the options leave it zero.
const DefaultConcurrency = 8

// forEach runs fn(i) for i in [0, n) with at most limit running at once and
// waits for all.
func forEach(n, limit int, fn func(i int)) {
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}(i)
	}
	wg.Wait()
}

// forEachSpread is forEach over the items in nodeOrder: PVE serves a few
// calls at a time per node (pveproxy's 3 workers), so items taken in their
// given order, usually by vmid and so often node by node, would queue all
// the calls in flight on one node while the others idle.
func forEachSpread(n, limit int, node func(i int) string, fn func(i int)) {
	order := nodeOrder(n, node)
	forEach(n, limit, func(k int) { fn(order[k]) })
}

// nodeOrder returns the indices 0..n-1 with each node's items spread evenly
// through the order: item r of a node's c items (in their given order)
// stands at (r + 1/2) / c of the way, ties going to the node seen first.
// Nodes with equal counts alternate; a node with more items gets
// proportionally more of every stretch, so it is never left alone at the
// end with calls the other nodes could have served beside it.
func nodeOrder(n int, node func(i int) string) []int {
	type item struct{ i, rank, count, first int }
	first := map[string]int{} // node -> its index among the nodes, by first appearance
	counts := []int{}
	items := make([]item, n)
	for i := range n {
		k, ok := first[node(i)]
		if !ok {
			k = len(counts)
			first[node(i)] = k
			counts = append(counts, 0)
		}
		items[i] = item{i: i, rank: counts[k], first: k}
		counts[k]++
	}
	for i := range items {
		items[i].count = counts[items[i].first]
	}
	// (2 rank + 1) / (2 count), compared without division.
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare((2*a.rank+1)*b.count, (2*b.rank+1)*a.count), cmp.Compare(a.first, b.first))
	})
	order := make([]int, n)
	for k, it := range items {
		order[k] = it.i
	}
	return order
}
