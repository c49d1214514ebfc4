package reconcile

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
)

// e2eLatency is the simulator's answer time per request in BenchmarkE2E.
const e2eLatency = 10 * time.Millisecond

// tlsTransport sends the client's requests (addressed to sim.invalid) to a
// pvesim.Server over real HTTPS on loopback.
type tlsTransport struct {
	host string
	rt   *http.Transport
}

func (t tlsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context())
	sr.URL.Host = t.host
	sr.Host = t.host
	return t.rt.RoundTrip(sr)
}

// newTLSEnv is newEnv with the client talking to the simulator over HTTPS
// (sim.StartTLS) instead of in process.
func newTLSEnv(b *testing.B, inv *pvesim.Inventory) *env {
	b.Helper()
	e := newEnv(b, inv, pvesim.WithLatency(pvesim.Latency{Fixed: e2eLatency}), pvesim.WithWorkers(pvesim.DefaultWorkers))
	srv, err := e.sim.StartTLS()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	u, err := url.Parse(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 64, ForceAttemptHTTP2: false}
	b.Cleanup(tr.CloseIdleConnections)
	e.api = e.clientVia(testToken, tlsTransport{host: u.Host, rt: tr})
	return e
}

// heapPeak samples the live heap objects every 5 ms until stop is called
// and returns the highest value seen (simulator and client together: both
// run in this process).
func heapPeak() (stop func() uint64) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak }
}

// e2eCluster is n running containers spread over benchNodes nodes, and
// their specs: every tenth (10%) with memory 2G instead of the cluster's 1G
// when changed is set.
func e2eCluster(n int, changed bool) (*pvesim.Inventory, map[string]string) {
	return benchCluster(n, func(int) bool { return true }, func(i int) string {
		if changed && i%10 == 0 {
			return "2G"
		}
		return "1G"
	})
}

// BenchmarkE2E is felhom's plan and apply over real HTTPS against the
// simulator (sim.StartTLS) with pveproxy's worker limit (3 per node), 3
// nodes, 10 ms per request: plan with nothing changed, plan with 10% of
// the containers changed, and apply of that 10% (a fresh cluster per run,
// its plan not timed). It reports the calls per run, the floor of an
// unchanged plan (1 cluster resources + 1 storage list per node + 1 per
// container; for apply 7 per changed container, strictly ordered), the floor's time (ceil(floor / in flight) x latency, in
// flight = min(DefaultConcurrency, 3 workers x 3 nodes)), wall/floor (the
// run's time over the floor's) and the live heap's peak (simulator
// included). N = 5,000 runs only with FELHOM_BENCH_5000=1.
//
//	go test ./reconcile -run '^$' -bench BenchmarkE2E -benchtime 1x -count 3
func BenchmarkE2E(b *testing.B) {
	sizes := []int{100, 1000}
	if os.Getenv("FELHOM_BENCH_5000") == "1" {
		sizes = append(sizes, 5000)
	}
	for _, n := range sizes {
		floor := 1 + benchNodes + n
		floorTime := time.Duration(math.Ceil(float64(floor)/float64(min(DefaultConcurrency, pvesim.DefaultWorkers*benchNodes)))) * e2eLatency
		report := func(b *testing.B, calls int, wall time.Duration, peak uint64, floor int, floorTime time.Duration) {
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(floor), "floor-calls")
			b.ReportMetric(float64(floorTime.Milliseconds()), "floor-ms")
			b.ReportMetric(wall.Seconds()/float64(b.N)/floorTime.Seconds(), "wall/floor")
			b.ReportMetric(float64(peak)/1e6, "heap-peak-MB")
		}
		for _, changed := range []bool{false, true} {
			b.Run(fmt.Sprintf("plan/containers=%d/changed=%v", n, map[bool]string{false: "0%", true: "10%"}[changed]), func(b *testing.B) {
				inv, files := e2eCluster(n, changed)
				e := newTLSEnv(b, inv)
				specs := loadSpecs(b, files)
				e.resetCalls()
				var wall time.Duration
				var peak uint64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					stop := heapPeak()
					start := time.Now()
					p, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: testNow, Preflight: true,
						ObserveOptions: ObserveOptions{Concurrency: DefaultConcurrency}})
					wall += time.Since(start)
					peak = max(peak, stop())
					if err != nil {
						b.Fatal(err)
					}
					if p.HasChanges() != changed {
						b.Fatalf("plan has changes %v, want %v", p.HasChanges(), changed)
					}
				}
				b.StopTimer()
				report(b, e.totalCalls(), wall, peak, floor, floorTime)
			})
		}
		b.Run(fmt.Sprintf("apply/containers=%d/changed=10%%", n), func(b *testing.B) {
			calls := 0
			var wall time.Duration
			var peak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				inv, files := e2eCluster(n, true)
				e := newTLSEnv(b, inv)
				specs := loadSpecs(b, files)
				p := e.plan(specs)
				e.resetCalls()
				b.StartTimer()
				stop := heapPeak()
				start := time.Now()
				res := Apply(context.Background(), e.api, p, Options{Clock: e.clock, Specs: specs})
				wall += time.Since(start)
				peak = max(peak, stop())
				b.StopTimer()
				if got, want := res.Count()[OutcomeApplied], (n+9)/10; got != want {
					b.Fatalf("applied %d, want %d", got, want)
				}
				calls += e.totalCalls()
				b.StartTimer()
			}
			// Apply's floor: 7 strictly ordered calls per changed container.
			k := (n + 9) / 10
			report(b, calls, wall, peak, 7*k, time.Duration(math.Ceil(float64(k)/float64(min(DefaultConcurrency, pvesim.DefaultWorkers*benchNodes))))*7*e2eLatency)
		})
	}
}

// totalCalls is the sum of e.calls.
func (e *env) totalCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		n += c
	}
	return n
}
