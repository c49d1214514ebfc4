package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile"
)

func fourCTs(t *testing.T) (*env, map[string]string) {
	inv := testInventory()
	addCT(inv, "pve1", 101)
	addCT(inv, "pve1", 102)
	addCT(inv, "pve2", 201)
	addCT(inv, "pve2", 202)
	e := newEnv(t, inv)
	files := map[string]string{}
	for _, ct := range []struct {
		node string
		vmid int
	}{{"pve1", 101}, {"pve1", 102}, {"pve2", 201}, {"pve2", 202}} {
		files[fmt.Sprintf("ct%d.yaml", ct.vmid)] = ctSpec(ct.node, ct.vmid, "memory: 2G\n")
	}
	return e, files
}

// A full resync observes every container; a spec change observes only the
// changed container and the cluster resources (node storages and the token's
// permissions are kept from the resync); a cycle with nothing new calls
// nothing.
func TestCallsPerCycleKind(t *testing.T) {
	e, files := fourCTs(t)
	rev := e.src.set(files)
	l := e.loop(Options{})

	rec := e.cycle(l, KindResync)
	if rec.Result != ResultOK || len(rec.Changed) != 4 || rec.Revision != rev {
		t.Fatalf("first resync: %+v", rec)
	}
	e.rec.take()

	rec = e.cycle(l, KindResync)
	calls := e.rec.take()
	want := map[string]int{"GET /cluster/resources": 1, "GET /nodes/pve1/storage": 1, "GET /nodes/pve2/storage": 1}
	for _, id := range []string{"pve1/lxc/101", "pve1/lxc/102", "pve2/lxc/201", "pve2/lxc/202"} {
		want["GET /nodes/"+id+"/pending"] = 1 // snapshots are read only for a container with changes
	}
	if got := reads(calls); !maps.Equal(got, want) || writes(calls) != 0 || rec.Result != ResultOK || len(rec.Planned) != 4 {
		t.Errorf("resync without changes: %v (%d writes), want %v; %+v", got, writes(calls), want, rec)
	}
	t.Logf("resync, 4 containers, nothing to change: %d calls", len(calls))

	// Two spec changes, one after the other: the first reads the
	// permissions once more (the resync had no changes to check them for),
	// the second reads nothing but the cluster resources and its container.
	for i, vmid := range []int{201, 202} {
		files[fmt.Sprintf("ct%d.yaml", vmid)] = ctSpec("pve2", vmid, "memory: 3G\n")
		files["ct102.yaml"] = "# a comment changes nothing\n" + files["ct102.yaml"]
		e.src.set(files)
		rec = e.cycle(l, KindChange)
		calls = e.rec.take()
		got := reads(calls)
		own := fmt.Sprintf("/lxc/%d/", vmid)
		if got["GET /cluster/resources"] != 1 || got["GET /nodes/pve2/storage"]+got["GET /nodes/pve1/storage"] != 0 {
			t.Errorf("change cycle reads %v", got)
		}
		for c := range got {
			if strings.Contains(c, "/lxc/") && !strings.Contains(c, own) {
				t.Errorf("change cycle read another container: %s", c)
			}
		}
		if !slices.Equal(rec.Planned, []int{vmid}) || !slices.Equal(rec.Changed, []int{vmid}) || e.value(vmid, "memory") != "3072" {
			t.Errorf("change cycle: %+v, memory %s", rec, e.value(vmid, "memory"))
		}
		if want := 1 - i; got["GET /access/permissions"] != want {
			t.Errorf("change cycle %d read the permissions %d times, want %d", i+1, got["GET /access/permissions"], want)
		}
		t.Logf("change of 1 of 4 containers: %d calls, %d writes", len(calls), writes(calls))
	}

	rec = e.cycle(l, KindChange)
	if calls := e.rec.take(); len(calls) != 0 || rec.Result != ResultIdle {
		t.Errorf("a cycle without a new revision: %v, %+v", calls, rec)
	}
}

// A revision that does not validate is never applied: the last good one
// stays in force (a resync still reverts drift by it), the error with
// file:line:column shows in the status and the cycle, until a fixing
// revision arrives.
func TestInvalidRevisionKeepsTheLastGood(t *testing.T) {
	e, files := fourCTs(t)
	good := e.src.set(files)
	l := e.loop(Options{})
	if rec := e.cycle(l, KindResync); rec.Result != ResultOK {
		t.Fatalf("first cycle: %+v", rec)
	}
	e.rec.take()

	broken := maps.Clone(files)
	broken["ct101.yaml"] = ctSpec("pve1", 101, "memory: 4G\ncores: lots\n")
	bad := e.src.set(broken)
	rec := e.cycle(l, KindChange)
	calls := e.rec.take()
	st := l.Status()
	if rec.Result != ResultInvalid || writes(calls) != 0 || st.Revision != good || st.Invalid == nil || st.Invalid.Revision != bad {
		t.Fatalf("invalid revision: %+v, %d writes, status %+v", rec, writes(calls), st)
	}
	if len(st.Invalid.Errors) != 1 || !strings.HasPrefix(st.Invalid.Errors[0], "ct101.yaml:9:10: error:") {
		t.Errorf("invalid revision errors %q", st.Invalid.Errors)
	}
	if e.value(101, "memory") != "2048" {
		t.Errorf("memory %s after an invalid revision", e.value(101, "memory"))
	}

	// The last good revision is still in force: a hand change is reverted by
	// it at the resync, and the invalid revision stays reported.
	e.handSet("pve1", 102, "memory", "512")
	rec = e.cycle(l, KindResync)
	if e.value(102, "memory") != "2048" || rec.Revision != good || !slices.Equal(rec.Changed, []int{102}) || l.Status().Invalid == nil {
		t.Errorf("resync under an invalid revision: %+v, memory %s", rec, e.value(102, "memory"))
	}

	fixed := maps.Clone(files)
	fixed["ct101.yaml"] = ctSpec("pve1", 101, "memory: 4G\n")
	rev := e.src.set(fixed)
	rec = e.cycle(l, KindChange)
	if st := l.Status(); rec.Result != ResultOK || st.Invalid != nil || st.Revision != rev || e.value(101, "memory") != "4096" {
		t.Errorf("fixing revision: %+v, status %+v", rec, st)
	}
}

// drift: revert changes a hand change back; drift: report leaves it and
// shows it.
func TestDriftRevertAndReport(t *testing.T) {
	e, files := fourCTs(t)
	files["ct202.yaml"] = ctSpec("pve2", 202, "memory: 2G\ncores: 2\ndrift: report\n")
	e.src.set(files)
	l := e.loop(Options{})
	e.cycle(l, KindResync)

	e.handSet("pve2", 201, "memory", "4096")
	e.handSet("pve2", 202, "cores", "4")
	rec := e.cycle(l, KindResync)
	if e.value(201, "memory") != "2048" || e.value(202, "cores") != "4" || !slices.Equal(rec.Changed, []int{201}) {
		t.Errorf("after the resync: memory %s (want 2048), cores %s (want 4, left), %+v", e.value(201, "memory"), e.value(202, "cores"), rec)
	}
	if s := statusOf(t, l, 201); !slices.Equal(s.Drift, []string{"memory"}) || s.DriftPolicy != "revert" || s.State != StateSynced {
		t.Errorf("ct 201: %+v", s)
	}
	if s := statusOf(t, l, 202); !slices.Equal(s.Drift, []string{"cores"}) || s.DriftPolicy != "report" || s.State != StateSynced {
		t.Errorf("ct 202: %+v", s)
	}
}

// A failing container backs off exponentially, up to the bound, on the
// loop's clock, while the others are applied; a changed spec ends the
// backoff.
func TestFailingContainerBacksOff(t *testing.T) {
	e, files := fourCTs(t)
	e.src.set(files)
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", ID: "102", Fail: "snapshot storage is full"})
	l := e.loop(Options{BackoffInitial: time.Minute, BackoffMax: 4 * time.Minute})

	rec := e.cycle(l, KindResync)
	if !slices.Equal(rec.Failed, []int{102}) || !slices.Equal(rec.Changed, []int{101, 201, 202}) || rec.Result != ResultFailed {
		t.Fatalf("first cycle: %+v", rec)
	}
	s := statusOf(t, l, 102)
	if s.State != StateFailed || s.Failures != 1 || !s.RetryAt.Equal(e.clock.Now().Add(time.Minute)) || s.Failure != reconcile.FailureTask {
		t.Fatalf("ct 102 after one failure: %+v", s)
	}
	e.rec.take()
	if rec := e.cycle(l, KindRetry); rec.Result != ResultIdle || len(e.rec.take()) != 0 {
		t.Errorf("retry before the backoff ends: %+v", rec)
	}
	if rec := e.cycle(l, KindResync); slices.Contains(rec.Planned, 102) {
		t.Errorf("a resync planned the container backing off: %+v", rec)
	}
	var waits []time.Duration
	for range 4 {
		e.clock.c.Set(statusOf(t, l, 102).RetryAt)
		rec := e.cycle(l, KindRetry)
		if !slices.Equal(rec.Planned, []int{102}) {
			t.Fatalf("retry: %+v", rec)
		}
		s := statusOf(t, l, 102)
		waits = append(waits, s.RetryAt.Sub(e.clock.Now()).Round(time.Second))
	}
	if want := []time.Duration{2 * time.Minute, 4 * time.Minute, 4 * time.Minute, 4 * time.Minute}; !slices.Equal(waits, want) {
		t.Errorf("backoffs %v, want %v", waits, want)
	}

	e.sim.ClearTaskOutcomes()
	files["ct102.yaml"] = ctSpec("pve1", 102, "memory: 3G\n")
	e.src.set(files)
	rec = e.cycle(l, KindChange)
	if s := statusOf(t, l, 102); !slices.Equal(rec.Changed, []int{102}) || s.State != StateSynced || s.Failures != 0 || !s.RetryAt.IsZero() {
		t.Errorf("a changed spec: %+v, %+v", rec, s)
	}
}

// mode: plan observes and reports, and never writes.
func TestModePlanChangesNothing(t *testing.T) {
	e, files := fourCTs(t)
	e.src.set(files)
	l := e.loop(Options{Mode: ModePlan})
	rec := e.cycle(l, KindResync)
	if calls := e.rec.take(); writes(calls) != 0 || rec.Result != ResultOK || len(rec.Planned) != 4 || len(rec.Changed) != 0 {
		t.Fatalf("plan mode: %d writes, %+v", writes(calls), rec)
	}
	if s := statusOf(t, l, 101); s.State != StateOutOfSync || e.value(101, "memory") != "1024" {
		t.Errorf("ct 101 in plan mode: %+v", s)
	}
}

// A container is paused by suspend: true in its spec or by Suspend: it is
// neither read nor changed; resumed, it is planned in the next cycle.
func TestSuspend(t *testing.T) {
	e, files := fourCTs(t)
	files["ct101.yaml"] = ctSpec("pve1", 101, "memory: 2G\nsuspend: true\n")
	e.src.set(files)
	l := e.loop(Options{})
	l.Suspend(202, true)
	rec := e.cycle(l, KindResync)
	for c := range reads(e.rec.take()) {
		if strings.Contains(c, "/lxc/101/") || strings.Contains(c, "/lxc/202/") {
			t.Errorf("a suspended container was read: %s", c)
		}
	}
	if !slices.Equal(rec.Planned, []int{102, 201}) || statusOf(t, l, 101).State != StateSuspended || statusOf(t, l, 202).State != StateSuspended {
		t.Fatalf("suspended: %+v", rec)
	}
	l.Suspend(202, false)
	if rec := e.cycle(l, KindChange); !slices.Equal(rec.Changed, []int{202}) {
		t.Errorf("resumed: %+v", rec)
	}
}

// Work outside a cycle (scheduled backups) holds its container; a cycle
// leaves a busy container for the next one.
func TestWithContainerSerialises(t *testing.T) {
	e, files := fourCTs(t)
	e.src.set(files)
	l := e.loop(Options{})
	var inner CycleRecord
	ran := l.WithContainer(101, func() {
		inner = e.cycle(l, KindResync)
		if l.WithContainer(101, func() {}) {
			t.Error("a busy container was taken twice")
		}
	})
	if !ran || slices.Contains(inner.Planned, 101) || len(inner.Planned) != 3 {
		t.Fatalf("cycle while ct 101 is busy: %v, %+v", ran, inner)
	}
	if rec := e.cycle(l, KindRetry); !slices.Equal(rec.Changed, []int{101}) {
		t.Errorf("the next cycle: %+v", rec)
	}
}

// A source that cannot be fetched before any good revision leaves nothing to
// do; later, the last good revision stays in force.
func TestFetchFailure(t *testing.T) {
	e, files := fourCTs(t)
	e.src.err = errors.New("connection refused")
	l := e.loop(Options{})
	if rec := e.cycle(l, KindResync); rec.Result != ResultError || len(e.rec.take()) != 0 {
		t.Fatalf("no revision yet: %+v", rec)
	}
	e.src.err = nil
	rev := e.src.set(files)
	e.cycle(l, KindResync)
	e.src.err = errors.New("connection refused")
	e.handSet("pve1", 101, "memory", "512")
	rec := e.cycle(l, KindResync)
	if st := l.Status(); rec.Result != ResultError || st.Revision != rev || st.FetchError == "" || e.value(101, "memory") != "2048" {
		t.Errorf("fetch failure: %+v, %+v", rec, st)
	}
}

// Run cycles on a new revision and returns nil when its context ends.
func TestRunFollowsTheSource(t *testing.T) {
	e, files := fourCTs(t)
	e.src.set(files)
	l := e.loop(Options{Resync: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	waitFor(t, func() bool { return e.value(101, "memory") == "2048" })
	files["ct101.yaml"] = ctSpec("pve1", 101, "memory: 3G\n")
	e.src.set(files)
	waitFor(t, func() bool { return e.value(101, "memory") == "3072" })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if c := l.Status().Cycles; len(c) < 2 || c[0].Kind != KindChange {
		t.Errorf("cycles %+v", c)
	}
}

// waitFor polls cond (a goroutine's progress, not a time) for up to a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 6000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}
