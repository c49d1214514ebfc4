package format_test

import (
	"testing"

	"github.com/felhom/felhom/pve/format"
)

// FuzzParseSize checks that every accepted size prints (as PVE's size= and
// as GiB) to a text that reads back to the same number of bytes.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1024", "8G", "512M", "1T", "1.5G", "0.1K", "8GiB", "512MiB", "2KiB", "1TiB", "8g", "1.0000000001G", "8192T", "9999999999T", "8X", "", "-1G", ".5G", "1.G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		size, err := format.ParseSize(s)
		if err != nil {
			if _, strictErr := format.ParseDiskSize(s); strictErr == nil {
				t.Fatalf("ParseDiskSize accepts %q but ParseSize does not: %v", s, err)
			}
			return
		}
		if size < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, size)
		}
		if strict, err := format.ParseDiskSize(s); err == nil && strict != size {
			t.Fatalf("ParseDiskSize(%q) = %d, ParseSize = %d", s, strict, size)
		}
		printed := size.String()
		for name, parse := range map[string]func(string) (format.Size, error){"ParseSize": format.ParseSize, "ParseDiskSize": format.ParseDiskSize} {
			back, err := parse(printed)
			if err != nil || back != size {
				t.Fatalf("%s(%q) = %d, %v; want %d (from %q)", name, printed, back, err, size, s)
			}
		}
		if size%format.MiB == 0 {
			gib := size.GiBString()
			back, err := format.ParseNewVolumeSize(gib)
			if err != nil || back != size {
				t.Fatalf("ParseNewVolumeSize(%q) = %d, %v; want %d (from %q)", gib, back, err, size, s)
			}
		}
	})
}

// FuzzPropertyStrings checks, for every property-string type and delete
// lists, that parse → print → parse succeeds, means the same, and prints the
// same again.
func FuzzPropertyStrings(f *testing.F) {
	seeds := []struct {
		kind uint8
		s    string
	}{
		{0, "local-zfs:subvol-500-disk-0,replicate=0,size=6G"},
		{0, "local-lvm:vm-100-disk-0,size=1024G,acl=yes,mountoptions=noatime;nodev,quota=1,ro=0,shared=1"},
		{0, "volume=a=b,size=1.5G"},
		{0, "size=8G"},
		{1, "local:snapshotable-disk-2,mp=/invalid/mp0"},
		{1, "/mnt/host,mp=/data,backup=1,keepattrs=on,size=32G"},
		{1, "local-lvm:8,mp=/srv"},
		{2, "name=eth0,bridge=vmbr10,firewall=1,hwaddr=00:11:50:EB:74:7D,ip=dhcp,type=veth"},
		{2, "name=eth0,bridge=vmbr0,gw=192.168.100.1,hwaddr=BC:24:11:1B:6D:D4,ip=192.168.100.44/24,type=veth"},
		{2, "name=eth1,ip6=2001:db8::5/64,gw6=fe80::1,mtu=+1500,rate=1e2,tag=010,trunks=1;2;3,link_down=no,host-managed=1"},
		{3, "fuse=1,mount=nfs;cifs,nesting=1"},
		{3, "mount= ; ,keyctl=TRUE"},
		{4, "order=1,up=30,down=60"},
		{4, "3,,up=007"},
		{5, "/dev/ttyUSB0,mode=0660,uid=0,gid=20,deny-write=1"},
		{5, "mode=0600"},
		{6, "a1,b2;c3 !d4"},
		{6, "mp0\x00!net0"},
	}
	for _, s := range seeds {
		f.Add(s.kind, s.s)
	}
	f.Fuzz(func(t *testing.T, kind uint8, s string) {
		switch kind % 7 {
		case 0:
			roundTrip(t, s, format.ParseRootFS, format.RootFS.Equal)
		case 1:
			roundTrip(t, s, format.ParseMountPoint, format.MountPoint.Equal)
		case 2:
			roundTrip(t, s, format.ParseNet, format.Net.Equal)
		case 3:
			roundTrip(t, s, format.ParseFeatures, format.Features.Equal)
		case 4:
			// PVE accepts a blank startup (" ") as "nothing set", but not
			// the empty string it prints as; callers delete the key instead.
			if v, err := format.ParseStartup(s); err == nil && v.Equal(format.Startup{}) {
				if v.String() != "" {
					t.Fatalf("%q: empty startup printed as %q", s, v.String())
				}
				return
			}
			roundTrip(t, s, format.ParseStartup, format.Startup.Equal)
		case 5:
			roundTrip(t, s, format.ParseDev, format.Dev.Equal)
		case 6:
			items, err := format.ParseDeleteList(s)
			if err != nil {
				return
			}
			printed := format.FormatDeleteList(items)
			again, err := format.ParseDeleteList(printed)
			if err != nil {
				t.Fatalf("%q printed as %q, which does not parse: %v", s, printed, err)
			}
			if p2 := format.FormatDeleteList(again); p2 != printed {
				t.Fatalf("%q printed as %q, then as %q", s, printed, p2)
			}
		}
	})
}

func roundTrip[T interface{ String() string }](t *testing.T, s string, parse func(string) (T, error), equal func(T, T) bool) {
	t.Helper()
	v, err := parse(s)
	if err != nil {
		if _, ok := err.(*format.Error); !ok {
			t.Fatalf("%q: error %v is not a *format.Error", s, err)
		}
		return
	}
	printed := v.String()
	back, err := parse(printed)
	if err != nil {
		t.Fatalf("%q printed as %q, which does not parse: %v", s, printed, err)
	}
	if !equal(v, back) || !equal(back, v) {
		t.Fatalf("%q printed as %q, which means something else: %+v vs %+v", s, printed, v, back)
	}
	if p2 := back.String(); p2 != printed {
		t.Fatalf("%q printed as %q, then as %q", s, printed, p2)
	}
}
