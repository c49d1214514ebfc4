package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// Observe: a node whose storages cannot be read makes only its containers
// errors; a failing cluster resources call fails the whole plan.
func TestObserveFailures(t *testing.T) {
	inv := testInventory()
	n2 := inv.AddNode("pve2")
	n2.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	addCT(inv, 101, true, conf(101, "local-lvm"))
	n2.AddContainer(201, true, conf(201, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, ""), "b.yaml": ctSpec("ct201", "pve2", 201, "memory: 2G\n")})

	e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/nodes/pve2/storage", Status: 596, Message: "Connection timed out"})
	p := e.plan(specs)
	if cp := planFor(t, p, 201); cp.Status != plan.StatusError || !strings.Contains(strings.Join(cp.Blocked, " "), "GET /nodes/pve2/storage") {
		t.Errorf("ct 201: %s %v", cp.Status, cp.Blocked)
	}
	if cp := planFor(t, p, 101); cp.Status != plan.StatusChanges {
		t.Errorf("ct 101: %s %v", cp.Status, cp.Blocked)
	}
	e.sim.ClearFaults()

	e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/cluster/resources", Status: 500, Message: "cluster not ready - no quorum?"})
	if _, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: testNow}); err == nil || !strings.Contains(err.Error(), "no quorum") {
		t.Errorf("plan with no cluster resources: %v", err)
	}
}
