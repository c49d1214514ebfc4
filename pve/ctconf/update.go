package ctconf

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// VolumeSizer is an optional interface of a VolumeAllocator: the size of an
// existing volume. PVE rescans it when an existing volume is attached as a
// mount point (apply_pending_mountpoint's $rescan_volume) and writes it as
// size=.
type VolumeSizer interface {
	VolumeSize(volid string) (int64, error)
}

// MACGenerator is an optional interface of a VolumeAllocator: a new MAC
// address for a netN without hwaddr (parse_lxc_network calls
// PVE::Tools::random_ether_addr). Without it ctconf derives a stable
// address from the vmid, key and value, with Proxmox's BC:24:11 prefix.
type MACGenerator interface {
	NewMAC() string
}

// Messages of update_vm and update_pct_config (pve-container
// src/PVE/API2/LXC/Config.pm, src/PVE/LXC/Config.pm).
const (
	msgNoOptions     = "no options specified"
	msgDigest        = "detected modified configuration - file changed by other user? Try again."
	msgNotInSchema   = "property is not defined in schema and the schema does not allow additional properties"
	msgNoAllocator   = "no volume allocator"
	msgSkipNotHotplg = "skip"
)

// errSkip is PVE's die "skip\n": the key is not hot-pluggable and stays
// pending.
var errSkip = errors.New(msgSkipNotHotplg)

// ApplyUpdate applies a PUT config request as PVE's update_vm does after
// parameter validation (pve-container src/PVE/API2/LXC/Config.pm), in its
// order:
//
//  1. no set, delete or revert: "no options specified"; cpuunits is
//     clamped (ClampCPUUnits);
//  2. check_lock: *LockedError;
//  3. u.Digest set and different from f.Digest: "detected modified
//     configuration - file changed by other user? Try again.";
//  4. revert and delete checks (*ParamError on "revert" or "delete"):
//     unknown option, set and revert or delete of the same key, delete and
//     revert of the same key;
//  5. update_pct_config: reverts; deletes (an unset key only warns;
//     memory, rootfs and ostype are required; unprivileged is read-only;
//     protection blocks mpN and unusedN); sets into [pve:pending]
//     (protection blocks rootfs and mpN, a volume's storage must allow
//     rootdir, unprivileged is read-only, nameserver and searchdomain are
//     normalised to space-separated lists, tags to PVE's sorted unique
//     list); cleanup_pending;
//  6. running: vmconfig_hotplug_pending, stopped: vmconfig_apply_pending,
//     both only for the keys of this request.
//
// A key unknown to the schema in u.Set is a *ParamError for that key. Any
// failure of step 6 is collected per key ("unable to hotplug mp0: ...",
// "unable to apply pending change mp0 : ...") and returned as a
// *ParamError, as PVE 8.3+ does. Other failures are plain errors with PVE's
// message (HTTP 500). On any error f is left unchanged; volumes allocated
// before the failure are still listed in the result (PVE does not free them
// either).
func (f *File) ApplyUpdate(u Update, running bool, alloc VolumeAllocator) (UpdateResult, error) {
	var res UpdateResult
	setKeys := sortedKeys(u.Set)
	for _, k := range setKeys {
		if !Settable(k) {
			return res, &ParamError{Errors: map[string]string{k: msgNotInSchema}}
		}
	}
	if len(u.Set) == 0 && len(u.Delete) == 0 && len(u.Revert) == 0 {
		return res, errors.New(msgNoOptions)
	}
	if v, ok := u.Set["cpuunits"]; ok {
		set := make(map[string]string, len(u.Set))
		for k, v := range u.Set {
			set[k] = v
		}
		set["cpuunits"] = ClampCPUUnits(v)
		u.Set = set
	}
	if err := f.CheckLock(); err != nil {
		return res, err
	}
	if u.Digest != "" && f.Digest != "" && u.Digest != f.Digest {
		return res, errors.New(msgDigest)
	}
	if err := u.Check(); err != nil {
		return res, err
	}

	c := f.Clone()
	up := &updater{f: c, vmid: u.VMID, alloc: alloc, res: &res, errors: map[string]string{}}
	modified, err := up.updatePctConfig(u, setKeys)
	if err != nil {
		return res, err
	}
	if running {
		up.hotplugPending(modified)
	} else {
		up.applyPending(modified)
	}
	if len(up.errors) > 0 {
		return res, &ParamError{Errors: up.errors}
	}
	c.dropUsedUnused()
	c.tidyPending()
	res.Pending = nil
	for _, k := range sortedKeys(modified) {
		if c.isPending(k) {
			res.Pending = append(res.Pending, k)
		}
	}
	*f = *c
	return res, nil
}

// ApplyPending applies every pending change, as PVE does when the
// container starts (PVE::LXC::vm_start) or reboots: vmconfig_apply_pending
// without a selection. A change that fails stays pending and is reported
// as a warning, as vm_start only warns; the error is always nil today and
// reserved for failures that would stop the start.
func (f *File) ApplyPending(alloc VolumeAllocator) (UpdateResult, error) {
	var res UpdateResult
	if f.Pending == nil || f.Pending.empty() {
		f.Pending = nil
		return res, nil
	}
	up := &updater{f: f, alloc: alloc, res: &res, errors: map[string]string{}}
	up.applyPending(nil)
	for _, k := range sortedKeys(up.errors) {
		res.Warnings = append(res.Warnings, up.errors[k])
	}
	f.dropUsedUnused()
	f.tidyPending()
	if f.Pending != nil {
		seen := map[string]bool{}
		for k := range f.Pending.values {
			if k != "delete" {
				seen[k] = true
			}
		}
		for k := range f.pendingDeleteHash() {
			seen[k] = true
		}
		res.Pending = sortedKeys(seen)
	}
	return res, nil
}

// isPending reports whether key has a pending value or a pending delete.
func (f *File) isPending(key string) bool {
	if f.Pending == nil {
		return false
	}
	if _, ok := f.Pending.values[key]; ok {
		return true
	}
	_, ok := f.pendingDeleteHash()[key]
	return ok
}

// Check runs update_vm's checks of the revert and delete lists (step 4 of
// ApplyUpdate, which calls it too): unknown option, the same key set and
// reverted or deleted, deleted and reverted. The errors are *ParamError on
// "revert" or "delete". PVE runs them after the permission checks of the
// deleted and reverted keys and before those of the set keys; a caller
// that checks permissions can call Check in between.
func (u Update) Check() error {
	for _, opt := range u.Revert {
		if !OptionExists(opt) {
			return paramErr("revert", "unknown option '"+opt+"'")
		}
		if _, ok := u.Set[opt]; ok {
			return paramErr("revert", "you can't use '-"+opt+"' and '-revert "+opt+"' at the same time")
		}
	}
	for _, opt := range u.Delete {
		if !OptionExists(opt) {
			return paramErr("delete", "unknown option '"+opt+"'")
		}
		if _, ok := u.Set[opt]; ok {
			// The missing quote before -delete is PVE's.
			return paramErr("delete", "you can't use '-"+opt+"' and -delete "+opt+"' at the same time")
		}
		for _, r := range u.Revert {
			if r == opt {
				return paramErr("delete", "you can't use '-delete "+opt+"' and '-revert "+opt+"' at the same time")
			}
		}
	}
	return nil
}

func paramErr(param, msg string) *ParamError {
	return &ParamError{Errors: map[string]string{param: msg}}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type updater struct {
	f      *File
	vmid   int
	alloc  VolumeAllocator
	res    *UpdateResult
	errors map[string]string
}

func (up *updater) protected() bool { return perlTrue(up.f.Main.values["protection"]) }

// updatePctConfig is update_pct_config up to cleanup_pending. It returns
// the keys this request touched ($modified).
func (up *updater) updatePctConfig(u Update, setKeys []string) (map[string]bool, error) {
	f := up.f
	for _, opt := range u.Revert {
		if f.Pending != nil {
			delete(f.Pending.values, opt)
		}
		f.removeFromPendingDelete(opt)
	}
	modified := map[string]bool{}
	for _, opt := range u.Delete {
		_, inMain := f.Main.values[opt]
		inPending := false
		if f.Pending != nil {
			_, inPending = f.Pending.values[opt]
		}
		if !inMain && !inPending {
			up.res.Warnings = append(up.res.Warnings, "cannot delete '"+opt+"' - not set in current configuration!")
			continue
		}
		modified[opt] = true
		prefix, _, _ := indexed(opt)
		switch {
		case opt == "memory" || opt == "rootfs" || opt == "ostype":
			return nil, errors.New("unable to delete required option '" + opt + "'")
		case prefix == "unused" || prefix == "mp":
			if up.protected() {
				return nil, fmt.Errorf("can't remove CT %d drive '%s' - protection mode enabled", up.vmid, opt)
			}
		case opt == "unprivileged":
			return nil, errors.New("unable to delete read-only option: '" + opt + "'")
		}
		f.addToPendingDelete(opt, false)
	}
	for _, opt := range setKeys {
		modified[opt] = true
		value := u.Set[opt]
		prefix, _, _ := indexed(opt)
		switch {
		case prefix == "mp" || opt == "rootfs":
			if up.protected() {
				return nil, fmt.Errorf("can't update CT %d drive '%s' - protection mode enabled", up.vmid, opt)
			}
			mi, err := parseVolume(opt, value)
			if err != nil {
				return nil, err
			}
			if mi.kind == format.Volume {
				sid, err := storageOf(mi.volume)
				if err != nil {
					return nil, err
				}
				if up.alloc != nil {
					if err := up.alloc.CheckRootdir(sid); err != nil {
						return nil, err
					}
				}
			}
		case opt == "nameserver" || opt == "searchdomain":
			value = strings.Join(format.SplitList(value), " ")
		case opt == "unprivileged":
			return nil, errors.New("unable to modify read-only option: '" + opt + "'")
		case opt == "tags":
			value = uniqueTags(value)
		case prefix == "net":
			n, err := format.ParseNet(value)
			if err != nil {
				return nil, err
			}
			if (n.LinkDown == nil || !*n.LinkDown) && n.HostManaged != nil && *n.HostManaged && n.IP6 == "auto" {
				return nil, errors.New(opt + ": SLAAC is not supported for host-managed network configuration.")
			}
		}
		if opt != "description" && strings.ContainsAny(value, "\n") {
			return nil, errors.New("detected invalid newline inside property '" + opt + "'")
		}
		f.pending().values[opt] = value
		f.removeFromPendingDelete(opt)
	}
	f.cleanupPending()
	return modified, nil
}

// uniqueTags is PVE::GuestHelpers::get_unique_tags with datacenter.cfg's
// default tag-style (case-insensitive, sorted): lower-cased, sorted,
// duplicates dropped, joined by ';'.
func uniqueTags(s string) string {
	tags := format.SplitList(s)
	for i, t := range tags {
		tags[i] = strings.ToLower(t)
	}
	sort.SliceStable(tags, func(i, j int) bool { return tags[i] < tags[j] })
	var out []string
	for i, t := range tags {
		if i > 0 && t == tags[i-1] {
			continue
		}
		out = append(out, t)
	}
	return strings.Join(out, ";")
}

// hotplugPending is vmconfig_hotplug_pending (pve-container
// src/PVE/LXC/Config.pm) at the config level: fastplug keys first, then
// hot deletes, then hot values; the rest stays pending. sel nil means all.
func (up *updater) hotplugPending(sel map[string]bool) {
	f := up.f
	selected := func(k string) bool { return sel == nil || sel[k] }
	if f.Pending != nil {
		for _, opt := range f.Pending.Keys() {
			if selected(opt) && fastplug[opt] {
				f.Main.values[opt] = f.Pending.values[opt]
				delete(f.Pending.values, opt)
				up.res.Applied = append(up.res.Applied, opt)
			}
		}
	}
	dels := f.pendingDeleteHash()
	for _, opt := range sortedKeys(dels) {
		if !selected(opt) {
			continue
		}
		err := func() error {
			prefix, _, _ := indexed(opt)
			switch {
			case fastplug[opt]:
			case prefix == "unused":
				return up.freeUnused(opt)
			case opt == "swap" || opt == "cpulimit" || opt == "cpuunits":
			case netDeleteRE.MatchString(opt):
			default:
				return errSkip
			}
			return nil
		}()
		if err == errSkip {
			continue
		}
		if err != nil {
			up.errors[opt] = "unable to hotplug " + opt + ": " + err.Error() + "\n"
			continue
		}
		delete(f.Main.values, opt)
		f.removeFromPendingDelete(opt)
		up.res.Applied = append(up.res.Applied, opt)
	}
	if f.Pending == nil {
		return
	}
	for _, opt := range f.Pending.Keys() {
		if opt == "delete" || !selected(opt) {
			continue
		}
		value := f.Pending.values[opt]
		err := func() error {
			prefix, _, _ := indexed(opt)
			_, exists := f.Main.values[opt]
			switch {
			case opt == "cpulimit" || opt == "cpuunits" || opt == "memory" || opt == "swap":
			case prefix == "net":
				v, err := up.normaliseNet(opt, value)
				if err != nil {
					return err
				}
				value = v
			case prefix == "mp":
				if exists {
					return errSkip
				}
				if err := up.applyPendingMountpoint(opt, true); err != nil {
					return err
				}
				value = f.Pending.values[opt]
			case prefix == "dev":
				if exists {
					return errSkip
				}
			default:
				return errSkip
			}
			return nil
		}()
		if err == errSkip {
			continue
		}
		if err != nil {
			up.errors[opt] = "unable to hotplug " + opt + ": " + err.Error() + "\n"
			continue
		}
		f.Main.values[opt] = value
		delete(f.Pending.values, opt)
		up.res.Applied = append(up.res.Applied, opt)
	}
}

// applyPending is vmconfig_apply_pending (pve-container
// src/PVE/LXC/Config.pm) at the config level. sel nil means all keys.
func (up *updater) applyPending(sel map[string]bool) {
	f := up.f
	selected := func(k string) bool { return sel == nil || sel[k] }
	for _, opt := range sortedKeys(f.pendingDeleteHash()) {
		if !selected(opt) {
			continue
		}
		err := func() error {
			prefix, _, _ := indexed(opt)
			switch prefix {
			case "mp":
				mi, err := parseVolume(opt, f.Main.values[opt])
				if err != nil {
					return err
				}
				// PVE asks is_volume_in_use with the whole mount point
				// string, which never equals a volume id, so the volume
				// always goes to unusedN (and write_pct_config drops the
				// unusedN again if a mount point still uses it).
				if mi.kind == format.Volume {
					if _, err := addUnusedVolume(f.Main, mi.volume); err != nil {
						return err
					}
				}
			case "unused":
				return up.freeUnused(opt)
			}
			return nil
		}()
		if err != nil {
			up.errors[opt] = "unable to apply pending change " + opt + " : " + err.Error() + "\n"
			continue
		}
		delete(f.Main.values, opt)
		f.removeFromPendingDelete(opt)
		up.res.Applied = append(up.res.Applied, opt)
	}
	f.cleanupPending()
	if f.Pending == nil {
		return
	}
	for _, opt := range f.Pending.Keys() {
		if opt == "delete" || !selected(opt) {
			continue
		}
		err := func() error {
			prefix, _, _ := indexed(opt)
			switch prefix {
			case "mp":
				return up.applyPendingMountpoint(opt, false)
			case "net":
				v, err := up.normaliseNet(opt, f.Pending.values[opt])
				if err != nil {
					return err
				}
				f.Pending.values[opt] = v
			}
			return nil
		}()
		if err != nil {
			up.errors[opt] = "unable to apply pending change " + opt + " : " + err.Error() + "\n"
			continue
		}
		f.Main.values[opt] = f.Pending.values[opt]
		delete(f.Pending.values, opt)
		up.res.Applied = append(up.res.Applied, opt)
	}
}

// freeUnused is delete_mountpoint_volume for a pending delete of unusedN:
// the volume is destroyed unless a mount point, a pending value or a
// snapshot still uses it. Whether the container owns it is the
// allocator's business (PVE only warns when it does not).
func (up *updater) freeUnused(opt string) error {
	volid := up.f.Main.values[opt]
	if format.Classify(volid) != format.Volume || up.f.volumeInUse(volid) {
		return nil
	}
	if up.alloc == nil {
		return errors.New(msgNoAllocator)
	}
	if err := up.alloc.Free(volid); err != nil {
		return err
	}
	up.res.Freed = append(up.res.Freed, volid)
	return nil
}

// applyPendingMountpoint is apply_pending_mountpoint: a new volume
// (STORAGE:SIZE) is allocated and written as "volid,...,size=S"; an
// existing one is re-printed with its rescanned size; on a running
// container an mpN that already exists is not touched; the replaced volume
// goes to unusedN.
func (up *updater) applyPendingMountpoint(opt string, running bool) error {
	f := up.f
	m, err := format.ParseMountPoint(f.Pending.values[opt])
	if err != nil {
		return err
	}
	old, hasOld := f.Main.values[opt]
	if storage, size, ok := m.NewVolume(); ok && m.Kind() == format.Volume {
		if up.alloc == nil {
			return errors.New(msgNoAllocator)
		}
		volid, err := up.alloc.Alloc(storage, opt, int64(size))
		if err != nil {
			return err
		}
		up.res.Allocated = append(up.res.Allocated, volid)
		m.Volume = volid
		m.Size = &size
		f.Pending.values[opt] = m.String()
	} else {
		if running && hasOld {
			return errSkip
		}
		if m.Kind() == format.Volume {
			if sizer, ok := up.alloc.(VolumeSizer); ok {
				if n, err := sizer.VolumeSize(m.Volume); err != nil {
					up.res.Warnings = append(up.res.Warnings, "Could not rescan volume size - "+err.Error())
				} else {
					s := format.Size(n)
					m.Size = &s
				}
			}
		}
		f.Pending.values[opt] = m.String()
	}
	if hasOld {
		if mi, err := parseVolume(opt, old); err == nil && mi.kind == format.Volume {
			// is_volume_in_use is asked with the whole old string here too,
			// so the old volume always goes to unusedN.
			if _, err := addUnusedVolume(f.Main, mi.volume); err != nil {
				return err
			}
		}
	}
	return nil
}

// ClampCPUUnits is pve-common PVE::CGroup::clamp_cpu_shares under cgroup
// v2 (the only mode of PVE 9), which update_vm applies to cpuunits before
// anything else: values of 10000 and more become 10000.
func ClampCPUUnits(v string) string {
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 10000 {
		return "10000"
	}
	return v
}

// normaliseNet is parse_lxc_network + print_lxc_network: type=veth is
// set, a missing hwaddr generated, and the keys printed in PVE's order.
func (up *updater) normaliseNet(opt, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	n, err := format.ParseNet(value)
	if err != nil {
		return "", err
	}
	n.Type = "veth"
	if n.HWAddr == "" {
		if g, ok := up.alloc.(MACGenerator); ok {
			n.HWAddr = g.NewMAC()
		} else {
			n.HWAddr = stableMAC(up.vmid, opt, value)
		}
	}
	return n.String(), nil
}

// stableMAC derives a locally administered-looking address under Proxmox's
// OUI BC:24:11 (datacenter.cfg's default mac_prefix) from the inputs, so
// the simulator is deterministic without a MACGenerator.
func stableMAC(vmid int, key, value string) string {
	sum := sha1.Sum([]byte(strconv.Itoa(vmid) + "\x00" + key + "\x00" + value))
	return fmt.Sprintf("BC:24:11:%02X:%02X:%02X", sum[0], sum[1], sum[2])
}
