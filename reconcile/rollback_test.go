package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
)

// Issue 10 item 1: a write PVE refused changed nothing, so nothing is rolled
// back: the running container is not force-stopped and keeps its pending
// changes (a rollback drops them all).
func TestRefusedWriteIsNotRolledBack(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm")+"[pve:pending]\nswap: 1024\n")
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	e.sim.InjectFault(pvesim.Fault{Method: "PUT", Path: "/nodes/{node}/lxc/{vmid}/config", Status: 500, Message: "unable to write config", Count: 1})
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeFailed || cr.RolledBack || cr.Rollback != nil || len(cr.HalfDone) != 0 {
		t.Fatalf("result: %s %s rolled back %v half-done %v", cr.Outcome, cr.Error, cr.RolledBack, cr.HalfDone)
	}
	if !e.sim.Running(101) {
		t.Error("the container was stopped")
	}
	if f := parseConf(t, e, 101); f.Pending == nil {
		t.Error("the pending change someone else made is gone")
	} else if v, _ := f.Pending.Get("swap"); v != "1024" {
		t.Errorf("pending swap = %q", v)
	}
}

// Issue 10 item 2: a read-back that cannot be made at all leaves the change
// in place, reported unverified, not rolled back.
func TestUnreadableReadBackIsUnverified(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventStep && strings.HasPrefix(ev.Detail, "set config") {
			e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/nodes/{node}/lxc/{vmid}/pending", Status: 500, Message: "got timeout"})
		}
	}}
	cr := resultFor(t, e.apply(p, Options{Progress: rec}), 101)
	if cr.Outcome != OutcomeFailed || cr.RolledBack || !strings.Contains(strings.Join(cr.Warnings, " "), "unverified") {
		t.Fatalf("result: %s %s rolled back %v warnings %v", cr.Outcome, cr.Error, cr.RolledBack, cr.Warnings)
	}
	if mainValue(t, e, 101, "memory") != "2048" {
		t.Error("the change was undone")
	}
}

// Issue 10 item 3: someone's change after felhom's write is never rolled
// back over: felhom checks the config before the rollback and reports stale.
func TestNoRollbackOverAnotherWriter(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	api := &tamperAPI{API: e.api}
	// The read-back does not match (tamperAPI), which would roll back; but
	// someone set the description right after felhom's write.
	hand := &handAfterWrite{API: api, other: e.client(testToken)}
	cr := resultFor(t, Apply(context.Background(), hand, p, Options{Clock: e.clock}), 101)
	if cr.Outcome != OutcomeStale || cr.RolledBack || !strings.Contains(cr.Error, "description") {
		t.Fatalf("result: %s %s rolled back %v", cr.Outcome, cr.Error, cr.RolledBack)
	}
	if got := parseConf(t, e, 101).Main.Description(); strings.TrimSpace(got) != "theirs" {
		t.Errorf("description %q: their change was undone", got)
	}
}

// handAfterWrite sets the description as another user once felhom's config
// write went through.
type handAfterWrite struct {
	API
	other *pve.Client
}

func (h *handAfterWrite) SetConfig(ctx context.Context, node string, vmid int, ch pve.ConfigChange) (*pve.UPID, error) {
	u, err := h.API.SetConfig(ctx, node, vmid, ch)
	if err == nil {
		if _, herr := h.other.SetConfig(ctx, node, vmid, pve.ConfigChange{Set: map[string]string{"description": "theirs"}}); herr != nil {
			return u, herr
		}
	}
	return u, err
}

// Issue 10 item 4: the rollback restores the run state at apply time, not
// the plan's: a container stopped since the plan stays stopped.
func TestRollbackKeepsTheApplyTimeRunState(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	upid, err := e.api.Stop(context.Background(), "pve1", 101)
	if err == nil {
		_, err = e.api.WaitTask(context.Background(), upid)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.Containers[0].Digest = mustDigest(t, e, 101)
	cr := resultFor(t, Apply(context.Background(), &tamperAPI{API: e.api}, p, Options{Clock: e.clock}), 101)
	if !cr.RolledBack {
		t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
	}
	if e.sim.Running(101) {
		t.Error("the rollback started a container its owner had stopped")
	}
}

func mustDigest(t *testing.T, e *env, vmid int) string {
	t.Helper()
	pc, err := e.api.Pending(context.Background(), "pve1", vmid)
	if err != nil {
		t.Fatal(err)
	}
	return pc.Digest
}
