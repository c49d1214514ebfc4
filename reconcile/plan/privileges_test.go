package plan

import (
	"reflect"
	"testing"
)

func TestVolumeOwner(t *testing.T) {
	tests := []struct {
		volid string
		owner int
		ok    bool
	}{
		{"local-lvm:vm-100-disk-0", 100, true},
		{"local-zfs:subvol-205-disk-3", 205, true},
		{"local:200/vm-200-disk-1.raw", 200, true},
		{"local-lvm:base-9000-disk-0", 9000, true},
		{"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", 0, false},
		{"tank:data-volume", 0, false},
		{"local-lvm:vm-100-disk-x", 0, false},
		{"local-lvm:vm-0100-disk-0", 0, false},
		{"local-lvm:myvm-100-disk-0", 0, false},
	}
	for _, tt := range tests {
		owner, ok := VolumeOwner(tt.volid)
		if owner != tt.owner || ok != tt.ok {
			t.Errorf("VolumeOwner(%q) = %d, %v; want %d, %v", tt.volid, owner, ok, tt.owner, tt.ok)
		}
	}
}

func TestNeeds(t *testing.T) {
	tests := []struct {
		use   Use
		scope string
		want  []Privilege
	}{
		{UseSetMemory, "", []Privilege{{"/vms/101", "VM.Config.Memory"}}},
		{UseBridge, "/sdn/zones/localnetwork/vmbr0/20", []Privilege{{"/sdn/zones/localnetwork/vmbr0/20", "SDN.Use"}}},
		{UseNewVolume, "local-lvm", []Privilege{{"/storage/local-lvm", "Datastore.AllocateSpace"}}},
		{UseResize, "local-lvm", []Privilege{{"/vms/101", "VM.Config.Disk"}, {"/vms/101", "VM.Config.Options"}, {"/storage/local-lvm", "Datastore.AllocateSpace"}}},
		{UseAttachOthers, "local-lvm:vm-200-disk-1", []Privilege{{"/storage/local-lvm", "Datastore.Audit"}, {"/vms/200", "VM.Config.Disk"}}},
		{UseAttachOthers, "local-lvm:vm-101-disk-1", nil},
		{UseAttachUnowned, "tank:shared", []Privilege{{"/storage/tank", "Datastore.Allocate"}}},
		{UseVzdump, "nas", []Privilege{{"/vms/101", "VM.Backup"}, {"/storage/nas", "Datastore.AllocateSpace"}}},
	}
	for _, tt := range tests {
		if got := Needs(tt.use, 101, tt.scope); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Needs(%d, 101, %q) = %v, want %v", tt.use, tt.scope, got, tt.want)
		}
	}
}

func TestAttachUse(t *testing.T) {
	tests := []struct {
		volid string
		use   Use
		ok    bool
	}{
		{"local-lvm:vm-101-disk-2", 0, false},
		{"local-lvm:vm-200-disk-0", UseAttachOthers, true},
		{"tank:shared", UseAttachUnowned, true},
	}
	for _, tt := range tests {
		use, ok := AttachUse(101, tt.volid)
		if use != tt.use || ok != tt.ok {
			t.Errorf("AttachUse(101, %q) = %d, %v; want %d, %v", tt.volid, use, ok, tt.use, tt.ok)
		}
	}
}

// Every use names what it is for and needs at least one privilege, and the
// overview lists each privilege once.
func TestPrivilegeUses(t *testing.T) {
	for u := UseRead; u < useEnd; u++ {
		if uses[u].what == "" || len(uses[u].needs) == 0 {
			t.Errorf("use %d: %+v", u, uses[u])
		}
	}
	seen := map[string]bool{}
	for _, p := range PrivilegeUses() {
		if seen[p.Name] {
			t.Errorf("%s listed twice", p.Name)
		}
		seen[p.Name] = true
		if len(p.For) == 0 {
			t.Errorf("%s: no use", p.Name)
		}
	}
	if !seen["VM.Snapshot"] || !seen["SDN.Use"] {
		t.Errorf("overview %v", seen)
	}
	// Only Sys.Modify is optional (a privileged create): felhom selftest
	// does not hold a token without it unable to apply.
	for _, p := range PrivilegeUses() {
		if p.Optional != (p.Name == "Sys.Modify") {
			t.Errorf("%s: optional %v", p.Name, p.Optional)
		}
	}
}
