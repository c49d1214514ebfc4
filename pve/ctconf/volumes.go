package ctconf

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// mountInfo is what parse_volume yields that ctconf needs.
type mountInfo struct {
	volume string
	kind   format.MountKind
	// backup is backup=1 on an mpN (rootfs is always backed up).
	backup bool
}

// parseVolume is PVE::LXC::Config::parse_volume for rootfs, mpN and
// unusedN values.
func parseVolume(key, value string) (mountInfo, error) {
	if key == "rootfs" {
		r, err := format.ParseRootFS(value)
		if err != nil {
			return mountInfo{}, err
		}
		return mountInfo{volume: r.Volume, kind: r.Kind(), backup: true}, nil
	}
	prefix, _, ok := indexed(key)
	switch {
	case ok && prefix == "mp":
		m, err := format.ParseMountPoint(value)
		if err != nil {
			return mountInfo{}, err
		}
		return mountInfo{volume: m.Volume, kind: m.Kind(), backup: m.Backup != nil && *m.Backup}, nil
	case ok && prefix == "unused":
		if value == "" {
			return mountInfo{}, errors.New("missing value for required key 'volume'")
		}
		return mountInfo{volume: value, kind: format.Classify(value)}, nil
	}
	return mountInfo{}, fmt.Errorf("parse_volume - unknown type: %s", key)
}

// volumeKeys returns rootfs and the mpN keys present in s, in PVE's
// valid_volume_keys order (rootfs, mp0, mp1, ...).
func volumeKeys(s *Section) []string {
	var mps []int
	for k := range s.values {
		if n, ok := mpIndex(k); ok {
			mps = append(mps, n)
		}
	}
	slices.Sort(mps)
	keys := make([]string, 0, len(mps)+1)
	if _, ok := s.values["rootfs"]; ok {
		keys = append(keys, "rootfs")
	}
	for _, n := range mps {
		keys = append(keys, "mp"+strconv.Itoa(n))
	}
	return keys
}

// mpIndex parses a mount point key as PVE names them (format.Slot), its
// index below maxMountPoints.
func mpIndex(key string) (int, bool) {
	p, n, ok := format.Slot(key)
	return n, ok && p == "mp" && n < maxMountPoints
}

// foreachVolume is foreach_volume: each rootfs/mpN of s that parses.
func foreachVolume(s *Section, fn func(key string, mi mountInfo)) {
	for _, k := range volumeKeys(s) {
		mi, err := parseVolume(k, s.values[k])
		if err != nil {
			continue
		}
		fn(k, mi)
	}
}

// storageOf returns the storage id of a volume id
// (PVE::Storage::parse_volume_id, format.ParseVolumeID).
func storageOf(volid string) (string, error) {
	st, _, err := format.ParseVolumeID(volid)
	return st, err
}

// usedVolumes is get_vm_volumes as write_pct_config uses it: the volume ids
// of the section's rootfs and mpN volumes.
func usedVolumes(s *Section) map[string]bool {
	used := map[string]bool{}
	foreachVolume(s, func(_ string, mi mountInfo) {
		if mi.kind != format.Volume || mi.volume == "" {
			return
		}
		if _, err := storageOf(mi.volume); err != nil {
			return
		}
		used[mi.volume] = true
	})
	return used
}

// dropUsedUnused is write_pct_config's "remove 'unusedX' settings if the
// volume is still used".
func (f *File) dropUsedUnused() {
	var used map[string]bool // parsed at the first unusedN: most configs have none
	for k, v := range f.Main.values {
		if !strings.HasPrefix(k, "unused") {
			continue
		}
		if used == nil {
			used = usedVolumes(f.Main)
		}
		if used[v] {
			delete(f.Main.values, k)
		}
	}
}

// sectionUses is __is_volume_in_use: a volume mount point of s is volid.
func sectionUses(s *Section, volid string) bool {
	used := false
	foreachVolume(s, func(_ string, mi mountInfo) {
		if mi.kind == format.Volume && mi.volume == volid {
			used = true
		}
	})
	return used
}

// volumeInUse is is_volume_in_use($conf, $volid, 1, 1): used by the current
// config, a snapshot or the pending section.
func (f *File) volumeInUse(volid string) bool {
	if sectionUses(f.Main, volid) {
		return true
	}
	for _, s := range f.Snapshots {
		if sectionUses(s.Section, volid) {
			return true
		}
	}
	return f.Pending != nil && sectionUses(f.Pending, volid)
}

// errTooManyUnused is add_unused_volume's message.
var errTooManyUnused = errors.New("Too many unused volumes - please delete them first.")

// addUnusedVolume is add_unused_volume: volid goes to the lowest free
// unusedN of s, unless an unusedN already holds it.
func addUnusedVolume(s *Section, volid string) (string, error) {
	key := ""
	for i := maxUnused - 1; i >= 0; i-- {
		k := "unused" + strconv.Itoa(i)
		if v := s.values[k]; perlTrue(v) {
			if v == volid {
				return "", nil
			}
		} else {
			key = k
		}
	}
	if key == "" {
		return "", errTooManyUnused
	}
	s.values[key] = volid
	return key, nil
}

// MountKeys returns the section's rootfs and mpN keys in PVE's order
// (valid_volume_keys: rootfs, mp0, mp1, ...).
func (s *Section) MountKeys() []string { return volumeKeys(s) }
