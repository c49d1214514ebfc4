package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/spec"

	"github.com/google/go-cmp/cmp"
)

// TestPlanPrefetched: Prefetch reads the cluster resources and the storage
// lists before any spec is known, and the pending config of each container
// wanted as it loads, and Plan given them makes only the reads it lacks:
// the calls in all are those of Plan alone, and so is the plan (issue 15
// item 3). The containers are wanted before the resources are read, and
// after.
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

	for _, early := range []bool{true, false} {
		e.resetCalls()
		pre := Prefetch(context.Background(), e.api, 0, 0)
		specs := loadSpecs(t, files)
		if !early {
			<-pre.done
		}
		for i := range specs {
			pre.Want(&specs[i])
		}
		<-pre.done
		waitReads(pre)
		before := map[string]int{"GET /cluster/resources": 1, "GET /nodes/{node}/storage": 2, "GET /nodes/{node}/lxc/{vmid}/pending": 3}
		if !sameCounts(e.calls, before) {
			t.Errorf("early %v: calls before the plan %v, want %v", early, e.calls, before)
		}
		p, err := Plan(context.Background(), e.api, specs,
			PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true, ObserveOptions: ObserveOptions{Prefetched: pre}})
		if err != nil {
			t.Fatal(err)
		}
		all := map[string]int{"GET /cluster/resources": 1, "GET /nodes/{node}/storage": 2, "GET /nodes/{node}/lxc/{vmid}/pending": 3,
			"GET /nodes/{node}/lxc/{vmid}/snapshot": 1, "GET /access/permissions": 1}
		if !sameCounts(e.calls, all) {
			t.Errorf("early %v: calls %v, want %v", early, e.calls, all)
		}
		if d := cmp.Diff(want, p); d != "" {
			t.Errorf("early %v: plan (-without +with prefetch):\n%s", early, d)
		}
		pre.work.Wait() // the workers end once the plan took over
	}
}

// waitReads waits until every pending read pre queued has ended.
func waitReads(pre *Prefetched) {
	pre.mu.Lock()
	var reads []*pendingRead
	for _, r := range pre.reads {
		reads = append(reads, r)
	}
	pre.mu.Unlock()
	for _, r := range reads {
		<-r.done
	}
}

// TestPrefetchWants: a container is read once however often it is wanted,
// and not at all when the cluster does not have it as a container (one to
// create, or a VM's vmid) or when it is wanted after the plan took over.
func TestPrefetchWants(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	inv.Node("pve1").AddVM(300, "vm300")
	e := newEnv(t, inv)
	pre := Prefetch(context.Background(), e.api, 0, 0)
	want := func(vmid int) { pre.Want(&spec.Container{Spec: spec.ContainerSpec{VMID: vmid}}) }
	want(101)
	want(999)
	<-pre.done
	want(101)
	want(300)
	waitReads(pre)
	pre.endWants()
	want(102)
	pre.work.Wait()
	if got := e.calls["GET /nodes/{node}/lxc/{vmid}/pending"]; got != 1 {
		t.Errorf("%d pending reads, want 1 (of 101)", got)
	}
	if _, err := pre.pending(context.Background(), e.api, "pve1", 101); err != nil {
		t.Fatal(err)
	}
	if got := e.calls["GET /nodes/{node}/lxc/{vmid}/pending"]; got != 1 {
		t.Errorf("%d pending reads after taking 101's, want 1", got)
	}
	if _, err := pre.pending(context.Background(), e.api, "pve1", 101); err != nil { // taken once: read afresh
		t.Fatal(err)
	}
	if got := e.calls["GET /nodes/{node}/lxc/{vmid}/pending"]; got != 2 {
		t.Errorf("%d pending reads after taking 101's twice, want 2", got)
	}
}

// gatedAPI answers the prefetch's reads and holds every pending read
// until its node's release channel says, sending the node of each read to
// started as it starts.
type gatedAPI struct {
	API
	res     []pve.Resource
	started chan string
	release map[string]chan struct{}
}

func newGatedAPI(nodes map[string][]int) *gatedAPI {
	g := &gatedAPI{started: make(chan string, 100), release: map[string]chan struct{}{}}
	for _, node := range slices.Sorted(maps.Keys(nodes)) {
		g.release[node] = make(chan struct{})
		for _, vmid := range nodes[node] {
			g.res = append(g.res, pve.Resource{Type: "lxc", Node: node, VMID: vmid})
		}
	}
	return g
}

func (g *gatedAPI) ClusterResources(context.Context, string) ([]pve.Resource, error) {
	return g.res, nil
}
func (g *gatedAPI) Storages(context.Context, string) ([]pve.Storage, error) { return nil, nil }
func (g *gatedAPI) Pending(ctx context.Context, node string, vmid int) (pve.PendingConfig, error) {
	g.started <- node
	select {
	case <-g.release[node]:
		return pve.PendingConfig{Digest: fmt.Sprint(vmid)}, nil
	case <-ctx.Done():
		return pve.PendingConfig{}, ctx.Err()
	}
}

// wantAll wants every container g's cluster has, in the order of g.res.
func (g *gatedAPI) wantAll(pre *Prefetched) {
	for _, r := range g.res {
		pre.Want(&spec.Container{Spec: spec.ContainerSpec{VMID: r.VMID}})
	}
}

// TestPrefetchSpreadsNodes: containers wanted node by node (files in vmid
// order, vmids in blocks per node) are read from every node at once, at
// most the node bound on one node even with workers free, and a read that
// ends makes room for its node's next.
func TestPrefetchSpreadsNodes(t *testing.T) {
	g := newGatedAPI(map[string][]int{"pve1": {100, 101, 102, 103, 104, 105}, "pve2": {200, 201}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pre := Prefetch(ctx, g, 5, 2)
	g.wantAll(pre) // pve1's six first, then pve2's two
	got := map[string]int{}
	for range 4 {
		got[<-g.started]++
	}
	if want := map[string]int{"pve1": 2, "pve2": 2}; !maps.Equal(got, want) {
		t.Errorf("first reads in flight by node %v, want %v", got, want)
	}
	select {
	case n := <-g.started:
		t.Fatalf("a fifth read started (on %s) with both nodes at their bound", n)
	default:
	}
	g.release["pve1"] <- struct{}{}
	if n := <-g.started; n != "pve1" {
		t.Errorf("next read on %s, want pve1", n)
	}
	pre.endWants()
	close(g.release["pve1"])
	close(g.release["pve2"])
	pre.work.Wait()
	if n := len(g.started); n != 3 {
		t.Errorf("%d more reads, want pve1's last 3", n)
	}
	for _, r := range g.res {
		p, err := pre.pending(ctx, g, r.Node, r.VMID)
		if err != nil || p.Digest != fmt.Sprint(r.VMID) {
			t.Errorf("pending %d: %+v, %v", r.VMID, p, err)
		}
	}
}

// TestPrefetchCancel: when ctx ends before the plan takes over (the specs
// did not load), the reads in flight end, the workers end, and what was
// queued is not read.
func TestPrefetchCancel(t *testing.T) {
	g := newGatedAPI(map[string][]int{"pve1": {100, 101, 102, 103, 104, 105, 106, 107}})
	ctx, cancel := context.WithCancel(context.Background())
	pre := Prefetch(ctx, g, 2, 2)
	g.wantAll(pre)
	<-g.started
	<-g.started
	cancel()
	pre.work.Wait()
	if n := len(g.started); n != 0 {
		t.Errorf("%d reads started after the cancel", n)
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
					opts.Prefetched = Prefetch(ctx, e.api, DefaultConcurrency, 0)
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
