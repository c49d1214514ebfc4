package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile"
)

// benchLatency and benchNodes are reconcile's BenchmarkPlan's: 2 ms per
// request, 3 nodes, PVE's 3 workers per node.
const (
	benchLatency = 2 * time.Millisecond
	benchNodes   = 3
)

// BenchmarkCycle is the cost of one daemon cycle at n containers: a spec
// change of one file (that container planned and applied: a hot memory
// change) and a full resync that finds nothing to do (every container read).
//
//	go test ./reconcile/daemon -run '^$' -bench BenchmarkCycle -benchmem -benchtime 5x
func BenchmarkCycle(b *testing.B) {
	for _, n := range []int{100, 1000} {
		inv := pvesim.NewInventory("bench")
		for i := range benchNodes {
			inv.AddNode(fmt.Sprintf("pve%d", i+1)).AddStorage("local-lvm", "lvmthin", "rootdir", "images")
		}
		files := map[string]string{}
		node := func(i int) string { return fmt.Sprintf("pve%d", i%benchNodes+1) }
		for i := range n {
			vmid := 1000 + i
			addCT(inv, node(i), vmid)
			files[fmt.Sprintf("ct%d.yaml", vmid)] = ctSpec(node(i), vmid, "memory: 1G\n")
		}
		e := newEnvSim(b, inv, []pvesim.Option{pvesim.WithLatency(pvesim.Latency{Fixed: benchLatency}), pvesim.WithWorkers(pvesim.DefaultWorkers)})
		e.src.set(files)
		l := e.loop(Options{Apply: reconcile.Options{Concurrency: reconcile.DefaultConcurrency}})
		if rec := e.cycle(l, KindResync); rec.Result != ResultOK || len(rec.Planned) != n || len(rec.Changed) != 0 {
			b.Fatalf("first resync: %+v", rec.Result)
		}
		e.rec.take()

		b.Run(fmt.Sprintf("containers=%d/change=1", n), func(b *testing.B) {
			calls := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				vmid := 1000 + i%n
				mem := "2G"
				if i/n%2 == 1 {
					mem = "1G"
				}
				files[fmt.Sprintf("ct%d.yaml", vmid)] = ctSpec(node(i%n), vmid, "memory: "+mem+"\n")
				e.src.set(files)
				e.clock.c.Advance(time.Second)
				b.StartTimer()
				rec := l.Cycle(b.Context(), KindChange)
				b.StopTimer()
				if len(rec.Changed) != 1 {
					b.Fatalf("cycle: %+v", rec)
				}
				calls += len(e.rec.take())
				b.StartTimer()
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		})
		b.Run(fmt.Sprintf("containers=%d/resync", n), func(b *testing.B) {
			calls := 0
			b.ReportAllocs()
			for b.Loop() {
				rec := l.Cycle(b.Context(), KindResync)
				b.StopTimer()
				if len(rec.Planned) != n || len(rec.Changed) != 0 {
					b.Fatalf("resync: %+v", rec)
				}
				calls += len(e.rec.take())
				b.StartTimer()
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		})
	}
}
