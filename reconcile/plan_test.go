package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// The calls plan makes are deterministic: 1 cluster resources, 1 storage
// list per node with a managed container, 1 per container found (pending),
// nothing for a missing one: 1 + nodes + N with no changes. A container
// with changes also has its snapshots read (its baseline and retention),
// and 1 permissions read comes only when there are changes.
func TestPlanCallsPerContainer(t *testing.T) {
	inv := testInventory()
	n2 := inv.AddNode("pve2")
	n2.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, false, conf(102, "local-lvm"))
	n2.AddContainer(201, true, conf(201, "local-lvm"))
	inv.Node("pve1").AddContainer(150, true, conf(150, "local-lvm")) // not managed
	e := newEnv(t, inv)
	same := func(vmid int, node string) string {
		return ctSpec(fmt.Sprintf("ct%d", vmid), node, vmid, "memory: 1G\n")
	}
	files := map[string]string{"a.yaml": same(101, "pve1"), "b.yaml": same(102, "pve1"), "c.yaml": same(201, "pve2"),
		"d.yaml": same(999, "pve1")}

	e.resetCalls()
	p := e.plan(loadSpecs(t, files))
	if p.HasChanges() || planFor(t, p, 999).Status != plan.StatusMissing {
		t.Fatalf("plan: %+v", p.Summary())
	}
	want := map[string]int{
		"GET /cluster/resources":               1,
		"GET /nodes/{node}/storage":            2,
		"GET /nodes/{node}/lxc/{vmid}/pending": 3,
	}
	if got := e.calls; !sameCounts(got, want) {
		t.Errorf("client calls %v, want %v", got, want)
	}
	if got := e.sim.RequestCounts(); !sameCounts(got, want) {
		t.Errorf("simulator counts %v, want %v", got, want)
	}

	files["a.yaml"] = ctSpec("ct101", "pve1", 101, "memory: 2G\n")
	e.resetCalls()
	p = e.plan(loadSpecs(t, files))
	want["GET /access/permissions"] = 1
	want["GET /nodes/{node}/lxc/{vmid}/snapshot"] = 1
	if !p.HasChanges() || !sameCounts(e.calls, want) {
		t.Errorf("with changes: calls %v, want %v", e.calls, want)
	}
}

func sameCounts(got, want map[string]int) bool {
	for k, v := range got {
		if v != 0 && want[k] != v {
			return false
		}
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// A container moved to another node is followed there.
func TestObserveFollowsAMovedContainer(t *testing.T) {
	inv := testInventory()
	n2 := inv.AddNode("pve2")
	n2.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	n2.AddContainer(101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	cp := planFor(t, p, 101)
	if cp.Node != "pve2" || cp.Status != plan.StatusChanges || !strings.Contains(strings.Join(cp.Warnings, " "), "pve2") {
		t.Fatalf("plan: node %s, %s, %v", cp.Node, cp.Status, cp.Warnings)
	}
	if cr := resultFor(t, e.apply(p, Options{}), 101); cr.Outcome != OutcomeApplied {
		t.Fatalf("apply: %s %s", cr.Outcome, cr.Error)
	}
}

// Equivalent spellings of what PVE has give an empty plan.
func TestNoPerpetualDiff(t *testing.T) {
	live := `arch: amd64
cores: 2
cpuunits: 100
features: nesting=1,keyctl=1
hostname: web
memory: 2048
mp0: local-lvm:vm-101-disk-1,size=16G,mp=/srv,backup=1
net0: type=veth,ip=192.168.1.10/24,hwaddr=bc:24:11:aa:bb:cc,bridge=vmbr0,name=eth0,gw=192.168.1.1
onboot: 1
ostype: debian
rootfs: local-lvm:vm-101-disk-0,size=8G
startup: up=10,order=1
tags: web;prod
unprivileged: 1
`
	tests := []struct{ name, body string }{
		{"sizes in other units", "memory: 2GiB\nswap: 0.5G\nrootfs:\n  storage: local-lvm\n  size: 8192M\nmountpoints:\n  mp0:\n    volume: local-lvm:vm-101-disk-1\n    size: 16384MiB\n    mp: /srv\n    backup: true\n"},
		{"plain numbers", "memory: 2048\nswap: 512\nrootfs:\n  storage: local-lvm\n  size: 8\n"},
		{"property string keys in another order", "net:\n  net0:\n    name: eth0\n    bridge: vmbr0\n    ip: 192.168.1.10/24\n    gw: 192.168.1.1\n    hwaddr: BC:24:11:AA:BB:CC\nstartup:\n  order: 1\n  up: 10\nfeatures:\n  keyctl: true\n  nesting: true\n"},
		{"omitted defaults", "swap: 512\ncpulimit: 0\ncpuunits: 100\nprotection: false\nnet:\n  net0:\n    firewall: false\n    bridge: vmbr0\n"},
		{"tags as a set", "tags: [prod, web]\nonboot: true\n"},
	}
	inv := testInventory()
	addCT(inv, 101, true, live)
	e := newEnv(t, inv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.plan(loadSpecs(t, map[string]string{"a.yaml": ctSpec("web", "pve1", 101, tt.body)}))
			if cp := planFor(t, p, 101); cp.Status != plan.StatusUnchanged || len(cp.Changes) != 0 {
				t.Errorf("plan: %s %+v %v", cp.Status, cp.Changes, cp.Blocked)
			}
		})
	}
}

// A running container: hot changes live at once, the rest pending; a
// restart only as the policy allows; all of it reported.
func TestRunningContainerRestartPolicy(t *testing.T) {
	// testNow is Wednesday 2026-11-25 10:00 UTC.
	tests := []struct {
		name, restart string
		reboot        bool
	}{
		{"never", "restart:\n  mode: never\n", false},
		{"when-needed", "restart:\n  mode: when-needed\n", true},
		{"window open", "restart:\n  mode: window\n  window:\n    schedule: wed 09:00\n    duration: 2h\n", true},
		{"window closed", "restart:\n  mode: window\n  window:\n    schedule: sun 03:00\n    duration: 2h\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, conf(101, "local-lvm"))
			e := newEnv(t, inv)
			specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\n"+tt.restart)})
			p := e.plan(specs)
			cp := planFor(t, p, 101)
			classes := map[string]plan.Class{}
			for _, ch := range cp.Changes {
				classes[ch.Path] = ch.Class
			}
			if classes["memory"] != plan.ClassHot || classes["nameserver"] != plan.ClassPendingRestart {
				t.Fatalf("classes %v", classes)
			}
			hasReboot := cp.Steps[len(cp.Steps)-1].Action == plan.ActionReboot
			if hasReboot != tt.reboot {
				t.Fatalf("reboot step %v, want %v: %v", hasReboot, tt.reboot, cp.Steps)
			}
			if !tt.reboot && !strings.Contains(strings.Join(cp.Warnings, " "), "restart") {
				t.Errorf("the plan does not report the change left waiting: %v", cp.Warnings)
			}
			cr := resultFor(t, e.apply(p, Options{}), 101)
			if cr.Outcome != OutcomeApplied {
				t.Fatalf("apply: %s %s", cr.Outcome, cr.Error)
			}
			f := parseConf(t, e, 101)
			if v, _ := f.Get("memory"); v != "2048" {
				t.Errorf("memory = %q, want it live", v)
			}
			ns, _ := f.Get("nameserver")
			pendingNS := f.Pending != nil && func() bool { _, ok := f.Pending.Get("nameserver"); return ok }()
			if tt.reboot {
				if ns != "9.9.9.9" || pendingNS || len(cr.Pending) != 0 {
					t.Errorf("after reboot: nameserver %q, pending %v / %v", ns, pendingNS, cr.Pending)
				}
			} else {
				if ns != "" || !pendingNS || strings.Join(cr.Pending, ",") != "nameserver" {
					t.Errorf("without reboot: nameserver %q live, pending %v, reported %v", ns, pendingNS, cr.Pending)
				}
			}
			if !e.sim.Running(101) {
				t.Error("the container stopped")
			}
			again := e.plan(specs)
			if again.HasChanges() {
				t.Errorf("plan after apply: %+v", planFor(t, again, 101))
			}
		})
	}
}

var storageRE = regexp.MustCompile(`(?m)^(?:rootfs|mp\d+|unused\d+): ([^:,\s]+):`)

// Apply, then plan: no changes, for containers seeded from each real config
// in the reference (pve-container's snapshot test data), stopped and running.
func TestReferenceConfigsApplyThenPlan(t *testing.T) {
	files := testref.Glob(t, "pve-api/lxc-conf/*.conf")
	sort.Strings(files)
	for i, file := range files {
		for _, running := range []bool{false, true} {
			name := fmt.Sprintf("%s/running=%v", filepath.Base(file), running)
			t.Run(name, func(t *testing.T) {
				text, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				f, err := ctconf.Parse(text)
				if err != nil {
					t.Fatal(err)
				}
				vmid := 100 + i
				inv := pvesim.NewInventory("ref")
				n := inv.AddNode("pve1")
				seen := map[string]bool{}
				for _, m := range storageRE.FindAllStringSubmatch(string(text), -1) {
					if !seen[m[1]] {
						seen[m[1]] = true
						n.AddStorage(m[1], "lvmthin", "rootdir", "images")
					}
				}
				n.AddStorage("nas", "nfs", "backup")
				n.AddContainer(vmid, running, string(text))
				e := newEnv(t, inv)
				specs := loadSpecs(t, map[string]string{"ct.yaml": refSpec(t, f, vmid)})
				p := e.plan(specs)
				cp := planFor(t, p, vmid)
				if cp.Status != plan.StatusChanges {
					t.Fatalf("plan: %s %v %+v", cp.Status, cp.Blocked, cp.Changes)
				}
				res := e.apply(p, Options{Specs: specs, LockWait: 10 * time.Second})
				cr := resultFor(t, res, vmid)
				if lock, _ := f.Get("lock"); lock != "" {
					// A snapshot in progress holds its lock: felhom waits,
					// gives up and leaves the lock alone.
					if cr.Outcome != OutcomeFailed || !strings.Contains(cr.Error, "still locked ("+lock+")") || mainValue(t, e, vmid, "lock") != lock {
						t.Fatalf("locked config: %s %s", cr.Outcome, cr.Error)
					}
					return
				}
				if cr.Outcome != OutcomeApplied {
					t.Fatalf("apply: %s %s %+v", cr.Outcome, cr.Error, cr.Steps)
				}
				again := e.plan(specs)
				if again.HasChanges() {
					t.Errorf("plan after apply still changes: %+v", planFor(t, again, vmid))
				}
				// The snapshots PVE had are still there: felhom only adds
				// its own.
				after := parseConf(t, e, vmid)
				for _, s := range f.Snapshots {
					if after.Snapshot(s.Name) == nil {
						t.Errorf("snapshot %s is gone", s.Name)
					}
				}
			})
		}
	}
}

// refSpec writes a spec for a reference config: its own values for what the
// spec names, memory raised by 512 MiB, cores set, a tag added, so that
// apply has hot and (when running) pending work to do.
func refSpec(t *testing.T, f *ctconf.File, vmid int) string {
	t.Helper()
	get := func(k string) string { v, _ := f.Get(k); return v }
	var b strings.Builder
	var mem int
	fmt.Sscan(get("memory"), &mem)
	fmt.Fprintf(&b, "memory: %d\n", mem+512)
	fmt.Fprintf(&b, "swap: %s\ncpulimit: %s\ncpuunits: %s\nhostname: %s\ncores: 2\ntags: [felhom]\nnameserver: 9.9.9.9\n",
		get("swap"), get("cpulimit"), get("cpuunits"), get("hostname"))
	net, err := pveNet(get("net0"))
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString(net)
	root := get("rootfs")
	st, _, _ := strings.Cut(root, ":")
	fmt.Fprintf(&b, "rootfs:\n  storage: %s\n", st)
	return ctSpec("ref", "pve1", vmid, b.String())
}

func pveNet(v string) (string, error) {
	var b strings.Builder
	b.WriteString("net:\n  net0:\n")
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "name", "bridge", "hwaddr", "ip", "ip6":
			fmt.Fprintf(&b, "    %s: %q\n", k, val)
		case "type":
		default:
			return "", fmt.Errorf("net0 key %s not handled", k)
		}
	}
	return b.String(), nil
}

func TestPreflightWarnsOfMissingPrivileges(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	inv.AddUser("felhom@pve", pvesim.Role("/", "PVEAuditor")).AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
	// A token that may read everything and change memory, but not snapshot.
	inv.AddUser("ops@pve", pvesim.Role("/", "PVEAuditor"), pvesim.Privs("/vms", "VM.Audit", "VM.Config.Memory")).
		AddToken("reconcile", "11111111-2222-4333-8444-555555555555", false)
	e := newEnv(t, inv)
	api := e.client("ops@pve!reconcile")
	p, err := Plan(context.Background(), api, loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}),
		PlanOptions{Now: testNow, Preflight: true})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(p.Warnings, "\n")
	if !strings.Contains(w, "VM.Snapshot on /vms/101") || strings.Contains(w, "VM.Config.Memory") {
		t.Errorf("warnings: %q", w)
	}
}

func TestHasPrivilege(t *testing.T) {
	perms := pve.Permissions{
		"/":        {"Sys.Audit": false},
		"/vms":     {"VM.Audit": true, "VM.Config.Memory": false},
		"/vms/101": {"VM.Snapshot": false},
		"/storage": {"Datastore.AllocateSpace": true},
	}
	tests := []struct {
		path, priv string
		want       bool
	}{
		{"/vms/101", "VM.Snapshot", true},
		{"/vms/102", "VM.Snapshot", false},
		{"/vms/102", "VM.Audit", true},
		{"/vms/102", "VM.Config.Memory", false}, // not propagated
		{"/vms", "VM.Config.Memory", true},
		{"/storage/nas", "Datastore.AllocateSpace", true},
		{"/nodes/pve1", "Sys.Audit", false},
		{"/", "Sys.Audit", true},
	}
	for _, tt := range tests {
		if got := HasPrivilege(perms, tt.path, tt.priv); got != tt.want {
			t.Errorf("HasPrivilege(%s, %s) = %v, want %v", tt.path, tt.priv, got, tt.want)
		}
	}
}

// Observe decides snapshot capability per storage type with
// format.SnapshotCapable, the table the simulator answers by too: for a
// container on each storage type, the plan snapshots exactly when the
// simulator's snapshot succeeds.
func TestSnapshotCapabilityAgreesWithTheSimulator(t *testing.T) {
	for _, typ := range []string{"lvmthin", "zfspool", "rbd", "btrfs", "dir", "nfs", "cifs", "lvm"} {
		t.Run(typ, func(t *testing.T) {
			inv := pvesim.NewInventory("test")
			n := inv.AddNode("pve1")
			n.AddStorage("st", typ, "rootdir", "images")
			vol := "st:vm-101-disk-0"
			if typ == "dir" || typ == "nfs" || typ == "cifs" || typ == "btrfs" {
				vol = "st:101/vm-101-disk-0.raw"
			}
			n.AddContainer(101, false, strings.Replace(conf(101, "local-lvm"), "local-lvm:vm-101-disk-0", vol, 1))
			e := newEnv(t, inv)
			cp := planFor(t, e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")})), 101)
			planned := cp.Status == plan.StatusChanges && cp.Steps[0].Action == plan.ActionSnapshot
			if planned != format.SnapshotCapable(typ) {
				t.Fatalf("%s: plan %s %v, SnapshotCapable %v", typ, cp.Status, cp.Blocked, format.SnapshotCapable(typ))
			}
			upid, err := e.api.CreateSnapshot(context.Background(), "pve1", 101, "probe", "")
			if err == nil {
				_, err = e.api.WaitTask(context.Background(), upid)
			}
			if (err == nil) != planned {
				t.Errorf("%s: planned a snapshot %v, the simulator's snapshot: %v", typ, planned, err)
			}
		})
	}
}

// TestPlanChecksWhatItKnows (issue 10 item 9): a spec's node that the
// cluster does not have is an error, found or not, at one GET /nodes, asked
// only because a spec names a node no container is on; an existing volume
// to attach is looked up in its storage's content list, once per storage.
func TestPlanChecksWhatItKnows(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, true, conf(102, "local-lvm", "unused0: local-lvm:vm-102-disk-1"))
	addCT(inv, 103, true, conf(103, "local-lvm"))
	e := newEnv(t, inv)
	files := map[string]string{
		"a.yaml": ctSpec("ct101", "pve9", 101, "memory: 2G\n"),
		"b.yaml": ctSpec("ct102", "pve1", 102, "mountpoints:\n    mp0: {volume: local-lvm:vm-102-disk-1, mp: /data}\n"),
		"c.yaml": ctSpec("ct103", "pve1", 103, "mountpoints:\n    mp0: {volume: local-lvm:vm-103-disk-9, mp: /data}\n"),
		"d.yaml": ctSpec("ct999", "pve9", 999, "memory: 2G\n"),
	}
	e.resetCalls()
	p := e.plan(loadSpecs(t, files))
	for _, tt := range []struct {
		vmid   int
		status plan.Status
		say    string
	}{
		{101, plan.StatusError, "node pve9 is not in the cluster (its nodes: pve1)"},
		{102, plan.StatusChanges, ""},
		{103, plan.StatusBlocked, "mp0: volume local-lvm:vm-103-disk-9 is not in the content list of storage local-lvm on node pve1"},
		{999, plan.StatusError, "node pve9 is not in the cluster"},
	} {
		cp := planFor(t, p, tt.vmid)
		if cp.Status != tt.status || !strings.Contains(strings.Join(cp.Blocked, "\n"), tt.say) {
			t.Errorf("ct %d: %s %q, want %s saying %q", tt.vmid, cp.Status, cp.Blocked, tt.status, tt.say)
		}
	}
	for call, n := range map[string]int{"GET /nodes": 1, "GET /nodes/{node}/storage/{storage}/content": 1} {
		if e.calls[call] != n {
			t.Errorf("%d %s, want %d (calls %v)", e.calls[call], call, n, e.calls)
		}
	}
	// Fixed specs cost neither call.
	files["a.yaml"] = ctSpec("ct101", "pve1", 101, "memory: 2G\n")
	delete(files, "c.yaml")
	delete(files, "d.yaml")
	e.resetCalls()
	e.plan(loadSpecs(t, files))
	if e.calls["GET /nodes"]+e.calls["GET /nodes/{node}/storage/{storage}/content"] != 1 {
		t.Errorf("calls %v, want only ct102's content list", e.calls)
	}
}
