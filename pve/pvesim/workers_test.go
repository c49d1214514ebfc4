package pvesim

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitFor polls cond (the pool's state) until it holds; it fails the test
// after many rounds. It asserts on counts, never on how long they took.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 4000; i++ {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

func poolState(p *workerPool) (busy, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy, len(p.waiting)
}

// TestWorkerLimitPerNode: a node serves DefaultWorkers calls at once (as
// pveproxy's max_workers); the next call to it waits for a worker while
// calls to another node go on; a freed worker, or a higher limit, lets it
// in.
func TestWorkerLimitPerNode(t *testing.T) {
	e := newEnv(t, baseInventory())
	if got := e.sim.Workers(); got != DefaultWorkers || DefaultWorkers != 3 {
		t.Fatalf("default workers %d, want 3", got)
	}
	e.sim.InjectFault(Fault{Method: "GET", Path: "/nodes/{node}/lxc/{vmid}/config", Kind: FaultHang})
	pve1 := e.sim.pools["pve1"]

	send := func(ctx context.Context, path string) chan int {
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api2/json"+path, nil)
			req.Header.Set("Authorization", "PVEAPIToken="+e.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		return done
	}
	var cancels []context.CancelFunc
	var hung []chan int
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		hung = append(hung, send(ctx, "/nodes/pve1/lxc/100/config"))
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	waitFor(t, "3 busy workers on pve1", func() bool { b, _ := poolState(pve1); return b == 3 })

	fourth := send(context.Background(), "/nodes/pve1/lxc")
	waitFor(t, "a call waiting on pve1", func() bool { _, w := poolState(pve1); return w == 1 })
	select {
	case st := <-fourth:
		t.Fatalf("the 4th call to pve1 was served (%d) while 3 workers were busy", st)
	default:
	}
	// Another node has its own workers.
	if st := <-send(context.Background(), "/nodes/pve2/lxc"); st != 200 {
		t.Fatalf("pve2 while pve1 is busy: %d", st)
	}
	// A worker that frees up takes the waiting call.
	cancels[0]()
	<-hung[0]
	if st := <-fourth; st != 200 {
		t.Fatalf("the waiting call: %d", st)
	}

	// A higher limit lets a waiting call in at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancels = append(cancels, cancel)
	hung = append(hung, send(ctx, "/nodes/pve1/lxc/100/config"))
	waitFor(t, "3 busy again", func() bool { b, _ := poolState(pve1); return b == 3 })
	fifth := send(context.Background(), "/version") // no node: the first node's workers
	waitFor(t, "/version waiting on pve1", func() bool { _, w := poolState(pve1); return w == 1 })
	e.sim.SetWorkers(4)
	if st := <-fifth; st != 200 {
		t.Fatalf("after SetWorkers(4): %d", st)
	}
	if peak := e.sim.PeakWorkers()["pve1"]; peak != 4 {
		t.Fatalf("peak on pve1 %d, want 4", peak)
	}
}

// TestWorkersControl: the control endpoint sets the limit; 0 lifts it.
func TestWorkersControl(t *testing.T) {
	e := newEnv(t, baseInventory(), WithWorkers(1))
	if e.sim.Workers() != 1 {
		t.Fatalf("WithWorkers(1): %d", e.sim.Workers())
	}
	req, _ := http.NewRequest("POST", e.url+"/_felhom/sim/workers", strings.NewReader(`{"workers":0}`))
	req.Header.Set("Authorization", "FelhomSim "+e.sim.ControlToken())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || e.sim.Workers() != 0 {
		t.Fatalf("control workers: %d, limit %d", res.StatusCode, e.sim.Workers())
	}
}
