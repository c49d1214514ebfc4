package pvesim

import (
	"strings"
	"testing"
)

const debTmpl = "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst"

func createInventory() *Inventory {
	inv := baseInventory()
	inv.Node("pve1").Storages[0].AddTemplate(debTmpl, 0).AddTemplate("local:vztmpl/alpine-3.22-default_20250617_arm64.tar.xz", 3<<20)
	inv.Node("pve2").AddVM(300, "win")
	small := inv.Node("pve1").AddStorage("small", "lvmthin", "rootdir", "images")
	small.Total = 1 << 30
	// Allocation on /vms and space on local-lvm, nothing on local (the
	// template's storage).
	inv.AddUser("maker@pve", Role("/vms", "PVEVMAdmin"), Role("/storage/local-lvm", "PVEDatastoreUser"), Role("/sdn", "PVESDNUser")).AddToken("mk", "secret-mk", false)
	return inv
}

func volidsOn(e *env, storage string) string {
	var out []string
	for _, it := range e.ok("GET", "/nodes/pve1/storage/"+storage+"/content").list() {
		out = append(out, it.(map[string]any)["volid"].(string))
	}
	return strings.Join(out, " ")
}

func TestTemplatesAsStorageContent(t *testing.T) {
	e := newEnv(t, createInventory())
	got := e.ok("GET", "/nodes/pve1/storage/local/content", "content", "vztmpl").list()
	if len(got) != 2 {
		t.Fatalf("vztmpl content: %v", got)
	}
	a, d := got[0].(map[string]any), got[1].(map[string]any)
	if a["volid"] != "local:vztmpl/alpine-3.22-default_20250617_arm64.tar.xz" || a["format"] != "txz" || a["content"] != "vztmpl" || a["size"] != float64(3<<20) {
		t.Errorf("alpine: %v", a)
	}
	if d["volid"] != debTmpl || d["format"] != "tzst" {
		t.Errorf("debian: %v", d)
	}
	if l := e.ok("GET", "/nodes/pve1/storage/local/content", "content", "backup").list(); len(l) != 0 {
		t.Errorf("content=backup lists templates: %v", l)
	}
	// Templates and VMs survive the state file (Inventory, then New).
	inv := e.sim.Inventory()
	again, err := New(inv)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Inventory(); len(got.Node("pve1").Storages[0].Templates) != 2 || len(got.Node("pve2").VMs) != 1 || got.Node("pve2").VMs[0] != (VM{VMID: 300, Name: "win"}) {
		t.Errorf("round trip: templates %v, vms %v", got.Node("pve1").Storages[0].Templates, got.Node("pve2").VMs)
	}
	if _, err := New(func() *Inventory {
		inv := baseInventory()
		inv.Node("pve1").Storages[1].AddTemplate("local-lvm:vztmpl/x.tar.zst", 0)
		return inv
	}()); err == nil || !strings.Contains(err.Error(), "without content vztmpl") {
		t.Errorf("template on a storage without vztmpl: %v", err)
	}
}

func TestCreateFromTemplate(t *testing.T) {
	e := newEnv(t, createInventory())
	st, log := e.task("POST", "/nodes/pve1/lxc", "vmid", "150", "ostemplate", debTmpl, "storage", "local-lvm",
		"hostname", "new", "net0", "name=eth0,bridge=vmbr0,ip=dhcp", "password", "secret1", "ssh-public-keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2x6sbIjJ0qjMuQCJ7+RrZ/CnDnbvYwKIhUBMJJzjzu u@h")
	if st["exitstatus"] != "OK" || st["type"] != "vzcreate" {
		t.Fatalf("%v %v", st, log)
	}
	c := e.conf(150)
	for _, want := range []string{"arch: amd64\n", "hostname: new\n", "memory: 512\n", "swap: 512\n", "ostype: debian\n", "rootfs: local-lvm:vm-150-disk-0,size=4G\n", "unprivileged: 1\n", "net0: name=eth0,bridge=vmbr0,ip=dhcp\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("created config lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, "secret1") || strings.Contains(c, "ssh-ed25519") || strings.Contains(c, "lock:") {
		t.Errorf("config carries password, keys or lock:\n%s", c)
	}
	// A bare size goes to the default storage; mpN too; start=1 starts it;
	// the name gives arch and ostype; hostname defaults to CT<vmid>.
	st, log = e.task("POST", "/nodes/pve1/lxc", "vmid", "151", "ostemplate", "local:vztmpl/alpine-3.22-default_20250617_arm64.tar.xz", "storage", "local-lvm",
		"rootfs", "10", "mp0", "tank:2,mp=/data", "start", "1")
	if st["exitstatus"] != "OK" {
		t.Fatalf("%v %v", st, log)
	}
	c = e.conf(151)
	for _, want := range []string{"arch: arm64\n", "ostype: alpine\n", "hostname: CT151\n", "rootfs: local-lvm:vm-151-disk-0,size=10G\n", "mp0: tank:subvol-151-disk-0,mp=/data,size=2G\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("created config lacks %q:\n%s", want, c)
		}
	}
	if s := e.ok("GET", "/nodes/pve1/lxc/151/status/current").obj(); s["status"] != "running" {
		t.Errorf("start=1: %v", s)
	}
	if r := e.call("GET", "/cluster/nextid", "vmid", "300"); r.status != 400 {
		t.Errorf("nextid of a VM's vmid: %d %s", r.status, r.raw)
	}
	runErrCases(t, e, []errCase{
		{name: "vmid of a CT", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "100", "ostemplate", debTmpl, "storage", "local-lvm"}, status: 500, msg: "CT 100 already exists on node 'pve1'"},
		{name: "vmid of a CT, before VM.Allocate", token: "viewer@pve!ro=secret-ro", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "100", "ostemplate", debTmpl, "storage", "local-lvm"}, status: 500, msg: "CT 100 already exists on node 'pve1'"},
		{name: "restore with force onto a CT of another node", method: "POST", path: "/nodes/pve2/lxc", kv: []string{"vmid", "100", "restore", "1", "force", "1", "ostemplate", "nas:backup/x.tar.zst", "storage", "local-lvm"}, status: 500, msg: "CT 100 already exists on node 'pve1'"},
		{name: "vmid of a VM", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "300", "ostemplate", debTmpl, "storage", "local-lvm"}, status: 500, msg: "VM 300 already exists on node 'pve2'"},
		{name: "restore onto a VM's vmid", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "300", "restore", "1", "force", "1", "ostemplate", "nas:backup/x.tar.zst", "storage", "local-lvm"}, status: 500, msg: "VM 300 already exists on node 'pve2'"},
		{name: "privileged needs Sys.Modify", token: "maker@pve!mk=secret-mk", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "160", "ostemplate", debTmpl, "storage", "local-lvm", "unprivileged", "0"}, status: 403, msg: "Permission check failed (/, Sys.Modify)"},
		{name: "template storage unreadable", token: "maker@pve!mk=secret-mk", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "160", "ostemplate", debTmpl, "storage", "local-lvm"}, status: 403, msg: "Permission check failed (/storage/local, Datastore.AllocateSpace|Datastore.Audit)"},
		{name: "no space right on the target", token: "maker@pve!mk=secret-mk", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "160", "ostemplate", debTmpl, "storage", "tank"}, status: 403, msg: "Permission check failed (/storage/tank, Datastore.AllocateSpace)"},
		{name: "VM.Allocate", token: "viewer@pve!ro=secret-ro", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "160", "ostemplate", debTmpl, "storage", "local-lvm"}, status: 403, msg: "Permission check failed (/vms/160, VM.Allocate)"},
		{name: "storage without rootdir", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "160", "ostemplate", debTmpl, "storage", "nas"}, status: 400, errs: map[string]string{"storage": "storage 'nas' does not support container directories"}},
		{name: "mp without rootfs", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "160", "ostemplate", debTmpl, "storage", "local-lvm", "mp0", "2,mp=/x"}, status: 500, msg: "mount points configured, but 'rootfs' not set - aborting"},
		{name: "template storage missing", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "160", "ostemplate", "nope:vztmpl/x.tar.zst", "storage", "local-lvm"}, status: 500, msg: "storage 'nope' does not exist"},
	})
	if _, ok := e.sim.ConfigText(160); ok {
		t.Errorf("a refused create left CT 160")
	}
}

func TestFailedCreateLeavesNoContainer(t *testing.T) {
	e := newEnv(t, createInventory())
	before := volidsOn(e, "local-lvm")
	st, log := e.task("POST", "/nodes/pve1/lxc", "vmid", "170", "ostemplate", "local:vztmpl/nope-1_amd64.tar.zst", "storage", "local-lvm")
	if st["exitstatus"] != "unable to create CT 170 - can't find file 'local:vztmpl/nope-1_amd64.tar.zst'" || st["type"] != "vzcreate" {
		t.Fatalf("missing template: %v %v", st, log)
	}
	if _, ok := e.sim.ConfigText(170); ok {
		t.Errorf("failed create left CT 170")
	}
	if after := volidsOn(e, "local-lvm"); after != before {
		t.Errorf("failed create left volumes: %s (was %s)", after, before)
	}
	// Not enough space: the template create and a restore fail in their
	// tasks and leave neither a config nor volumes.
	st, _ = e.task("POST", "/nodes/pve1/lxc", "vmid", "171", "ostemplate", debTmpl, "storage", "small", "rootfs", "small:1", "mp0", "small:2,mp=/x")
	if st["exitstatus"] != "unable to create CT 171 - not enough space on storage 'small'" {
		t.Fatalf("no space: %v", st)
	}
	e.task("POST", "/nodes/pve1/vzdump", "vmid", "100", "storage", "nas", "compress", "zstd")
	archive := "nas:backup/vzdump-lxc-100-2026_11_25-10_00_00.tar.zst"
	st, log = e.task("POST", "/nodes/pve1/lxc", "vmid", "172", "restore", "1", "ostemplate", archive, "storage", "small")
	if st["exitstatus"] != "unable to restore CT 172 - not enough space on storage 'small'" || st["type"] != "vzrestore" {
		t.Fatalf("restore, no space: %v %v", st, log)
	}
	for _, vmid := range []int{171, 172} {
		if _, ok := e.sim.ConfigText(vmid); ok {
			t.Errorf("failed create left CT %d", vmid)
		}
	}
	if got := volidsOn(e, "small"); got != "" {
		t.Errorf("failed creates left volumes on small: %s", got)
	}
}

// start=1 starts the new container in a vzstart task of its own, which the
// create task does not wait for: a start that fails leaves the create OK
// and the container there, stopped (create_vm calls vm_start in its
// worker; fork_worker forks it off through the API).
func TestCreateStartIsATaskOfItsOwn(t *testing.T) {
	e := newEnv(t, createInventory())
	e.sim.SetTaskOutcome(TaskOutcome{Type: "vzstart", Fail: "startup for container '152' failed", Count: 1})
	st, log := e.task("POST", "/nodes/pve1/lxc", "vmid", "152", "ostemplate", debTmpl, "storage", "local-lvm", "start", "1")
	if st["exitstatus"] != "OK" || st["type"] != "vzcreate" {
		t.Fatalf("create: %v %v", st, log)
	}
	var start string
	for _, l := range log {
		if strings.HasPrefix(l, "UPID:") && strings.Contains(l, ":vzstart:152:") {
			start = l
		}
	}
	if start == "" {
		t.Fatalf("the create's log names no vzstart task: %q", log)
	}
	e.sim.FinishTasks()
	if sst, slog := e.taskResult(start); sst["exitstatus"] != "startup for container '152' failed" {
		t.Errorf("vzstart: %v %v", sst, slog)
	}
	if s := e.ok("GET", "/nodes/pve1/lxc/152/status/current").obj(); s["status"] != "stopped" {
		t.Errorf("after a failed start: %v", s)
	}
	if c := e.conf(152); !strings.Contains(c, "rootfs: local-lvm:vm-152-disk-0") {
		t.Errorf("the container is gone after its start failed:\n%s", c)
	}
}
