package pvesim

import (
	"context"
	"sync"
)

// Workers as pveproxy and pvedaemon have them (pve-manager
// PVE/Service/pveproxy.pm and PVE/Service/pvedaemon.pm: max_workers => 3,
// MAX_WORKERS in /etc/default/pveproxy): each node serves an API call in
// one of a fixed number of worker processes, which runs the handler to its
// end before it takes the next call; calls beyond that wait. A call runs
// on the node it is proxied to (the {node} of its path, proxyto =>
// 'node'), the others on the node the client connected to, which for the
// simulator is the inventory's first node. The simulated latency is spent
// inside the worker, as a real handler's time is.

// DefaultWorkers is the per-node worker limit New starts with, pveproxy's
// max_workers.
const DefaultWorkers = 3

// workerPool is one node's workers: at most limit calls at a time (0: no
// limit); the others wait in arrival order.
type workerPool struct {
	mu      sync.Mutex
	limit   int
	busy    int
	waiting []chan struct{}
	// peak is the most calls that ran at once.
	peak int
}

// acquire waits for a free worker. It returns false, holding nothing,
// when ctx ends or done closes first.
func (p *workerPool) acquire(ctx context.Context, done <-chan struct{}) bool {
	p.mu.Lock()
	if p.limit <= 0 || p.busy < p.limit {
		p.take()
		p.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	p.waiting = append(p.waiting, ch)
	p.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-done:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, w := range p.waiting {
		if w == ch {
			p.waiting = append(p.waiting[:i], p.waiting[i+1:]...)
			return false
		}
	}
	// Granted while giving up: hand the worker on.
	p.releaseLocked()
	return false
}

// take counts one more busy worker. The caller holds p.mu.
func (p *workerPool) take() {
	p.busy++
	if p.busy > p.peak {
		p.peak = p.busy
	}
}

func (p *workerPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked()
}

// releaseLocked frees a worker and starts the waiting calls there is room
// for. The caller holds p.mu.
func (p *workerPool) releaseLocked() {
	p.busy--
	p.wake()
}

func (p *workerPool) wake() {
	for len(p.waiting) > 0 && (p.limit <= 0 || p.busy < p.limit) {
		ch := p.waiting[0]
		p.waiting = p.waiting[1:]
		p.take()
		close(ch)
	}
}

func (p *workerPool) setLimit(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limit = n
	p.wake()
}

// WithWorkers sets the per-node worker limit (default DefaultWorkers; 0 or
// less: no limit).
func WithWorkers(n int) Option { return func(s *Sim) { s.workers = n } }

// SetWorkers changes the per-node worker limit; calls waiting for a worker
// start at once when the new limit leaves room.
func (s *Sim) SetWorkers(n int) {
	s.mu.Lock()
	s.workers = n
	pools := s.pools
	s.mu.Unlock()
	for _, p := range pools {
		p.setLimit(n)
	}
}

// Workers returns the per-node worker limit.
func (s *Sim) Workers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.workers
}

// PeakWorkers returns, per node, the most API calls the node served at
// once since New.
func (s *Sim) PeakWorkers() map[string]int {
	out := map[string]int{}
	for name, p := range s.pools {
		p.mu.Lock()
		out[name] = p.peak
		p.mu.Unlock()
	}
	return out
}

// poolFor returns the workers of the node that serves a call: the path's
// node when the simulator has it, else the first node. s.pools does not
// change after New.
func (s *Sim) poolFor(vars map[string]string) *workerPool {
	if p := s.pools[vars["node"]]; p != nil {
		return p
	}
	return s.pools[s.nodes[0].name]
}
