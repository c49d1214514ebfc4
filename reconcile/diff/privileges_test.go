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
