package format

// SnapshotCapable reports whether PVE can snapshot a container volume on a
// storage of type storageType (the "type" of GET /nodes/{node}/storage and
// storage.cfg): lvmthin, zfspool, rbd and btrfs. pve-storage answers
// volume_has_feature 'snapshot' for those plugins' current volumes
// (LVMThinPlugin, ZFSPoolPlugin, RBDPlugin; BTRFSPlugin for raw and subvol);
// the base Plugin.pm, which dir, nfs and cifs use, answers it only for
// qcow2, and lvm not for raw, and containers use raw volumes and subvols.
// PVE's snapshot_create asks it of every mount point's volume, so one
// volume on another storage type makes the container unsnapshottable.
func SnapshotCapable(storageType string) bool {
	switch storageType {
	case "lvmthin", "zfspool", "rbd", "btrfs":
		return true
	}
	return false
}
