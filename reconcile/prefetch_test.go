package reconcile

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"
	"time"

	"github.com/felhom/felhom/pve/pvesim"

	"github.com/google/go-cmp/cmp"
)

// TestPlanPrefetched: Prefetch reads the cluster resources and the storage
// lists before any spec is known, and Plan given them makes only its
// per-container reads: the calls in all are those of Plan alone, and so is
// the plan (issue 15 item 3).
func TestPlanPrefetched(t *testing.T) {
	inv := testInventory()
	n2 := inv.AddNode("pve2")
	n2.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, false, conf(102, "local-lvm"))
	n2.AddContainer(201, true, conf(201, "local-lvm"))
	inv.Node("pve1").AddContainer(150, true, conf(150, "local-lvm")) // not managed
	e := newEnv(t, inv)
	files := map[string]string{"a.yaml": ctSpec("ct101", "pve1", 101, "memory: 2G\n"),
		"b.yaml": ctSpec("ct102", "pve1", 102, "memory: 1G\n"), "c.yaml": ctSpec("ct201", "pve2", 201, "memory: 1G\n")}
	want := e.plan(loadSpecs(t, files))

	e.resetCalls()
	pre := Prefetch(context.Background(), e.api, 0)
	<-pre.done
	early := map[string]int{"GET /cluster/resources": 1, "GET /nodes/{node}/storage": 2}
	if !sameCounts(e.calls, early) {
		t.Errorf("calls before the specs %v, want %v", e.calls, early)
	}
	p, err := Plan(context.Background(), e.api, loadSpecs(t, files),
		PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true, ObserveOptions: ObserveOptions{Prefetched: pre}})
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]int{"GET /cluster/resources": 1, "GET /nodes/{node}/storage": 2, "GET /nodes/{node}/lxc/{vmid}/pending": 3,
		"GET /nodes/{node}/lxc/{vmid}/snapshot": 1, "GET /access/permissions": 1}
	if !sameCounts(e.calls, all) {
		t.Errorf("calls %v, want %v", e.calls, all)
	}
	if d := cmp.Diff(fmt.Sprintf("%+v", want.Summary()), fmt.Sprintf("%+v", p.Summary())); d != "" {
		t.Errorf("plan summary (-without +with prefetch):\n%s", d)
	}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("plan (-without +with prefetch):\n%s", d)
	}
}

// BenchmarkLoadAndPlan is felhom plan DIR's path at 1,000 containers over
// benchNodes nodes at 10 ms per request: spec.Load from a folder, then
// Plan (sequential), or Prefetch started before the load and handed to Plan
// (prefetched), as the CLI does now.
//
//	go test ./reconcile -run '^$' -bench BenchmarkLoadAndPlan -benchtime 3x
func BenchmarkLoadAndPlan(b *testing.B) {
	const n = 1000
	inv, files := benchCluster(n, func(i int) bool { return i%2 == 0 }, nil)
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	e := newEnv(b, inv, pvesim.WithLatency(pvesim.Latency{Fixed: 10 * time.Millisecond}), pvesim.WithWorkers(pvesim.DefaultWorkers))
	for _, prefetch := range []bool{false, true} {
		name := map[bool]string{false: "sequential", true: "prefetched"}[prefetch]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				opts := PlanOptions{Now: testNow, ObserveOptions: ObserveOptions{Concurrency: DefaultConcurrency}}
				if prefetch {
					opts.Prefetched = Prefetch(ctx, e.api, DefaultConcurrency)
				}
				s, err := Load(Source{FS: fsys})
				if err != nil {
					b.Fatal(err)
				}
				p, err := PlanSpecs(ctx, e.api, s, opts)
				cancel()
				if err != nil || p.HasChanges() {
					b.Fatal(err)
				}
			}
		})
	}
}
