package spec

import "testing"

func TestPropertyStringHint(t *testing.T) {
	for _, tt := range []struct{ key, in, want string }{
		{"net0", "name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:5E:7A:01,ip=dhcp,type=veth",
			`{name: eth0, bridge: vmbr0, firewall: true, hwaddr: "BC:24:11:5E:7A:01", ip: dhcp}`},
		{"net1", "name=eth1,bridge=vmbr1,tag=20,trunks=30;40,link_down=0", "{name: eth1, bridge: vmbr1, tag: 20, trunks: [30, 40], link_down: false}"},
		{"rootfs", "local-lvm:vm-101-disk-0,size=8G,mountoptions=noatime;nodev", "{storage: local-lvm, size: 8G, mountoptions: [noatime, nodev]}"},
		{"rootfs", "local-lvm:8", "{storage: local-lvm, size: 8G}"},
		{"mp0", "local-lvm:vm-101-disk-1,mp=/srv/www,backup=1,size=16G", "{volume: local-lvm:vm-101-disk-1, mp: /srv/www, backup: true, size: 16G}"},
		{"mp0", "tank:0.5,mp=/x", "{storage: tank, size: 0.5G, mp: /x}"},
		{"mp1", "/tank/media,mp=/media,ro=1", "{bind: /tank/media, mp: /media, ro: true}"},
		{"mp2", "/dev/sdb1,mp=/mnt", "{device: /dev/sdb1, mp: /mnt}"},
		{"features", "nesting=1,mount=nfs;cifs", "{nesting: true, mount: [nfs, cifs]}"},
		{"startup", "order=1,up=30", "{order: 1, up: 30}"},
		{"net0", "eth0", ""},
		{"net0", "a=1,b", ""},
		// Read by pve/format's parsers: what PVE accepts, and only that.
		{"net0", "name=eth0,firewall=yes,link_down=off", "{name: eth0, firewall: true, link_down: false}"},
		{"net0", "name=eth0,firewall=maybe", ""},        // not a PVE boolean
		{"net0", "name=eth0,bridge=vmbr0,tag=9999", ""}, // tag beyond 4094
		{"startup", "1,up=30", "{order: 1, up: 30}"},    // order written bare
		{"features", "nesting=1,colour=blue", ""},
		{"mp0", "/tank/media", ""}, // a mount point needs mp=
		{"rootfs", "nocolon", ""},
		{"backup", "schedule=daily", ""}, // not a PVE property string
	} {
		if got := propertyStringHint(tt.key, tt.in); got != tt.want {
			t.Errorf("%s: %q\n got %s\nwant %s", tt.key, tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]string{"prod;web": "[prod, web]", "a, b": "[a, b]", "one": "[one]", "noatime; nodev": "[noatime, nodev]", "": "[]"} {
		if got := listHint(in); got != want {
			t.Errorf("listHint(%q) = %q, want %q", in, got, want)
		}
	}
}
