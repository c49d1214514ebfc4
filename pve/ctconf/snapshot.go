package ctconf

import (
	"errors"
	"regexp"
	"sort"
	"strconv"

	"github.com/felhom/felhom/pve/format"
)

// Locks PVE sets during snapshot operations.
const (
	LockSnapshot       = "snapshot"
	LockSnapshotDelete = "snapshot-delete"
	LockRollback       = "rollback"
	LockBackup         = "backup"
)

// ValidSnapshotName checks a snapshot name as POST .../snapshot does: the
// schema's pve-snapshot-name (format pve-configid, at most 40 characters) is
// a *ParamError on "snapname"; the reserved names current and vzdump are a
// plain error ("unable to use snapshot name 'current' (reserved name)").
func ValidSnapshotName(name string) error {
	if !format.IsConfigID(name) {
		return paramErr("snapname", "invalid format - invalid configuration ID '"+name+"'\n")
	}
	if len(name) > 40 {
		return paramErr("snapname", "value may only be 40 characters long")
	}
	if name == "current" || name == "vzdump" {
		return errors.New("unable to use snapshot name '" + name + "' (reserved name)")
	}
	return nil
}

// Lock returns the lock value ("" when unlocked).
func (f *File) Lock() string { return f.Main.values["lock"] }

// SetLock sets the lock, or clears it when lock is "".
func (f *File) SetLock(lock string) {
	if lock == "" {
		delete(f.Main.values, "lock")
		return
	}
	f.Main.values["lock"] = lock
}

// CheckLock is check_lock (pve-guest-common PVE::AbstractConfig): a
// *LockedError ("CT is locked (backup)") when the config has a lock.
func (f *File) CheckLock() error {
	if l := f.Main.values["lock"]; perlTrue(l) {
		return &LockedError{Lock: l}
	}
	return nil
}

// IsTemplate is is_template: template is 1.
func (f *File) IsTemplate() bool {
	n, err := strconv.ParseFloat(f.Main.values["template"], 64)
	return err == nil && n == 1
}

// snapshotCopySkip are the keys __snapshot_copy_config does not copy.
func snapshotCopySkip(k string) bool {
	switch k {
	case "snapshots", "snapstate", "snaptime", "vmstate", "lock", "digest", "description":
		return true
	}
	return unusedKeyRE.MatchString(k)
}

// unusedKeyRE is PVE's m/^unused\d+$/.
var unusedKeyRE = regexp.MustCompile(`^unused\d+$`)

// copyConfig is __snapshot_copy_config: every key but the skipped ones,
// and the raw lxc.* entries.
func copyConfig(src, dst *Section) {
	for k, v := range src.values {
		if !snapshotCopySkip(k) {
			dst.values[k] = v
		}
	}
	dst.Lxc = append([]LxcEntry(nil), src.Lxc...)
}

// SnapshotCheck is the checks __snapshot_prepare (pve-guest-common
// src/PVE/AbstractConfig.pm) makes before the storage's snapshot
// capability, in its order: a template is refused ("you can't take a
// snapshot if it's a template"); check_lock; a used name is refused
// ("snapshot name 'X' already used"). A caller that checks the capability
// calls it first, then SnapshotPrepare.
func (f *File) SnapshotCheck(name string) error {
	if f.IsTemplate() {
		return errors.New("you can't take a snapshot if it's a template")
	}
	if err := f.CheckLock(); err != nil {
		return err
	}
	if f.Snapshot(name) != nil {
		return errors.New("snapshot name '" + name + "' already used")
	}
	return nil
}

// SnapshotPrepare is the config part of __snapshot_prepare: SnapshotCheck,
// then lock: snapshot is set, a snapshot whose parent is name loses that
// parent (PVE warns of a bogus cycle), and the new section copies the
// current config (no lock, digest, description, unusedN) with snapstate:
// prepare, snaptime and the description. Checking the name
// (ValidSnapshotName) and the storage's snapshot capability is the
// caller's part; PVE checks the capability right after the name clash
// (SnapshotCheck). On error f is unchanged.
func (f *File) SnapshotPrepare(name, description string, snaptime int64) error {
	if err := f.SnapshotCheck(name); err != nil {
		return err
	}
	f.Main.values["lock"] = LockSnapshot
	for _, s := range f.Snapshots {
		if s.values["parent"] == name {
			delete(s.values, "parent")
		}
	}
	snap := &Snapshot{Name: name, Section: NewSection()}
	copyConfig(f.Main, snap.Section)
	snap.values["snapstate"] = "prepare"
	snap.values["snaptime"] = strconv.FormatInt(snaptime, 10)
	if perlTrue(description) {
		snap.values["description"] = description
	}
	f.Snapshots = append(f.Snapshots, snap)
	return nil
}

// SnapshotCommit is __snapshot_commit: it requires lock: snapshot ("missing
// snapshot lock") and the section in snapstate prepare ("snapshot 'X' does
// not exist", "wrong snapshot state"), then drops snapstate and the lock
// and sets parent: name in the current config.
func (f *File) SnapshotCommit(name string) error {
	if f.Main.values["lock"] != LockSnapshot {
		return errors.New("missing snapshot lock")
	}
	snap := f.Snapshot(name)
	if snap == nil {
		return errors.New("snapshot '" + name + "' does not exist")
	}
	if snap.values["snapstate"] != "prepare" {
		return errors.New("wrong snapshot state")
	}
	delete(snap.values, "snapstate")
	delete(f.Main.values, "lock")
	f.Main.values["parent"] = name
	return nil
}

// SnapshotDeleteBegin is the first config step of snapshot_delete: the
// snapshot must exist; set_lock takes lock: snapshot-delete (check_lock
// first: *LockedError); a template is refused ("you can't delete a
// snapshot if vm is a template"); the section gets snapstate: delete. The
// caller then removes the volume snapshots and calls SnapshotDelete. On
// error f is unchanged.
func (f *File) SnapshotDeleteBegin(name string) error {
	if f.Snapshot(name) == nil {
		return errors.New("snapshot '" + name + "' does not exist")
	}
	if err := f.CheckLock(); err != nil {
		return err
	}
	if f.IsTemplate() {
		return errors.New("you can't delete a snapshot if vm is a template")
	}
	f.Main.values["lock"] = LockSnapshotDelete
	f.Snapshot(name).values["snapstate"] = "delete"
	return nil
}

// SnapshotDelete is the final config step of snapshot_delete: the
// snapshot's children (and the current config) whose parent is name get
// name's parent (or none); the section goes; the lock is dropped; the
// snapshot's volumes are offered as unusedN (add_unused_volume), of which
// those the current config still uses vanish again when written. It expects
// lock: snapshot-delete (set by SnapshotDeleteBegin) or lock: snapshot (the
// clean-up of a failed create); otherwise it runs SnapshotDeleteBegin
// first, so another lock fails with *LockedError. On error f is unchanged.
func (f *File) SnapshotDelete(name string) error {
	c := f.Clone()
	if l := c.Lock(); l != LockSnapshotDelete && l != LockSnapshot {
		if err := c.SnapshotDeleteBegin(name); err != nil {
			return err
		}
	}
	snap := c.Snapshot(name)
	if snap == nil {
		return errors.New("snapshot '" + name + "' does not exist")
	}
	var unused []string
	foreachVolume(snap.Section, func(key string, mi mountInfo) {
		if name == "vzdump" && !mi.backup {
			return
		}
		if mi.kind == format.Volume {
			unused = append(unused, mi.volume)
		}
	})
	newParent := snap.values["parent"]
	unlink := func(s *Section) {
		if p := s.values["parent"]; perlTrue(p) && p == name {
			if perlTrue(newParent) {
				s.values["parent"] = newParent
			} else {
				delete(s.values, "parent")
			}
		}
	}
	unlink(c.Main)
	kept := c.Snapshots[:0]
	for _, s := range c.Snapshots {
		if s.Name == name {
			continue
		}
		unlink(s.Section)
		kept = append(kept, s)
	}
	c.Snapshots = kept
	delete(c.Main.values, "lock")
	for _, v := range unused {
		if _, err := addUnusedVolume(c.Main, v); err != nil {
			return err
		}
	}
	c.dropUsedUnused()
	*f = *c
	return nil
}

// rollbackSnapshot is snapshot_rollback's $get_snapshot_config plus the
// snapstate check.
func (f *File) rollbackSnapshot(name string) (*Snapshot, error) {
	if f.IsTemplate() {
		return nil, errors.New("you can't rollback if vm is a template")
	}
	snap := f.Snapshot(name)
	if snap == nil {
		return nil, errors.New("snapshot '" + name + "' does not exist")
	}
	if st := snap.values["snapstate"]; perlTrue(st) {
		return nil, errors.New("unable to rollback to incomplete snapshot (snapstate = " + st + ")")
	}
	return snap, nil
}

// RollbackBegin is the prepare phase of snapshot_rollback at the config
// level: the snapshot must exist, not be a template's, and be complete
// ("unable to rollback to incomplete snapshot (snapstate = prepare)");
// check_lock; then lock: rollback. The caller checks that each volume can
// roll back (ZFS: only to the most recent snapshot) and stops a running
// container. On error f is unchanged.
func (f *File) RollbackBegin(name string) error {
	if _, err := f.rollbackSnapshot(name); err != nil {
		return err
	}
	if err := f.CheckLock(); err != nil {
		return err
	}
	f.Main.values["lock"] = LockRollback
	return nil
}

// Rollback is the final phase of snapshot_rollback at the config level: the
// lock is dropped; volumes of the current config that the snapshot does not
// use become unusedN; then the snapshot's config replaces the current one
// (__snapshot_apply_config): the current description, unusedN and
// snapshots are kept, everything else (pending changes, raw lxc.* lines
// included) comes from the snapshot, and parent is set to name. It expects
// lock: rollback (set by RollbackBegin); otherwise it runs RollbackBegin
// first, so another lock fails with *LockedError. On error f is unchanged.
func (f *File) Rollback(name string) error {
	c := f.Clone()
	if c.Lock() != LockRollback {
		if err := c.RollbackBegin(name); err != nil {
			return err
		}
	}
	snap, err := c.rollbackSnapshot(name)
	if err != nil {
		return err
	}
	delete(c.Main.values, "lock")
	var unused []string
	foreachVolume(c.Main, func(_ string, mi mountInfo) {
		if mi.kind == format.Volume && !sectionUses(snap.Section, mi.volume) {
			unused = append(unused, mi.volume)
		}
	})
	for _, v := range unused {
		if _, err := addUnusedVolume(c.Main, v); err != nil {
			return err
		}
	}
	main := NewSection()
	for k, v := range c.Main.values {
		if unusedKeyRE.MatchString(k) || k == "description" {
			main.values[k] = v
		}
	}
	copyConfig(snap.Section, main)
	main.values["parent"] = name
	c.Main = main
	c.Pending = nil
	c.dropUsedUnused()
	*f = *c
	return nil
}

// SnapshotEntry is one element of GET /nodes/{node}/lxc/{vmid}/snapshot.
type SnapshotEntry struct {
	Name string
	// Snaptime is 0 when the section has none.
	Snaptime    int64
	Description string
	// Parent is set only when HasParent.
	Parent    string
	HasParent bool
	// Snapstate is "" for a complete snapshot.
	Snapstate string
	// Current marks the final "current" entry, which carries Digest and
	// Running instead of Snaptime and Snapstate.
	Current bool
	Digest  string
	Running bool
}

// SnapshotEntries returns what GET .../snapshot returns (pve-container
// src/PVE/API2/LXC/Snapshot.pm): one entry per snapshot, sorted by name
// (PVE's order is a hash order), then the "current" entry with the digest,
// the running state, the description "You are here!" and the current
// parent.
func (f *File) SnapshotEntries(running bool) []SnapshotEntry {
	var res []SnapshotEntry
	for _, s := range f.Snapshots {
		e := SnapshotEntry{Name: s.Name, Snaptime: s.Snaptime(), Snapstate: s.Snapstate()}
		if d := s.values["description"]; perlTrue(d) {
			e.Description = d
		}
		if p, ok := s.values["parent"]; ok {
			e.Parent, e.HasParent = p, true
		}
		res = append(res, e)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Name < res[j].Name })
	cur := SnapshotEntry{Name: "current", Current: true, Digest: f.Digest, Running: running, Description: "You are here!"}
	if p, ok := f.Main.values["parent"]; ok {
		cur.Parent, cur.HasParent = p, true
	}
	return append(res, cur)
}

// SetSnapshotDescription is PUT .../snapshot/{name}/config: check_lock,
// the snapshot must exist, then its description is replaced.
func (f *File) SetSnapshotDescription(name, description string) error {
	if err := f.CheckLock(); err != nil {
		return err
	}
	s := f.Snapshot(name)
	if s == nil {
		return errors.New("snapshot '" + name + "' does not exist")
	}
	s.values["description"] = description
	return nil
}
