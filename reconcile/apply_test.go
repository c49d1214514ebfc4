package reconcile

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// Rule 3 between felhom's own writes: a change by someone else after the
// snapshot stops the container as stale, and is not rolled back.
func TestChangeAfterTheSnapshotIsStale(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	other := e.client(testToken)
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventTask {
			// The snapshot task runs; an admin changes the cores meanwhile.
			if _, err := other.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{"cores": "6"}}); err != nil {
				t.Error(err)
			}
		}
	}}
	cr := resultFor(t, e.apply(p, Options{Progress: rec}), 101)
	if cr.Outcome != OutcomeStale || !strings.Contains(cr.Error, "cores") || cr.RolledBack {
		t.Fatalf("result: %s %s rolled back %v", cr.Outcome, cr.Error, cr.RolledBack)
	}
	if mainValue(t, e, 101, "cores") != "6" || mainValue(t, e, 101, "memory") != "1024" {
		t.Error("felhom wrote over, or rolled back, someone else's change")
	}
}

// A container that cannot be read is planned as an error; the others are
// still planned and applied.
func TestUnreadableContainerDoesNotStopTheOthers(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, true, conf(102, "local-lvm"))
	e := newEnv(t, inv)
	e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/nodes/pve1/lxc/102/pending", Status: 500, Message: "got timeout"})
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, ""), "b.yaml": specMemory(102, "")}))
	if cp := planFor(t, p, 102); cp.Status != plan.StatusError || !strings.Contains(strings.Join(cp.Blocked, " "), "got timeout") {
		t.Fatalf("ct 102: %s %v", cp.Status, cp.Blocked)
	}
	e.sim.ClearFaults()
	res := e.apply(p, Options{})
	if cr := resultFor(t, res, 101); cr.Outcome != OutcomeApplied {
		t.Errorf("ct 101: %s %s", cr.Outcome, cr.Error)
	}
	if cr := resultFor(t, res, 102); cr.Outcome != OutcomeSkipped || mainValue(t, e, 102, "memory") != "1024" {
		t.Errorf("ct 102: %s %s", cr.Outcome, cr.Error)
	}
}

// A lock taken between felhom's read and its write (a backup job starting)
// is waited out and the write tried again.
func TestLockBetweenReadAndWriteIsWaitedOut(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventStep && strings.HasPrefix(ev.Detail, "set config") {
			if err := e.sim.HoldLock(101, "backup", 30*time.Second); err != nil {
				t.Error(err)
			}
		}
	}}
	cr := resultFor(t, e.apply(p, Options{Progress: rec, LockPoll: 10 * time.Second}), 101)
	if cr.Outcome != OutcomeApplied || rec.kinds(EventWait) == 0 {
		t.Fatalf("result: %s %s, %d waits", cr.Outcome, cr.Error, rec.kinds(EventWait))
	}
	if mainValue(t, e, 101, "memory") != "2048" || mainValue(t, e, 101, "lock") != "" {
		t.Error("the write did not land after the lock went")
	}
}

// tamperAPI reads back a wrong memory value once a config write went
// through, as if PVE had not applied it.
type tamperAPI struct {
	API
	// key and value are what is read back wrong (default memory 1536).
	key, value string
	mu         sync.Mutex
	wrote      bool
}

func (t *tamperAPI) SetConfig(ctx context.Context, node string, vmid int, ch pve.ConfigChange) (*pve.UPID, error) {
	u, err := t.API.SetConfig(ctx, node, vmid, ch)
	t.mu.Lock()
	t.wrote = err == nil
	t.mu.Unlock()
	return u, err
}

func (t *tamperAPI) Pending(ctx context.Context, node string, vmid int) (pve.PendingConfig, error) {
	p, err := t.API.Pending(ctx, node, vmid)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil && t.wrote {
		key, v := t.key, t.value
		if key == "" {
			key, v = "memory", "1536"
		}
		for i := range p.Entries {
			if p.Entries[i].Key == key {
				p.Entries[i].Value = &v
			}
		}
	}
	return p, err
}

// Rule 6: a read-back that does not match the plan is a failure after the
// snapshot, and the policy rolls the container back.
func TestReadBackMismatchRollsBack(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	api := &tamperAPI{API: e.api}
	cr := resultFor(t, Apply(context.Background(), api, p, Options{Clock: e.clock}), 101)
	if cr.Outcome != OutcomeFailed || !cr.RolledBack || !strings.Contains(cr.Error, `memory: want "2048" live, found current "1536"`) {
		t.Fatalf("result: %s %s rolled back %v", cr.Outcome, cr.Error, cr.RolledBack)
	}
	if mainValue(t, e, 101, "memory") != "1024" {
		t.Error("not rolled back")
	}
}

// A container planned running but stopped before apply: the reboot is not
// needed (PVE applied every change at once) and the read-back accepts that.
func TestStoppedSinceThePlan(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")}))
	upid, err := e.api.Stop(context.Background(), "pve1", 101)
	if err == nil {
		_, err = e.api.WaitTask(context.Background(), upid)
	}
	if err != nil {
		t.Fatal(err)
	}
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied || cr.Steps[len(cr.Steps)-1].Status != StepUnchanged {
		t.Fatalf("result: %s %s %+v", cr.Outcome, cr.Error, cr.Steps)
	}
	if mainValue(t, e, 101, "nameserver") != "9.9.9.9" || mainValue(t, e, 101, "memory") != "2048" {
		t.Error("changes not live on the stopped container")
	}
}

// A container's Duration is the time its apply took on the Clock: here each
// task takes 7 s of simulated time (the recorder advances the clock when a
// task starts), and the result says so, as the log's elapsed= does.
func TestResultDurationIsTheElapsedTime(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventTask {
			e.sim.Clock().Advance(7 * time.Second)
		}
	}}
	t0 := e.clock.Now()
	res := e.apply(p, Options{Progress: rec})
	elapsed := e.clock.Now().Sub(t0)
	cr := resultFor(t, res, 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
	}
	if elapsed == 0 || cr.Duration != elapsed {
		t.Errorf("duration %s, want the clock's elapsed %s", cr.Duration, elapsed)
	}
	var done []Event
	for _, ev := range rec.events {
		if ev.Kind == EventDone {
			done = append(done, ev)
		}
	}
	if len(done) != 1 || done[0].Elapsed != cr.Duration {
		t.Errorf("done events %+v, want one with elapsed %s", done, cr.Duration)
	}
}
