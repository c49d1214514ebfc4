package format_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/format"
)

// TestCanonicalPrint checks PVE's print order (default key bare, then
// required keys sorted, then the rest sorted), boolean and size
// normalisation, for every type.
func TestCanonicalPrint(t *testing.T) {
	tests := []struct {
		key, in, want string
	}{
		{"rootfs", "size=8G,volume=local-lvm:vm-100-disk-0", "local-lvm:vm-100-disk-0,size=8G"},
		{"rootfs", "local-lvm:vm-100-disk-0,size=1024G,acl=yes,replicate=off", "local-lvm:vm-100-disk-0,acl=1,replicate=0,size=1T"},
		{"rootfs", "local:8,mountoptions=noatime;nodev,quota=TRUE,ro=0,shared=On", "local:8,mountoptions=noatime;nodev,quota=1,ro=0,shared=1"},
		{"rootfs", "local-lvm:vm-100-disk-0,size=1536", "local-lvm:vm-100-disk-0,size=1536"},
		{"rootfs", "local-lvm:vm-100-disk-0,size=1.5G", "local-lvm:vm-100-disk-0,size=1536M"},
		{"rootfs", "local-lvm:vm-100-disk-0,size=2GiB", "local-lvm:vm-100-disk-0,size=2G"},
		{"rootfs", ",,local:x,,", "local:x"},
		{"mp0", "mp=/srv,backup=1,local-lvm:vm-100-disk-1,size=32G", "local-lvm:vm-100-disk-1,mp=/srv,backup=1,size=32G"},
		{"mp0", "/mnt/host/data,mp=/data,keepattrs=1,shared=1", "/mnt/host/data,mp=/data,keepattrs=1,shared=1"},
		{"mp1", "volume=local:9,mp=/x", "local:9,mp=/x"},
		{"net0", "type=veth,ip=dhcp,name=eth0,bridge=vmbr0", "name=eth0,bridge=vmbr0,ip=dhcp,type=veth"},
		{"net0", "name=eth0,bridge=vmbr0,tag=10,trunks=20;30,mtu=9000,rate=12.5,link_down=no,host-managed=yes,firewall=true", "name=eth0,bridge=vmbr0,firewall=1,host-managed=1,link_down=0,mtu=9000,rate=12.5,tag=10,trunks=20;30"},
		{"net1", "name=eth1,ip6=2001:db8::5/64,gw6=2001:db8::1,ip=10.0.0.5/24,gw=10.0.0.1", "name=eth1,gw=10.0.0.1,gw6=2001:db8::1,ip=10.0.0.5/24,ip6=2001:db8::5/64"},
		{"features", "nesting=1,keyctl=1", "keyctl=1,nesting=1"},
		{"features", "mount=nfs;cifs,fuse=yes,force_rw_sys=0,mknod=1", "force_rw_sys=0,fuse=1,mknod=1,mount=nfs;cifs"},
		{"startup", "down=60,up=30,order=1", "order=1,up=30,down=60"},
		{"startup", "3,up=5", "order=3,up=5"},
		{"startup", "up=5", "up=5"},
		{"dev0", "/dev/ttyUSB0,mode=0660,uid=0,gid=20", "/dev/ttyUSB0,gid=20,mode=0660,uid=0"},
		{"dev1", "path=/dev/dri/renderD128,deny-write=1", "/dev/dri/renderD128,deny-write=1"},
		{"dev2", "mode=0600", "mode=0600"},
	}
	for _, tt := range tests {
		p, err := parseByKey(tt.key, tt.in)
		if err != nil {
			t.Errorf("%s %q: %v", tt.key, tt.in, err)
			continue
		}
		if got := p.String(); got != tt.want {
			t.Errorf("%s %q: printed %q, want %q", tt.key, tt.in, got, tt.want)
		}
	}
}

// TestEqualMeaning checks that spellings of one meaning compare equal and
// that different meanings do not.
func TestEqualMeaning(t *testing.T) {
	tests := []struct {
		key, a, b string
		equal     bool
	}{
		{"rootfs", "local-lvm:vm-100-disk-0,size=1T", "local-lvm:vm-100-disk-0,size=1024G", true},
		{"rootfs", "local-lvm:vm-100-disk-0,size=8G", "size=8192M,volume=local-lvm:vm-100-disk-0", true},
		{"rootfs", "local-lvm:vm-100-disk-0,size=8G", "local-lvm:vm-100-disk-0,size=8589934592", true},
		{"rootfs", "local-lvm:vm-100-disk-0,size=1.5G", "local-lvm:vm-100-disk-0,size=1536M", true},
		{"rootfs", "local:x,acl=yes,quota=on", "quota=1,acl=true,local:x", true},
		{"rootfs", "local:x,replicate=1", "local:x", true},
		{"rootfs", "local:x,shared=off", "local:x", true},
		{"rootfs", "local:x,ro=0", "local:x", true},
		{"rootfs", "local:x,mountoptions=noatime;nodev", "local:x,mountoptions=nodev;noatime", true},
		{"rootfs", "local:x,acl=0", "local:x", false},
		{"rootfs", "local:x,replicate=0", "local:x", false},
		{"rootfs", "local:x,size=8G", "local:x,size=9G", false},
		{"rootfs", "local:x,size=8G", "local:x", false},
		{"rootfs", "local:x", "local:y", false},
		{"mp0", "local:x,mp=/srv,backup=0", "mp=/srv,local:x", true},
		{"mp0", "local:x,mp=/srv,keepattrs=no", "local:x,mp=/srv", true},
		{"mp0", "local:x,mp=/srv,size=1T", "local:x,mp=/srv,size=1048576M", true},
		{"mp0", "local:x,mp=/srv,backup=1", "local:x,mp=/srv", false},
		{"mp0", "local:x,mp=/srv", "local:x,mp=/srv2", false},
		{"net0", "name=eth0,hwaddr=BC:24:11:1B:6D:D4", "hwaddr=bc:24:11:1b:6d:d4,name=eth0", true},
		{"net0", "name=eth0,firewall=yes,type=veth", "firewall=1,name=eth0", true},
		{"net0", "name=eth0,link_down=off", "name=eth0", true},
		{"net0", "name=eth0,ip6=2001:db8:0:0::5/64,gw6=2001:0db8::1", "name=eth0,ip6=2001:db8::5/64,gw6=2001:db8::1", true},
		{"net0", "name=eth0,trunks=30;20", "name=eth0,trunks=20;30", true},
		{"net0", "name=eth0,tag=010", "name=eth0,tag=10", true},
		{"net0", "name=eth0,rate=10", "name=eth0,rate=10.0", true},
		{"net0", "name=eth0,hwaddr=BC:24:11:1B:6D:D4", "name=eth0,hwaddr=BC:24:11:1B:6D:D6", false},
		{"net0", "name=eth0,ip=10.0.0.5/24", "name=eth0,ip=10.0.0.5/25", false},
		{"net0", "name=eth0,ip=dhcp", "name=eth0,ip=manual", false},
		{"net0", "name=eth0,tag=10", "name=eth0", false},
		{"net0", "name=eth0", "name=eth1", false},
		{"features", "nesting=1,keyctl=1", "keyctl=yes,nesting=on", true},
		{"features", "nesting=1,fuse=0", "nesting=1", true},
		{"features", "mount=nfs;cifs", "mount=cifs;nfs", true},
		{"features", "nesting=1", "nesting=0", false},
		{"features", "mount=nfs", "mount=nfs;cifs", false},
		{"startup", "order=1,up=30", "up=30,1", true},
		{"startup", "order=1", "order=01", true},
		{"startup", "order=1", "order=1,up=0", false},
		{"dev0", "/dev/ttyUSB0,deny-write=0", "path=/dev/ttyUSB0", true},
		{"dev0", "/dev/ttyUSB0,uid=0", "/dev/ttyUSB0", false},
		{"dev0", "/dev/ttyUSB0,mode=0660", "/dev/ttyUSB0,mode=0666", false},
	}
	for _, tt := range tests {
		if got := equalByKey(t, tt.key, tt.a, tt.b); got != tt.equal {
			t.Errorf("%s: Equal(%q, %q) = %v, want %v", tt.key, tt.a, tt.b, got, tt.equal)
		}
		if got := equalByKey(t, tt.key, tt.b, tt.a); got != tt.equal {
			t.Errorf("%s: Equal(%q, %q) = %v, want %v (not symmetric)", tt.key, tt.b, tt.a, got, tt.equal)
		}
	}
}

// TestBadValues checks that bad values are *Error values naming the key,
// worded as PVE words them.
func TestBadValues(t *testing.T) {
	tests := []struct {
		key, in string
		wantKey string
		wantMsg string
		wantPVE string // PVEMessage(key), when checked
	}{
		{"rootfs", "local:x,foo=1", "foo", "invalid key in comma-separated list property: foo",
			"invalid format - invalid key in comma-separated list property: foo\n"},
		{"rootfs", "local:x,size=8X", "size", "invalid format - value does not look like a valid disk size: 8X",
			"invalid format - format error\nrootfs.size: invalid format - value does not look like a valid disk size: 8X\n\n"},
		{"rootfs", "local:x,size=8g", "size", "invalid format - value does not look like a valid disk size: 8g", ""},
		{"rootfs", "local:x,size=-1G", "size", "invalid format - value does not look like a valid disk size: -1G", ""},
		{"rootfs", "local:x,acl=maybe", "acl", "type check ('boolean') failed - got 'maybe'", ""},
		{"rootfs", "local:x,mountoptions=noatime;rw", "mountoptions", "value does not match the regex pattern", ""},
		{"rootfs", "size=8G", "volume", "property is missing and it is not optional",
			"invalid format - format error\nrootfs.volume: property is missing and it is not optional\n"},
		{"rootfs", "local:x,local:y", "volume", "duplicate key in comma-separated list property: volume", ""},
		{"rootfs", "local:x,size=1G,size=2G", "size", "duplicate key in comma-separated list property: size", ""},
		{"rootfs", "local:x,size=", "", "missing key in comma-separated list property",
			"invalid format - missing key in comma-separated list property\n"},
		{"rootfs", "/mnt/../etc", "volume", "invalid format - /mnt/../etc contains illegal character sequences", ""},
		{"mp0", "local:x", "mp", "property is missing and it is not optional",
			"invalid format - format error\nmp0.mp: property is missing and it is not optional\n"},
		{"mp0", "local:x,mp=/a/./b", "mp", "invalid format - /a/./b contains illegal character sequences", ""},
		{"mp0", "local:x,mp=/srv,backup=2", "backup", "type check ('boolean') failed - got '2'", ""},
		{"mp0", "local:x,mp=/srv,idmap=passthrough", "idmap", "invalid key in comma-separated list property: idmap", ""},
		{"rootfs", "local:x,keepattrs=1", "keepattrs", "invalid key in comma-separated list property: keepattrs", ""},
		{"net0", "bridge=vmbr0", "name", "property is missing and it is not optional", ""},
		{"net0", "eth0", "", "value without key, but schema does not define a default key", ""},
		{"net0", "name=eth0,type=macvlan", "type", "value 'macvlan' does not have a value in the enumeration 'veth'",
			"invalid format - format error\nnet0.type: value 'macvlan' does not have a value in the enumeration 'veth'\n"},
		{"net0", "name=eth0,mtu=10", "mtu", "value must have a minimum value of 64", ""},
		{"net0", "name=eth0,mtu=70000", "mtu", "value must have a maximum value of 65535", ""},
		{"net0", "name=eth0,mtu=1500.5", "mtu", "type check ('integer') failed - got '1500.5'", ""},
		{"net0", "name=eth0,tag=0", "tag", "value must have a minimum value of 1", ""},
		{"net0", "name=eth0,tag=abc", "tag", "type check ('integer') failed - got 'abc'", ""},
		{"net0", "name=eth0,rate=fast", "rate", "type check ('number') failed - got 'fast'", ""},
		{"net0", "name=eth0,hwaddr=01:00:5E:00:00:01", "hwaddr", "invalid format - value does not look like a valid unicast MAC address", ""},
		{"net0", "name=eth0,hwaddr=BC:24:11:1B:6D", "hwaddr", "invalid format - value does not look like a valid unicast MAC address", ""},
		{"net0", "name=eth0,ip=10.0.0.5", "ip", "invalid format - value does not look like a valid ipv4 network configuration", ""},
		{"net0", "name=eth0,ip=10.0.0.5/4", "ip", "invalid format - value does not look like a valid ipv4 network configuration", ""},
		{"net0", "name=eth0,ip=010.0.0.5/24", "ip", "invalid format - value does not look like a valid ipv4 network configuration", ""},
		{"net0", "name=eth0,ip6=auto6", "ip6", "invalid format - value does not look like a valid ipv6 network configuration", ""},
		{"net0", "name=eth0,gw=10.0.0.256", "gw", "invalid format - value does not look like a valid IPv4 address", ""},
		{"net0", "name=eth0,gw6=fe80::1%eth0", "gw6", "invalid format - value does not look like a valid IPv6 address", ""},
		{"net0", "name=eth0,trunks=10,20", "", "value without key, but schema does not define a default key", ""},
		{"net0", "name=eth0,trunks=10;x", "trunks", "value does not match the regex pattern", ""},
		{"net0", "name=eth 0", "name", "value does not match the regex pattern", ""},
		{"features", "nesting=1,docker=1", "docker", "invalid key in comma-separated list property: docker", ""},
		{"features", "nesting=2", "nesting", "type check ('boolean') failed - got '2'", ""},
		{"features", "mount=nfs,cifs", "", "value without key, but schema does not define a default key", ""},
		{"features", "mount=ext4:x", "mount", "value does not match the regex pattern", ""},
		{"startup", "order=x", "", "unable to parse startup options",
			"invalid format - unable to parse startup options\n"},
		{"startup", "order=1,delay=5", "", "unable to parse startup options", ""},
		{"startup", "0", "", "unable to parse startup options", ""},
		{"startup", "", "", "unable to parse startup options", ""},
		{"dev0", "/tmp/foo", "path", "invalid format - /tmp/foo is not a valid device path", ""},
		{"dev0", "/dev/../etc/shadow", "path", "invalid format - /dev/../etc/shadow is not a valid device path", ""},
		{"dev0", "/dev/ttyUSB0,mode=660", "mode", "value does not match the regex pattern", ""},
		{"dev0", "/dev/ttyUSB0,uid=-1", "uid", "value must have a minimum value of 0", ""},
		{"dev0", "/dev/ttyUSB0,gid=x", "gid", "type check ('integer') failed - got 'x'", ""},
	}
	for _, tt := range tests {
		_, err := parseByKey(tt.key, tt.in)
		var fe *format.Error
		if !errors.As(err, &fe) {
			t.Errorf("%s %q: err = %v, want a *format.Error", tt.key, tt.in, err)
			continue
		}
		if fe.Key != tt.wantKey || fe.Msg != tt.wantMsg {
			t.Errorf("%s %q: got key %q msg %q, want key %q msg %q", tt.key, tt.in, fe.Key, fe.Msg, tt.wantKey, tt.wantMsg)
		}
		if tt.wantKey != "" && !strings.Contains(err.Error(), tt.wantKey) {
			t.Errorf("%s %q: error %q does not name key %q", tt.key, tt.in, err, tt.wantKey)
		}
		if tt.wantPVE != "" {
			if got := fe.PVEMessage(tt.key); got != tt.wantPVE {
				t.Errorf("%s %q: PVEMessage = %q, want %q", tt.key, tt.in, got, tt.wantPVE)
			}
		}
	}
}

func TestErrorListsEveryBadKey(t *testing.T) {
	_, err := format.ParseMountPoint("local:x,size=8X,acl=maybe")
	var fe *format.Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *format.Error", err)
	}
	if got, want := err.Error(), "acl: type check ('boolean') failed - got 'maybe'; mp: property is missing and it is not optional; size: invalid format - value does not look like a valid disk size: 8X"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	want := "invalid format - format error\n" +
		"mp0.acl: type check ('boolean') failed - got 'maybe'\n" +
		"mp0.mp: property is missing and it is not optional\n" +
		"mp0.size: invalid format - value does not look like a valid disk size: 8X\n\n"
	if got := fe.PVEMessage("mp0"); got != want {
		t.Errorf("PVEMessage = %q, want %q", got, want)
	}
}

func TestErrorValueNamesOffendingText(t *testing.T) {
	_, err := format.ParseNet("name=eth0,mtu=10")
	var fe *format.Error
	if !errors.As(err, &fe) || fe.Value != "10" {
		t.Fatalf("err = %#v, want Value %q", err, "10")
	}
	if got, want := err.Error(), "mtu: value must have a minimum value of 64"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestMountPointKindAndNewVolume(t *testing.T) {
	tests := []struct {
		in      string
		kind    format.MountKind
		storage string
		size    format.Size
		isNew   bool
	}{
		{"local-lvm:vm-100-disk-1,mp=/srv", format.Volume, "", 0, false},
		{"local-lvm:8,mp=/srv", format.Volume, "local-lvm", 8 * format.GiB, true},
		{"local-lvm:0.5,mp=/srv", format.Volume, "local-lvm", 512 * format.MiB, true},
		{"local:0,mp=/srv", format.Volume, "local", 0, true},
		{"local-lvm:8G,mp=/srv", format.Volume, "", 0, false},
		{"/mnt/data,mp=/data", format.Bind, "", 0, false},
		{"/dev/sdb1,mp=/data", format.Device, "", 0, false},
		{"/devices/x,mp=/data", format.Bind, "", 0, false},
	}
	for _, tt := range tests {
		m, err := format.ParseMountPoint(tt.in)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if m.Kind() != tt.kind {
			t.Errorf("%q: Kind = %v, want %v", tt.in, m.Kind(), tt.kind)
		}
		if k := format.Classify(m.Volume); k != tt.kind {
			t.Errorf("Classify(%q) = %v, want %v", m.Volume, k, tt.kind)
		}
		storage, size, ok := m.NewVolume()
		if ok != tt.isNew || storage != tt.storage || size != tt.size {
			t.Errorf("%q: NewVolume = %q, %d, %v; want %q, %d, %v", tt.in, storage, size, ok, tt.storage, tt.size, tt.isNew)
		}
	}
	r, err := format.ParseRootFS("local-zfs:4")
	if err != nil {
		t.Fatal(err)
	}
	if s, size, ok := r.NewVolume(); !ok || s != "local-zfs" || size != 4*format.GiB || r.Kind() != format.Volume {
		t.Errorf("rootfs local-zfs:4: NewVolume = %q, %d, %v, Kind %v", s, size, ok, r.Kind())
	}
	for k, want := range map[format.MountKind]string{format.Volume: "volume", format.Bind: "bind", format.Device: "device"} {
		if k.String() != want {
			t.Errorf("MountKind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}

// TestPrintKeepsDefaultKeyReadable checks the one place where the print
// deviates from PVE's: a default-key value holding '=' keeps its key, so it
// reads back.
func TestPrintKeepsDefaultKeyReadable(t *testing.T) {
	r, err := format.ParseRootFS("volume=a=b,size=1G")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.String(), "volume=a=b,size=1G"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	back, err := format.ParseRootFS(r.String())
	if err != nil || !back.Equal(r) {
		t.Fatalf("re-parse: %v, %v", back, err)
	}
}

func TestBuiltValuesPrint(t *testing.T) {
	size := 8 * format.GiB
	yes, no := true, false
	mtu := 9000
	tests := []struct {
		got  string
		want string
	}{
		{format.RootFS{Volume: "local-lvm:vm-100-disk-0", Size: &size, ACL: &no}.String(), "local-lvm:vm-100-disk-0,acl=0,size=8G"},
		{format.MountPoint{Volume: "local-lvm:16", MP: "/srv", Backup: &yes, MountOptions: []string{"noatime", "nosuid"}}.String(), "local-lvm:16,mp=/srv,backup=1,mountoptions=noatime;nosuid"},
		{format.Net{Name: "eth0", Bridge: "vmbr0", MTU: &mtu, Trunks: []int{10, 20}}.String(), "name=eth0,bridge=vmbr0,mtu=9000,trunks=10;20"},
		{format.Features{Nesting: &yes, Mount: []string{"nfs"}}.String(), "mount=nfs,nesting=1"},
		{format.Features{}.String(), ""},
		{format.Dev{Path: "/dev/null", DenyWrite: &yes}.String(), "/dev/null,deny-write=1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("printed %q, want %q", tt.got, tt.want)
		}
	}
}
