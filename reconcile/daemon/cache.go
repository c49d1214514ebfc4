package daemon

import (
	"context"
	"sync"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile"
)

// cachedAPI is the API with the node storage lists and the token's
// permissions kept between full resyncs, so that a cycle for a spec change
// reads only the cluster resources and the changed containers. A full
// resync forgets them (reset) and reads them again. Errors are not kept.
type cachedAPI struct {
	reconcile.API
	mu       sync.Mutex
	storages map[string][]pve.Storage
	perms    map[string]pve.Permissions
}

func (c *cachedAPI) reset() {
	c.mu.Lock()
	c.storages, c.perms = nil, nil
	c.mu.Unlock()
}

func (c *cachedAPI) Storages(ctx context.Context, node string) ([]pve.Storage, error) {
	c.mu.Lock()
	st, ok := c.storages[node]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := c.API.Storages(ctx, node)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.storages == nil {
		c.storages = map[string][]pve.Storage{}
	}
	c.storages[node] = st
	c.mu.Unlock()
	return st, nil
}

func (c *cachedAPI) Permissions(ctx context.Context, path string) (pve.Permissions, error) {
	c.mu.Lock()
	p, ok := c.perms[path]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := c.API.Permissions(ctx, path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.perms == nil {
		c.perms = map[string]pve.Permissions{}
	}
	c.perms[path] = p
	c.mu.Unlock()
	return p, nil
}
