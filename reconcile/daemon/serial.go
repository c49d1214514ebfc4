package daemon

import "sync"

// serial serialises work per container: a cycle's apply and, later,
// scheduled work (backups) on the same container never overlap. Work that
// finds its container busy is left for the next cycle; nothing waits.
type serial struct {
	mu   sync.Mutex
	busy map[int]bool
}

// tryAcquire takes every vmid that is free and returns those it took.
func (s *serial) tryAcquire(vmids []int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == nil {
		s.busy = map[int]bool{}
	}
	var got []int
	for _, id := range vmids {
		if !s.busy[id] {
			s.busy[id] = true
			got = append(got, id)
		}
	}
	return got
}

func (s *serial) release(vmids []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range vmids {
		delete(s.busy, id)
	}
}
