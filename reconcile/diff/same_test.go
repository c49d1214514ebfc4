package diff

import "testing"

func TestSameValue(t *testing.T) {
	tests := []struct {
		key, sent, got string
		want           bool
	}{
		{"memory", "2048", "2048", true},
		{"cpulimit", "0.5", ".5", true},
		{"memory", "2048", "1024", false},
		{"tags", "prod;web", "web;Prod", true},
		{"tags", "prod", "prod;web", false},
		{"description", "hello", "hello\n", true},
		{"net0", "name=eth0,bridge=vmbr0,ip=dhcp", "bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,name=eth0,type=veth", true},
		{"net0", "name=eth0,bridge=vmbr1,ip=dhcp", "bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,name=eth0,type=veth", false},
		{"mp0", "tank:64,mp=/data,backup=1", "tank:subvol-201-disk-1,backup=1,mp=/data,size=64G", true},
		{"mp0", "tank:64,mp=/data", "tank:subvol-201-disk-1,mp=/data,size=32G", false},
		{"mp0", "tank:64,mp=/data", "other:subvol-201-disk-1,mp=/data,size=64G", false},
		{"rootfs", "local-lvm:vm-1-disk-0,size=8G", "local-lvm:vm-1-disk-0,size=8192M", true},
		// An existing volume attached without size=: PVE writes the size
		// it reads from the storage; a different volume is still different.
		{"mp1", "local-lvm:vm-101-disk-1,mp=/srv", "local-lvm:vm-101-disk-1,mp=/srv,size=8G", true},
		{"mp1", "local-lvm:vm-101-disk-1,mp=/srv", "local-lvm:vm-101-disk-2,mp=/srv,size=8G", false},
		{"mp1", "local-lvm:vm-101-disk-1,mp=/srv,size=4G", "local-lvm:vm-101-disk-1,mp=/srv,size=8G", false},
		{"features", "nesting=1,keyctl=1", "keyctl=1,nesting=1", true},
		{"startup", "order=1,up=10", "up=10,order=1", true},
		{"hostname", "web", "web2", false},
		{"nameserver", "1.1.1.1 9.9.9.9", "1.1.1.1,9.9.9.9", true},
		{"nameserver", "1.1.1.1 9.9.9.9", "9.9.9.9 1.1.1.1", false},
		{"onboot", "1", "on", true},
		{"swap", "512", "1024", false},
		{"cpuunits", "100", "0100", true},
	}
	for _, tt := range tests {
		if got := SameValue(tt.key, tt.sent, tt.got); got != tt.want {
			t.Errorf("SameValue(%s, %q, %q) = %v, want %v", tt.key, tt.sent, tt.got, got, tt.want)
		}
	}
}
