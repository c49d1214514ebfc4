package format

import "testing"

func TestSnapshotCapable(t *testing.T) {
	for typ, want := range map[string]bool{
		"lvmthin": true, "zfspool": true, "rbd": true, "btrfs": true,
		"dir": false, "nfs": false, "cifs": false, "lvm": false, "cephfs": false, "pbs": false, "": false, "ZFSPOOL": false,
	} {
		if got := SnapshotCapable(typ); got != want {
			t.Errorf("SnapshotCapable(%q) = %v, want %v", typ, got, want)
		}
	}
}
