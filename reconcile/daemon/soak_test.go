package daemon

import (
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
)

var soak = flag.Duration("soak", 0, "run TestSoak for this long (0: the short version CI runs)")

// TestSoak runs the loop round after round: each round pushes a spec change
// to a few containers and runs cycles with faults injected (failing config
// writes, failing and reset reads) at a rate, then clears the faults and
// checks that every container converges within a bounded number of resyncs.
// Memory (after a GC) and goroutine counts are sampled every round and
// printed; at the end they must not have grown beyond a small slack.
//
//	go test ./reconcile/daemon -run TestSoak -soak 10m -v
func TestSoak(t *testing.T) {
	rounds, until := 12, time.Time{}
	if *soak > 0 {
		rounds, until = 1<<30, time.Now().Add(*soak)
	}
	const n = 20
	inv := testInventory()
	files := map[string]string{}
	for i := range n {
		node, vmid := fmt.Sprintf("pve%d", i%2+1), 300+i
		addCT(inv, node, vmid)
		files[fmt.Sprintf("ct%d.yaml", vmid)] = ctSpec(node, vmid, "memory: 1G\nsnapshot:\n  keep: 2\n")
	}
	e := newEnv(t, inv)
	e.src.set(files)
	l := e.loop(Options{BackoffInitial: time.Minute, BackoffMax: 8 * time.Minute})
	converge := func(round int) {
		t.Helper()
		for range 3 {
			e.clock.c.Advance(8 * time.Minute)
			rec := e.cycle(l, KindResync)
			if rec.Result == ResultOK && len(rec.Planned) == n {
				ok := true
				for _, c := range l.Status().Containers {
					ok = ok && c.State == StateSynced
				}
				if ok {
					return
				}
			}
		}
		t.Fatalf("round %d: not converged: %+v", round, l.Status().Containers)
	}
	converge(0)

	var samples []sample
	failures := 0
	for round := 1; round <= rounds && (until.IsZero() || time.Now().Before(until)); round++ {
		for k := range 3 {
			i := (round*3 + k) % n
			node, vmid := fmt.Sprintf("pve%d", i%2+1), 300+i
			files[fmt.Sprintf("ct%d.yaml", vmid)] = ctSpec(node, vmid, fmt.Sprintf("memory: %dM\nsnapshot:\n  keep: 2\n", 1024+256*(round%4)))
		}
		e.src.set(files)
		for _, f := range []pvesim.Fault{
			{Method: "PUT", Path: "/nodes/{node}/lxc/{vmid}/config", Kind: pvesim.FaultStatus, Status: 500, Rate: 0.3},
			{Method: "GET", Path: "/nodes/{node}/lxc/{vmid}/pending", Kind: pvesim.FaultStatus, Status: 503, Rate: 0.05},
			{Method: "GET", Path: "/nodes/{node}/lxc/{vmid}/snapshot", Kind: pvesim.FaultReset, Rate: 0.05},
		} {
			e.sim.InjectFault(f)
		}
		failures += len(e.cycle(l, KindChange).Failed)
		for range 3 {
			e.clock.c.Advance(2 * time.Minute)
			failures += len(e.cycle(l, KindRetry).Failed)
		}
		e.sim.ClearFaults()
		converge(round)
		for i := range n {
			vmid := 300 + i
			want := fmt.Sprint(specMiB(files[fmt.Sprintf("ct%d.yaml", vmid)]))
			if got := e.value(vmid, "memory"); got != want {
				t.Fatalf("round %d: ct %d memory %s, want %s", round, vmid, got, want)
			}
			if lock := e.value(vmid, "lock"); lock != "" {
				t.Fatalf("round %d: ct %d lock %s left", round, vmid, lock)
			}
		}
		e.rec.take() // the test's own record of calls, not the daemon's
		samples = append(samples, takeSample(round))
	}
	for _, s := range samples {
		t.Logf("round %3d: heap %6.1f MiB, goroutines %d", s.round, float64(s.heap)/(1<<20), s.goroutines)
	}
	t.Logf("%d rounds, %d container failures under faults, all converged", len(samples), failures)
	if failures == 0 {
		t.Error("no fault hit: the soak proves nothing")
	}
	first, last := samples[len(samples)/4], samples[len(samples)-1]
	if last.goroutines > first.goroutines+5 {
		t.Errorf("goroutines grew from %d to %d", first.goroutines, last.goroutines)
	}
	if last.heap > 2*first.heap+8<<20 {
		t.Errorf("heap grew from %d to %d bytes", first.heap, last.heap)
	}
}

type sample struct {
	round      int
	heap       uint64
	goroutines int
}

func takeSample(round int) sample {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return sample{round: round, heap: m.HeapAlloc, goroutines: runtime.NumGoroutine()}
}

// specMiB is the memory a ctSpec body asks for, in MiB (it says "memory:
// NM" or "memory: 1G").
func specMiB(spec string) int {
	var mib int
	var unit string
	for _, line := range splitLines(spec) {
		if _, err := fmt.Sscanf(line, "  memory: %d%s", &mib, &unit); err == nil {
			if unit == "G" {
				return mib * 1024
			}
			return mib
		}
	}
	return 0
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
