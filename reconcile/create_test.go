package reconcile

import (
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
)

const (
	testTemplate = "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst"
	oldBackup    = "nas:backup/vzdump-lxc-120-2026_11_01-02_00_00.tar.zst"
	newBackup    = "nas:backup/vzdump-lxc-120-2026_12_01-02_00_00.tar.zst"
)

// createInventory is testInventory with an OS template on local, two
// backups of ct 120 (which no longer exists) on nas, and VM 150.
func createInventory() *pvesim.Inventory {
	inv := pvesim.NewInventory("test")
	n := inv.AddNode("pve1")
	n.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	n.AddStorage("local", "dir", "rootdir", "backup", "vztmpl").AddTemplate(testTemplate, 120<<20)
	backup := conf(120, "local-lvm", "description: from the backup")
	n.AddStorage("nas", "nfs", "backup").
		AddBackup(pvesim.Backup{Volid: oldBackup, Size: 300 << 20, Config: backup}).
		AddBackup(pvesim.Backup{Volid: newBackup, Size: 300 << 20, Config: backup})
	n.AddVM(150, "db")
	return inv
}

const templateBody = `hostname: web2
memory: 1G
cores: 2
net:
  net0: {name: eth0, bridge: vmbr0, ip: dhcp}
rootfs: {storage: local-lvm, size: 8G}
create:
  ostemplate: ` + testTemplate + `
  password-file: /nonexistent/ct130.pass
  ssh-public-keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0m admin@example"]
`

func TestPlanCreateFromTemplate(t *testing.T) {
	e := newEnv(t, createInventory())
	specs := loadSpecs(t, map[string]string{"web2.yaml": ctSpec("web2", "pve1", 130, templateBody+"power: running\n")})
	p := e.plan(specs)
	cp := planFor(t, p, 130)
	// power: running is a start step of its own after the create, never
	// the create call's start=1 (a vzstart task the create does not wait
	// for).
	if cp.Status != plan.StatusChanges || len(cp.Steps) != 2 || cp.Steps[0].Action != plan.ActionCreate || cp.Steps[1].Action != plan.ActionStart {
		t.Fatalf("plan: %s %v %q", cp.Status, cp.Steps, cp.Blocked)
	}
	got := cp.Steps[0].Params
	want := map[string]string{"vmid": "130", "ostemplate": testTemplate, "storage": "local-lvm", "rootfs": "local-lvm:8",
		"hostname": "web2", "memory": "1024", "cores": "2", "net0": "name=eth0,bridge=vmbr0,ip=dhcp", "unprivileged": "1",
		"password-file": "/nonexistent/ct130.pass", "ssh-public-keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0m admin@example"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("param %s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected param %s=%q", k, got[k])
		}
	}
	if !strings.Contains(strings.Join(cp.Warnings, "\n"), diff.NewContainerNote) {
		t.Errorf("warnings %q lack %q", cp.Warnings, diff.NewContainerNote)
	}
	privs := map[string]bool{}
	for _, pr := range cp.Privileges {
		privs[pr.String()] = true
	}
	for _, w := range []string{"VM.Allocate on /vms/130", "VM.PowerMgmt on /vms/130", "Datastore.AllocateSpace on /storage/local-lvm", "Datastore.Audit on /storage/local",
		"VM.Config.Memory on /vms/130", "VM.Config.Network on /vms/130", "VM.Config.Disk on /vms/130", "SDN.Use on /sdn/zones/localnetwork/vmbr0"} {
		if !privs[w] {
			t.Errorf("privileges %v lack %s", cp.Privileges, w)
		}
	}
	if len(p.Warnings) > 0 {
		t.Errorf("plan warnings: %q", p.Warnings)
	}
	for _, ch := range cp.Changes {
		if ch.Reason != "set by the create" && ch.Path != "power" {
			t.Errorf("change %+v", ch)
		}
	}
}

func TestPlanCreateRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		vmid int
		body string
		want string
	}{
		{"template missing", 130, strings.Replace(templateBody, testTemplate, "local:vztmpl/alpine-3.22-default_20250617_amd64.tar.xz", 1),
			"OS template local:vztmpl/alpine-3.22-default_20250617_amd64.tar.xz is not on storage local of node pve1"},
		{"vmid held by a VM", 150, templateBody, "vmid 150 is held by VM 150 (db) on node pve1"},
		{"backup missing", 130, "rootfs: {storage: local-lvm}\ncreate:\n  restore: {volid: \"nas:backup/vzdump-lxc-120-2025_01_01-00_00_00.tar.zst\"}\n",
			"backup nas:backup/vzdump-lxc-120-2025_01_01-00_00_00.tar.zst is not on storage nas of node pve1"},
		{"no backup of the vmid", 130, "rootfs: {storage: local-lvm}\ncreate:\n  restore: {newest-backup-of: 121, storage: nas}\n",
			"no container backup of vmid 121 on storage nas of node pve1"},
		{"rootfs storage without rootdir", 130, strings.Replace(templateBody, "storage: local-lvm", "storage: nas", 1),
			"storage nas does not take rootdir content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, createInventory())
			cp := planFor(t, e.plan(loadSpecs(t, map[string]string{"a.yaml": ctSpec("new", "pve1", tc.vmid, tc.body)})), tc.vmid)
			if cp.Status != plan.StatusError || !strings.Contains(strings.Join(cp.Blocked, "\n"), tc.want) || len(cp.Steps) > 0 {
				t.Errorf("plan: %s %q %v, want error naming %q", cp.Status, cp.Blocked, cp.Steps, tc.want)
			}
		})
	}
}

func TestPlanRestoreNewestBackup(t *testing.T) {
	e := newEnv(t, createInventory())
	body := "memory: 2G\nnet:\n  net0: {name: eth0, bridge: vmbr1, ip: dhcp}\nrootfs: {storage: local-lvm}\ncreate:\n  restore: {newest-backup-of: 120, storage: nas}\n"
	cp := planFor(t, e.plan(loadSpecs(t, map[string]string{"a.yaml": ctSpec("restored", "pve1", 131, body)})), 131)
	if cp.Status != plan.StatusChanges || cp.Steps[0].Action != plan.ActionRestore {
		t.Fatalf("plan: %s %v %q", cp.Status, cp.Steps, cp.Blocked)
	}
	s := cp.Steps[0]
	if s.Params["ostemplate"] != newBackup || s.Params["restore"] != "1" || s.Params["unique"] != "1" || s.Params["memory"] != "2048" || s.Params["net0"] != "" {
		t.Errorf("restore params %v", s.Params)
	}
	if !strings.Contains(s.Why, "newest backup of vmid 120 on nas: "+newBackup) {
		t.Errorf("why %q does not name the backup found", s.Why)
	}
	if len(cp.Steps) != 2 || cp.Steps[1].Action != plan.ActionSetConfig || cp.Steps[1].Params["net0"] == "" {
		t.Errorf("steps %v: want the restore, then net0 written after it", cp.Steps)
	}
	privs := map[string]bool{}
	for _, pr := range cp.Privileges {
		privs[pr.String()] = true
	}
	for _, w := range []string{"VM.Allocate on /vms/131", "VM.Backup on /vms/120", "Datastore.AllocateSpace on /storage/nas",
		"SDN.Use on /sdn/zones/localnetwork/vmbr0", "SDN.Use on /sdn/zones/localnetwork/vmbr1"} {
		if !privs[w] {
			t.Errorf("privileges %v lack %s", cp.Privileges, w)
		}
	}
}

// A plan with a create costs one content list per storage and kind it
// names, and, when no container the specs name lives on its node, that
// node's storage list and the node list (as for any spec whose node no
// container is on). TestPlanCallsPerContainer holds a plan without creates
// to what it cost before.
func TestPlanCreateCalls(t *testing.T) {
	e := newEnv(t, createInventory())
	specs := loadSpecs(t, map[string]string{"a.yaml": ctSpec("web2", "pve1", 130, templateBody)})
	e.resetCalls()
	e.plan(specs)
	want := map[string]int{"GET /cluster/resources": 1, "GET /nodes": 1, "GET /nodes/{node}/storage": 1, "GET /nodes/{node}/storage/{storage}/content": 1, "GET /access/permissions": 1}
	for k, n := range want {
		if e.calls[k] != n {
			t.Errorf("%s: %d calls, want %d (all: %v)", k, e.calls[k], n, e.calls)
		}
	}
	if total := func() (n int) {
		for _, c := range e.calls {
			n += c
		}
		return
	}(); total != 5 {
		t.Errorf("%d calls: %v", total, e.calls)
	}
}

// A restore costs the content list of its backup storage and one GET
// .../vzdump/extractconfig for the backup's config, beside what any plan
// reads.
func TestPlanRestoreCalls(t *testing.T) {
	e := newEnv(t, createInventory())
	specs := loadSpecs(t, map[string]string{"a.yaml": ctSpec("restored", "pve1", 131, "rootfs: {storage: local-lvm}\ncreate:\n  restore: {newest-backup-of: 120, storage: nas}\n")})
	e.resetCalls()
	e.plan(specs)
	want := map[string]int{"GET /cluster/resources": 1, "GET /nodes": 1, "GET /nodes/{node}/storage": 1, "GET /nodes/{node}/storage/{storage}/content": 1,
		"GET /nodes/{node}/vzdump/extractconfig": 1, "GET /access/permissions": 1}
	if len(e.calls) != len(want) {
		t.Errorf("calls %v, want %v", e.calls, want)
	}
	for k, n := range want {
		if e.calls[k] != n {
			t.Errorf("%s: %d calls, want %d (all: %v)", k, e.calls[k], n, e.calls)
		}
	}
}

// A token for CI plans (VM.Audit and Datastore.Audit) does not see the
// backups: PVE lists a backup only to a token that may restore it
// (Datastore.AllocateSpace on its storage and VM.Backup on its guest, or
// Datastore.Allocate). A restore is then an error plan that says so, never
// a plan that picks another backup or none.
func TestPlanRestoreWithAPlanOnlyToken(t *testing.T) {
	for _, restore := range []string{"{newest-backup-of: 120, storage: nas}", "{volid: \"" + newBackup + "\"}"} {
		inv := createInventory()
		inv.AddUser("felhom@pve", pvesim.Role("/", "PVEAuditor")).AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
		e := newEnv(t, inv)
		body := "memory: 2G\nrootfs: {storage: local-lvm}\ncreate:\n  restore: " + restore + "\n"
		cp := planFor(t, e.plan(loadSpecs(t, map[string]string{"a.yaml": ctSpec("restored", "pve1", 131, body)})), 131)
		if cp.Status != plan.StatusError || len(cp.Steps) != 0 {
			t.Errorf("restore %s: plan %s %v, want an error plan", restore, cp.Status, cp.Steps)
		}
		want := "PVE lists a backup only to a token with Datastore.AllocateSpace on /storage/nas and VM.Backup on /vms/120"
		if len(cp.Blocked) != 1 || !strings.Contains(cp.Blocked[0], want) {
			t.Errorf("restore %s: %q lacks %q", restore, cp.Blocked, want)
		}
	}
}
