package reconcile

import (
	"fmt"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// Plan pairs the specs with the live containers: a container no spec names
// is listed as unmanaged (vmid, name, node), costs no call of its own, and
// is never touched by apply.
func TestPlanListsUnmanagedContainers(t *testing.T) {
	inv := testInventory()
	n2 := inv.AddNode("pve2")
	n2.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	addCT(inv, 101, true, conf(101, "local-lvm"))
	inv.Node("pve1").AddContainer(150, true, conf(150, "local-lvm"))
	n2.AddContainer(120, false, conf(120, "local-lvm"))
	e := newEnv(t, inv)
	files := map[string]string{"a.yaml": ctSpec("ct101", "pve1", 101, "memory: 2G\n")}
	e.resetCalls()
	p := e.plan(loadSpecs(t, files))
	want := []plan.Unmanaged{{VMID: 120, Name: "ct120", Node: "pve2"}, {VMID: 150, Name: "ct150", Node: "pve1"}}
	if fmt.Sprint(p.Unmanaged) != fmt.Sprint(want) {
		t.Fatalf("unmanaged %+v, want %+v", p.Unmanaged, want)
	}
	if n := e.calls["GET /nodes/{node}/lxc/{vmid}/pending"]; n != 1 {
		t.Errorf("pending reads %d, want 1 (unmanaged containers are not read)", n)
	}
	if len(p.Containers) != 1 {
		t.Errorf("containers %d, want only the managed one", len(p.Containers))
	}
	before, _ := e.sim.ConfigText(150)
	if r := e.apply(p, Options{}); resultFor(t, r, 101).Outcome != OutcomeApplied {
		t.Fatalf("apply: %+v", r)
	}
	if after, _ := e.sim.ConfigText(150); after != before {
		t.Errorf("apply touched unmanaged ct 150: %v -> %v", before, after)
	}

	// A spec removed from the repo makes its container unmanaged.
	p = e.plan(loadSpecs(t, map[string]string{"b.yaml": ctSpec("ct150", "pve1", 150, "memory: 1G\n")}))
	if len(p.Unmanaged) != 2 || p.Unmanaged[0].VMID != 101 || p.Unmanaged[1].VMID != 120 {
		t.Errorf("after removing ct101's spec: unmanaged %+v", p.Unmanaged)
	}
}
