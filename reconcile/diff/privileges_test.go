package diff

import (
	"reflect"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

func TestPrivileges(t *testing.T) {
	cp := Diff(ct(t, `memory: 2G
cores: 4
tags: [a]
net:
  net0: {name: eth0, bridge: vmbr0, tag: 5}
mountpoints:
  mp1: {storage: tank, size: 4G, mp: /cache}
restart: {mode: when-needed}
nameserver: 1.1.1.1`), liveFrom(t, baseConf, true), testOpts)
	want := []string{
		"Datastore.AllocateSpace@/storage/tank",
		"SDN.Use@/sdn/zones/localnetwork/vmbr0",
		"SDN.Use@/sdn/zones/localnetwork/vmbr0/5",
		"VM.Config.CPU@/vms/101",
		"VM.Config.Disk@/vms/101",
		"VM.Config.Memory@/vms/101",
		"VM.Config.Network@/vms/101",
		"VM.Config.Options@/vms/101",
		"VM.PowerMgmt@/vms/101",
		"VM.Snapshot@/vms/101",
	}
	if got := privList(cp); !reflect.DeepEqual(got, want) {
		t.Errorf("privileges\n got %q\nwant %q", got, want)
	}
	// vzdump and prune need backup privileges instead of VM.Snapshot.
	cp = Diff(ct(t, `memory: 2G
snapshot: {when-impossible: vzdump}
backup: {schedule: daily, storage: nfs, compress: none, notes-template: "{{guestname}}", protected: false, retention: {keep-last: 2}}`), func() *Live {
		l := liveFrom(t, baseConf, true)
		l.Storages = map[string]Storage{"local-lvm": dirStorage, "nfs": nfsBackup}
		return l
	}(), testOpts)
	// The prune rides on the vzdump, which PVE allows only with
	// Datastore.Allocate on the storage.
	want = []string{"Datastore.Allocate@/storage/nfs", "Datastore.AllocateSpace@/storage/nfs", "VM.Backup@/vms/101", "VM.Config.Memory@/vms/101"}
	if got := privList(cp); !reflect.DeepEqual(got, want) {
		t.Errorf("vzdump privileges\n got %q\nwant %q", got, want)
	}
	for _, s := range cp.Steps {
		want := map[string]string{"vmid": "101", "storage": "nfs", "mode": "snapshot", "remove": "0", "compress": "0",
			"notes-template": "{{guestname}}", "protected": "0"}
		if s.Action == plan.ActionVzdump && !reflect.DeepEqual(s.Params, want) {
			t.Errorf("vzdump params %v", s.Params)
		}
		if s.Action == plan.ActionPrune && s.Params["prune-backups"] != "keep-last=2" {
			t.Errorf("prune params %v", s.Params)
		}
	}
}

// Putting an existing volume in place records what PVE's
// check_volume_access asks for it: nothing more for the container's own
// volume, Datastore.Audit on the storage and VM.Config.Disk on the owner for
// another container's; and a config PUT whose keys ask none of VM.Config.*
// (nesting alone) records the schema's VM.Config.Options.
func TestAttachAndConfigPutPrivileges(t *testing.T) {
	tests := []struct {
		name, body, extra string
		want              []string
	}{
		{"own volume", "mountpoints:\n  mp0: {volume: local-lvm:vm-101-disk-1, mp: /own}", "unused0: local-lvm:vm-101-disk-1,size=2G\n",
			[]string{"VM.Config.Disk@/vms/101", "VM.Snapshot@/vms/101"}},
		{"another's volume", "mountpoints:\n  mp0: {volume: local-lvm:vm-200-disk-1, mp: /other}", "",
			[]string{"Datastore.Audit@/storage/local-lvm", "VM.Config.Disk@/vms/101", "VM.Config.Disk@/vms/200", "VM.Snapshot@/vms/101"}},
		{"replaced by another's volume", "mountpoints:\n  mp0: {volume: local-lvm:vm-200-disk-1, mp: /data}", "mp0: local-lvm:vm-101-disk-1,mp=/data,size=2G\n",
			[]string{"Datastore.Audit@/storage/local-lvm", "VM.Config.Disk@/vms/101", "VM.Config.Disk@/vms/200", "VM.Snapshot@/vms/101"}},
		{"nesting alone", "features: {nesting: true}", "",
			[]string{"VM.Allocate@/vms/101", "VM.Config.Options@/vms/101", "VM.Snapshot@/vms/101"}},
		{"nesting and memory", "features: {nesting: true}\nmemory: 2G", "",
			[]string{"VM.Allocate@/vms/101", "VM.Config.Memory@/vms/101", "VM.Snapshot@/vms/101"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := Diff(ct(t, tt.body), liveFrom(t, baseConf+tt.extra, false), testOpts)
			if cp.Status != plan.StatusChanges {
				t.Fatalf("status %s: %v", cp.Status, cp.Blocked)
			}
			if got := privList(cp); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("privileges\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
