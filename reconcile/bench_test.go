package reconcile

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/benchcluster"
	"github.com/felhom/felhom/pve/pvesim"
)

// benchLatency is the simulator's answer time per request in BenchmarkPlan.
const benchLatency = 2 * time.Millisecond

// benchNodes is how many nodes the benchmark cluster has.
const benchNodes = 3

// inFlight is how many calls can be answered at once: the client's
// concurrency, bounded by the nodes' workers.
var inFlight = min(DefaultConcurrency, pvesim.DefaultWorkers*benchNodes)

// benchSim are the simulator options of the benchmarks: the latency per
// call, and PVE's worker limit per node.
var benchSim = []pvesim.Option{pvesim.WithLatency(pvesim.Latency{Fixed: benchLatency}), pvesim.WithWorkers(pvesim.DefaultWorkers)}

// BenchmarkPlan plans n containers spread over benchNodes nodes, at
// benchLatency per request and the default concurrency, and reports the API
// calls per plan beside the floor (the fewest a correct plan needs: 1
// cluster resources + 1 storage list per node + 1 per unchanged container) and the
// ideal wall time at that concurrency (ceil(floor/inFlight) x latency).
// The simulator serves pvesim.DefaultWorkers calls at a time per node, as
// pveproxy does, so at most inFlight calls are answered at once.
//
//	go test ./reconcile -run '^$' -bench BenchmarkPlan -benchmem
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			inv, files := benchCluster(n, func(i int) bool { return i%2 == 0 }, func(int) string { return "1G" })
			e := newEnv(b, inv, benchSim...)
			specs := loadSpecs(b, files)
			floor := 1 + benchNodes + n // issue 15: one call per unchanged container
			ideal := time.Duration(math.Ceil(float64(floor)/float64(inFlight))) * benchLatency
			e.resetCalls()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: testNow, Preflight: true,
					ObserveOptions: ObserveOptions{Concurrency: DefaultConcurrency}})
				if err != nil {
					b.Fatal(err)
				}
				if p.HasChanges() {
					b.Fatal("the benchmark specs match the cluster; the plan must be empty")
				}
			}
			b.StopTimer()
			calls := 0
			for _, c := range e.calls {
				calls += c
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(floor), "floor-calls")
			b.ReportMetric(float64(ideal.Milliseconds()), "ideal-ms")
		})
	}
}

// benchCluster is n containers spread over benchNodes nodes on lvmthin, and
// specs matching them but for memory(i); running(i) says which run.
func benchCluster(n int, running func(int) bool, memory func(int) string) (*pvesim.Inventory, map[string]string) {
	return benchcluster.Cluster{N: n, Nodes: benchNodes, Running: running, Memory: memory}.Build()
}

// BenchmarkApply applies a one-field change (memory) to n running containers
// at benchLatency per request, with the specs as felhom apply DIR hands them
// in: per container a read (lock, digest), the snapshot and its task, a
// read-back after it, the PUT, the verifying read, and the baseline written
// into the snapshot's description.
//
//	go test ./reconcile -run '^$' -bench BenchmarkApply -benchmem
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			_, files := benchCluster(n, nil, func(int) string { return "2G" })
			specs := loadSpecs(b, files)
			calls := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				inv, _ := benchCluster(n, nil, nil)
				e := newEnv(b, inv, benchSim...)
				p := e.plan(specs)
				e.resetCalls()
				b.StartTimer()
				res := Apply(context.Background(), e.api, p, Options{Clock: e.clock, Specs: specs})
				b.StopTimer()
				if res.Count()[OutcomeApplied] != n {
					b.Fatalf("applied %d of %d", res.Count()[OutcomeApplied], n)
				}
				for _, c := range e.calls {
					calls += c
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(calls)/float64(b.N)/float64(n), "calls/container")
		})
	}
}
