package pvesim

import (
	"fmt"
	"strconv"

	"github.com/felhom/felhom/pve/ctconf"
)

// Snapshots (pve-container src/PVE/API2/LXC/Snapshot.pm; pve-guest-common
// src/PVE/AbstractConfig.pm snapshot_create, snapshot_delete,
// snapshot_rollback; pve-storage volume_has_feature,
// volume_rollback_is_possible). The API call checks only the reserved
// names; everything else happens inside the task, so a refused snapshot is
// a task that ends "TASK ERROR: snapshot feature is not available".

// snapshotCapable reports whether every mount point of the section
// (rootfs and mpN) can be snapshotted: has_feature('snapshot') over
// foreach_volume. A bind or device mount point, or a volume on a storage
// without snapshot support, makes the whole container incapable.
func (s *Sim) snapshotCapable(ct *simCT, sec *ctconf.Section) bool {
	return s.hasFeature(ct, sec, (*simStorage).canSnapshot)
}

// hasFeature is has_feature: ok must hold for the storage of every
// rootfs/mpN volume; bind and device mount points have no feature.
func (s *Sim) hasFeature(ct *simCT, sec *ctconf.Section, ok func(*simStorage) bool) bool {
	for _, m := range s.sectionMounts(ct, sec) {
		if m.st == nil || !ok(m.st) {
			return false
		}
	}
	return true
}

// mountRef is one rootfs/mpN of a config section: its key, and for a
// storage volume its volid, storage and volume (nil when unknown).
type mountRef struct {
	key   string
	volid string // "" for a bind or device mount point
	st    *simStorage
	vol   *volume
}

// sectionMounts returns the section's mount points in foreach_volume's
// order (rootfs, mp0, mp1, ...).
func (s *Sim) sectionMounts(ct *simCT, sec *ctconf.Section) []mountRef {
	var out []mountRef
	for _, key := range sec.MountKeys() {
		v, _ := sec.Get(key)
		m := mountRef{key: key}
		if volid, _, ok := volumeOf(key, v); ok {
			m.volid = volid
			if st, name, err := s.storageOf(ct.node, volid); err == nil {
				m.st, m.vol = st, st.volumes[name]
			}
		}
		out = append(out, m)
	}
	return out
}

// feature is GET .../feature: whether the container (or a snapshot of it)
// can be snapshotted, cloned or copied. snapshot follows
// volume_has_feature exactly; clone needs a storage that can snapshot
// (linked clones come from snapshots) and copy only storage volumes.
func (s *Sim) feature(r *request) (any, error) {
	ct, f, err := s.readCT(r)
	if err != nil {
		return nil, err
	}
	sec := f.Main
	if name := r.params["snapname"]; name != "" {
		sn := f.Snapshot(name)
		if sn == nil {
			return nil, errorf("snapshot '%s' does not exist", name)
		}
		sec = sn.Section
	}
	ok := (*simStorage).canSnapshot
	if r.params["feature"] == "copy" {
		ok = func(*simStorage) bool { return true }
	}
	return map[string]any{"hasFeature": boolInt(s.hasFeature(ct, sec, ok))}, nil
}

// mountVolumes returns the storage volumes of the section's mount points.
func (s *Sim) mountVolumes(ct *simCT, sec *ctconf.Section) []*volume {
	var out []*volume
	for _, m := range s.sectionMounts(ct, sec) {
		if m.vol != nil {
			out = append(out, m.vol)
		}
	}
	return out
}

// listSnapshots is GET .../snapshot.
func (s *Sim) listSnapshots(r *request) (any, error) {
	ct, f, err := s.readCT(r)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, e := range f.SnapshotEntries(ct.running) {
		item := map[string]any{"name": e.Name, "description": e.Description}
		if e.Current {
			item["digest"], item["running"] = e.Digest, boolInt(e.Running)
		} else {
			item["snaptime"] = e.Snaptime
			if e.Snapstate != "" {
				item["snapstate"] = e.Snapstate
			}
		}
		if e.HasParent {
			item["parent"] = e.Parent
		}
		out = append(out, item)
	}
	return out, nil
}

// createSnapshot is POST .../snapshot: task vzsnapshot. The config is
// loaded in the worker (API2/LXC/Snapshot.pm snapshot), so a missing CT is
// a task that fails.
func (s *Sim) createSnapshot(r *request) (any, error) {
	name := r.params["snapname"]
	if err := ctconf.ValidSnapshotName(name); err != nil {
		return nil, err
	}
	ct, err := s.lookupCT(r)
	if err != nil {
		return s.startTask(r, taskSpec{node: r.params["node"], typ: "vzsnapshot", id: strconv.Itoa(r.vmid()),
			begin: func(t *task) error { return err }}), nil
	}
	desc := r.params["description"]
	vmid := ct.vmid
	return s.startTask(r, taskSpec{node: ct.node, typ: "vzsnapshot", id: strconv.Itoa(vmid),
		begin: func(t *task) error {
			f, err := ct.file()
			if err != nil {
				return err
			}
			if err := f.SnapshotCheck(name); err != nil {
				return err
			}
			if !s.snapshotCapable(ct, f.Main) {
				return fmt.Errorf("snapshot feature is not available")
			}
			if err := f.SnapshotPrepare(name, desc, s.clock.Now().Unix()); err != nil {
				return err
			}
			ct.store(f)
			return nil
		},
		finish: func(t *task) error {
			f, err := ct.file()
			if err != nil {
				return err
			}
			if ct.running {
				t.logf("freezing container %d", vmid)
			}
			for _, v := range s.mountVolumes(ct, f.Main) {
				v.addSnap(name, v.size)
			}
			if ct.running {
				t.logf("thawing container %d", vmid)
			}
			if err := f.SnapshotCommit(name); err != nil {
				return err
			}
			ct.store(f)
			return nil
		},
		abort: func(t *task) {
			// snapshot_create on failure: the partial snapshot is deleted.
			if f, err := ct.file(); err == nil && f.Snapshot(name) != nil {
				if f.SnapshotDelete(name) == nil {
					ct.store(f)
				}
			}
		},
	}), nil
}

// deleteSnapshot is DELETE .../snapshot/{snapname}: task vzdelsnapshot. A
// failed delete leaves lock snapshot-delete and snapstate delete, as on
// PVE.
func (s *Sim) deleteSnapshot(r *request) (any, error) {
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, err
	}
	name := r.params["snapname"]
	return s.startTask(r, taskSpec{node: ct.node, typ: "vzdelsnapshot", id: strconv.Itoa(ct.vmid),
		begin: func(t *task) error {
			f, err := ct.file()
			if err != nil {
				return err
			}
			if f.Snapshot(name) == nil {
				return fmt.Errorf("snapshot '%s' does not exist", name)
			}
			if err := f.CheckLock(); err != nil {
				return err
			}
			if err := f.SnapshotDeleteBegin(name); err != nil {
				return err
			}
			ct.store(f)
			return nil
		},
		finish: func(t *task) error {
			f, err := ct.file()
			if err != nil {
				return err
			}
			sn := f.Snapshot(name)
			if sn == nil {
				return fmt.Errorf("snapshot '%s' does not exist", name)
			}
			for _, v := range s.mountVolumes(ct, sn.Section) {
				v.dropSnap(name)
			}
			if err := f.SnapshotDelete(name); err != nil {
				return err
			}
			ct.store(f)
			return nil
		},
	}), nil
}

// rollbackSnapshot is POST .../snapshot/{snapname}/rollback: task
// vzrollback. A running container is force-stopped; start=1 starts it
// afterwards.
func (s *Sim) rollbackSnapshot(r *request) (any, error) {
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, err
	}
	name := r.params["snapname"]
	start := r.boolParam("start")
	return s.startTask(r, taskSpec{node: ct.node, typ: "vzrollback", id: strconv.Itoa(ct.vmid),
		begin: func(t *task) error {
			f, err := ct.file()
			if err != nil {
				return err
			}
			// snapshot_rollback: the template and existence checks, then
			// the volumes, then RollbackBegin's snapstate and lock checks.
			if f.IsTemplate() {
				return fmt.Errorf("you can't rollback if vm is a template")
			}
			sn := f.Snapshot(name)
			if sn == nil {
				return fmt.Errorf("snapshot '%s' does not exist", name)
			}
			if err := s.rollbackPossible(ct, sn); err != nil {
				return err
			}
			if err := f.RollbackBegin(name); err != nil {
				return err
			}
			if ct.running {
				t.logf("stopping container %d (force)", ct.vmid)
				ct.running = false
			}
			ct.store(f)
			return nil
		},
		finish: func(t *task) error {
			f, err := ct.file()
			if err != nil {
				return err
			}
			sn := f.Snapshot(name)
			if sn == nil {
				return fmt.Errorf("snapshot '%s' does not exist", name)
			}
			// volume_snapshot_rollback gives each volume the snapshot's
			// size back: lvmthin replaces the volume with the snapshot
			// (LvmThinPlugin: lvremove, lvcreate -s), zfspool subvols
			// get the refquota tracked on the snapshot
			// (ZFSPoolPlugin, pve-storage:refquota), btrfs swaps in the
			// snapshotted subvolume with its raw file, rbd's snap
			// rollback resizes the image; a storage modelled as older
			// zfspool (RollbackKeepsSize) leaves the size.
			for _, m := range s.sectionMounts(ct, sn.Section) {
				if m.vol != nil && !m.st.keepSize {
					if size, ok := m.vol.snapSize[name]; ok {
						m.vol.size = size
					}
				}
			}
			if err := f.Rollback(name); err != nil {
				return err
			}
			ct.store(f)
			if start {
				return s.startCT(t, ct)
			}
			return nil
		},
	}), nil
}

// rollbackPossible is volume_rollback_is_possible for each volume of the
// snapshot: ZFS can only roll back to the most recent snapshot.
func (s *Sim) rollbackPossible(ct *simCT, sn *ctconf.Snapshot) error {
	for _, m := range s.sectionMounts(ct, sn.Section) {
		if m.vol == nil || m.st.typ != "zfspool" {
			continue
		}
		found := false
		for i, name := range m.vol.snaps {
			if name == sn.Name {
				found = true
				if i != len(m.vol.snaps)-1 {
					return fmt.Errorf("can't rollback, '%s' is not most recent snapshot on '%s'", sn.Name, m.volid)
				}
			}
		}
		if !found {
			return fmt.Errorf("can't rollback, snapshot '%s' does not exist on '%s'", sn.Name, m.volid)
		}
	}
	return nil
}

// snapshotIndex is GET .../snapshot/{snapname}.
func (s *Sim) snapshotIndex(r *request) (any, error) {
	return []map[string]string{{"cmd": "rollback"}, {"cmd": "config"}}, nil
}

// snapshotConfig is GET .../snapshot/{snapname}/config.
func (s *Sim) snapshotConfig(r *request) (any, error) {
	_, f, err := s.readCT(r)
	if err != nil {
		return nil, err
	}
	sn := f.Snapshot(r.params["snapname"])
	if sn == nil {
		return nil, errorf("snapshot '%s' does not exist", r.params["snapname"])
	}
	values := map[string]string{}
	for _, k := range sn.Keys() {
		values[k], _ = sn.Get(k)
	}
	return configJSON(values, sn.Lxc), nil
}

// updateSnapshotConfig is PUT .../snapshot/{snapname}/config: only the
// description changes.
func (s *Sim) updateSnapshotConfig(r *request) (any, error) {
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, err
	}
	if !r.has("description") {
		return nil, nil
	}
	f, err := ct.file()
	if err != nil {
		return nil, err
	}
	if err := f.SetSnapshotDescription(r.params["snapname"], r.params["description"]); err != nil {
		return nil, err
	}
	ct.store(f)
	return nil, nil
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
