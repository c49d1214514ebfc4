package pvesim

import (
	"strings"
	"testing"
	"time"
)

// TestDestroyCT (issue 9 item 8): DELETE /nodes/{node}/lxc/{vmid} is
// destroy_vm: protection, lock and running refused before the task;
// vzdestroy force-stops with force, frees the owned volumes (with
// destroy-unreferenced-disks the others of the CT too) and removes the
// config.
func TestDestroyCT(t *testing.T) {
	inv := baseInventory()
	n := inv.Node("pve1")
	n.AddContainer(105, false, "arch: amd64\nhostname: p\nostype: debian\nprotection: 1\nrootfs: local-lvm:vm-105-disk-0,size=1G\n")
	n.AddContainer(106, false, "arch: amd64\nhostname: u\nostype: debian\nrootfs: local-lvm:vm-106-disk-0,size=1G\nunused0: local-lvm:vm-199-disk-0\n")
	e := newEnv(t, inv)
	vols := func() map[string]*volume { return e.sim.node["pve1"].storage["local-lvm"].volumes }
	if err := e.sim.HoldLock(103, "backup", time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, reason string }{
		{"/nodes/pve1/lxc/100", "unable to destroy CT 100 - container is running"},
		{"/nodes/pve1/lxc/105", "can't remove CT 105 - protection mode enabled"},
		{"/nodes/pve1/lxc/103", "CT is locked (backup)"},
		{"/nodes/pve1/lxc/999", "Configuration file 'nodes/pve1/lxc/999.conf' does not exist"},
		{"/nodes/pve1/lxc/200", "Configuration file 'nodes/pve1/lxc/200.conf' does not exist"},
	} {
		if r := e.call("DELETE", tc.path); r.status != 500 || r.reason != tc.reason {
			t.Errorf("%s: %d %s, want 500 %s", tc.path, r.status, r.reason, tc.reason)
		}
	}
	if r := e.as("viewer@pve!ro=secret-ro").call("DELETE", "/nodes/pve1/lxc/101"); r.status != 403 || r.reason != "Permission check failed (/vms/101, VM.Allocate)" {
		t.Errorf("viewer: %d %s", r.status, r.reason)
	}

	st, log := e.task("DELETE", "/nodes/pve1/lxc/100", "force", "1", "purge", "1")
	if st["exitstatus"] != "OK" || !hasLine(log, "forced to stop CT 100 before destroying!") || !hasLine(log, "purging CT 100 from related configurations..") {
		t.Fatalf("%v\n%s", st, strings.Join(log, "\n"))
	}
	if st["type"] != "vzdestroy" || st["id"] != "100" {
		t.Errorf("task %v", st)
	}
	if _, ok := e.sim.ConfigText(100); ok || e.sim.Running(100) {
		t.Error("CT 100 still there")
	}
	for _, v := range []string{"vm-100-disk-0", "vm-100-disk-1"} {
		if vols()[v] != nil {
			t.Errorf("%s not freed", v)
		}
	}
	if r := e.call("GET", "/nodes/pve1/lxc/100/config"); r.status != 500 {
		t.Errorf("config after destroy: %d", r.status)
	}

	// Another CT's volume is left; an unreferenced one only goes with
	// destroy-unreferenced-disks.
	e.sim.mu.Lock()
	vols()["vm-106-disk-7"] = &volume{size: 1 << 30, owner: 106}
	e.sim.mu.Unlock()
	_, log = e.task("DELETE", "/nodes/pve1/lxc/106")
	if !hasLine(log, "ignore deletion of 'local-lvm:vm-199-disk-0', CT 106 isn't the owner!") || vols()["vm-106-disk-0"] != nil || vols()["vm-106-disk-7"] == nil {
		t.Errorf("106: %s", strings.Join(log, "\n"))
	}
	e.sim.mu.Lock()
	delete(vols(), "vm-106-disk-7")
	vols()["vm-102-disk-9"] = &volume{size: 1 << 30, owner: 102}
	e.sim.mu.Unlock()
	if st, log := e.task("DELETE", "/nodes/pve1/lxc/102", "destroy-unreferenced-disks", "1"); st["exitstatus"] != "OK" || vols()["vm-102-disk-9"] != nil {
		t.Errorf("102: %v %s", st, strings.Join(log, "\n"))
	}
}
