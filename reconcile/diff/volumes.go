package diff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// mountWant is the part of a rootfs or mpN spec that a config PUT writes.
// Nil pointers and a nil MountOptions are not managed.
type mountWant struct {
	volume                            string // a volume to put in place ("" keeps the live one)
	newVolume                         string // STORAGE:GiB for a slot that does not exist yet
	mp                                string // path in the container ("" for rootfs)
	acl, quota, replicate, ro, shared *bool
	backup                            *bool
	mountOptions                      []string
	rootfs                            bool
}

// volumes plans rootfs and the spec's mpN slots; slots it does not name are
// left alone.
func (d *differ) volumes() {
	if d.s.RootFS != nil {
		d.rootfs(*d.s.RootFS)
	}
	slots := make([]string, 0, len(d.s.MountPoints))
	for slot := range d.s.MountPoints {
		slots = append(slots, slot)
	}
	sort.Slice(slots, func(i, j int) bool { return plan.KeyLess(slots[i], slots[j]) })
	for _, slot := range slots {
		d.mountPoint(slot, d.s.MountPoints[slot])
	}
}

func (d *differ) rootfs(want spec.RootFS) {
	switch {
	case d.restoring:
		return // the backup brings its volumes; a grow follows the restore
	case d.creating:
		d.createRootfs(want)
		return
	}
	cur, ok := d.live.Config["rootfs"]
	if !ok {
		d.errs = append(d.errs, "rootfs: the live config has no rootfs")
		return
	}
	live, err := parseMount(true, cur)
	if err != nil {
		d.errs = append(d.errs, fmt.Sprintf("rootfs: live value %q: %v", cur, err))
		return
	}
	if k := live.Kind(); k != format.Volume {
		d.errs = append(d.errs, fmt.Sprintf("rootfs: the live root is a %s mount; felhom manages volume roots only", k))
		return
	}
	storage := volumeStorage(live.Volume)
	if want.Storage != storage && d.baseline == nil {
		d.impossible(field{path: "rootfs.storage", op: plan.OpUpdate, before: storage, after: want.Storage},
			"felhom does not move volumes to another storage")
		return
	}
	size := d.size("rootfs", live.Volume, live.Size, want.Size)
	w := mountWant{rootfs: true, acl: want.ACL, quota: want.Quota, replicate: want.Replicate, ro: want.RO,
		shared: want.Shared, mountOptions: want.MountOptions}
	if d.quotaImpossible("rootfs", want.Quota, &live.Quota) {
		w.quota = nil
	}
	d.compare("rootfs", d.mountBuilder("rootfs", w, size), nil)
	d.protectionCheck("rootfs")
}

func (d *differ) mountPoint(slot string, want spec.MountPoint) {
	w := mountWant{mp: want.MP, acl: want.ACL, quota: want.Quota, replicate: want.Replicate, ro: want.RO,
		shared: want.Shared, backup: want.Backup, mountOptions: want.MountOptions}
	cur, present := d.live.Config[slot]
	var live format.MountPoint
	if present {
		l, err := parseMount(false, cur)
		if err != nil {
			d.errs = append(d.errs, fmt.Sprintf("%s: live value %q: %v", slot, cur, err))
			return
		}
		live = l
	}
	kind := want.Kind()
	if kind == spec.MountBind || kind == spec.MountDevice || (present && live.Kind() != format.Volume) {
		// Bind and device mount points are root@pam only
		// (check_ct_modify_config_perm): an API token can neither add,
		// change nor replace one.
		src := want.Bind + want.Device
		w.volume, w.newVolume = src, src
		if src == "" {
			src = want.Volume
			if kind == spec.MountNewVolume && want.Size != nil {
				src = want.Storage + ":" + want.Size.GiBString()
			}
			w.volume, w.newVolume = src, src
		}
		what := string(kind)
		if present && live.Kind() != format.Volume {
			what = live.Kind().String()
		}
		reason := fmt.Sprintf("%s: %s mount points can only be set by root@pam; no API token may", slot, what)
		viaPct := true
		if kind != spec.MountBind && kind != spec.MountDevice {
			// The new value is a volume, which `pct set` does not carry
			// (the privileged backend writes only root-only values).
			reason = fmt.Sprintf("%s: is a %s mount point on PVE; felhom leaves replacing it to root@pam", slot, what)
			viaPct = false
		}
		d.compare(slot, d.mountBuilder(slot, w, live.Size), func(w write, _ []field) (string, bool) {
			if w.del {
				return "", false // a revert: PVE checks it as a delete, which needs only VM.Config.Disk
			}
			return reason, viaPct
		})
		return
	}
	if !present {
		switch kind {
		case spec.MountNewVolume:
			if want.Size == nil {
				d.errs = append(d.errs, slot+": a new volume needs a size")
				return
			}
			w.newVolume = want.Storage + ":" + want.Size.GiBString()
			d.need(plan.UseNewVolume, want.Storage)
			if p := d.storageProblem(want.Storage, contentRootDir, "a new volume"); p != "" {
				d.blocked = append(d.blocked, slot+": "+p)
				return
			}
			d.roomWarning(slot, want.Storage, *want.Size, "a new volume of "+humanSize(*want.Size))
		case spec.MountVolume:
			w.newVolume = want.Volume
			if p := d.attachProblem(slot, want.Volume); p != "" {
				d.blocked = append(d.blocked, p)
				return
			}
		}
		if d.quotaImpossible(slot, want.Quota, nil) {
			w.quota = nil
		}
		d.compare(slot, d.mountBuilder(slot, w, nil), nil)
		if kind == spec.MountVolume {
			d.attachPrivileges(slot, want.Volume)
		}
		d.protectionCheck(slot)
		return
	}
	storage := volumeStorage(live.Volume)
	size := live.Size
	switch kind {
	case spec.MountNewVolume:
		if want.Storage != storage && d.baseline == nil {
			d.impossible(field{path: slot + ".storage", op: plan.OpUpdate, before: storage, after: want.Storage},
				"felhom does not move volumes to another storage")
			return
		}
		size = d.size(slot, live.Volume, live.Size, want.Size)
	case spec.MountVolume:
		if want.Volume != live.Volume {
			// PVE puts the replaced volume into unusedN: no data is lost.
			if p := d.attachProblem(slot, want.Volume); p != "" {
				d.blocked = append(d.blocked, p)
				return
			}
			w.volume = want.Volume
			size = nil
		} else {
			size = d.size(slot, live.Volume, live.Size, want.Size)
		}
	}
	if d.quotaImpossible(slot, want.Quota, &live.Quota) {
		w.quota = nil
	}
	d.compare(slot, d.mountBuilder(slot, w, size), nil)
	if w.volume != "" {
		d.attachPrivileges(slot, w.volume)
	}
	d.protectionCheck(slot)
}

// attachPrivileges records what putting the existing volume volid in place
// as slot asks, when the plan writes slot: PVE's check_volume_access judges
// the volume by its owner (plan.AttachUse).
func (d *differ) attachPrivileges(slot, volid string) {
	if _, written := d.set[slot]; !written {
		return
	}
	if use, ok := plan.AttachUse(d.s.VMID, volid); ok {
		d.need(use, volid)
	}
}

// quotaImpossible plans turning quota on for a volume of an unprivileged
// container as impossible: PVE writes it, then refuses to start the
// container ("Quotas are not supported by unprivileged containers.",
// pve-container API2/LXC/Status.pm vm_start). live is the slot's live quota
// flag, nil for a new slot. The caller then leaves quota out of the write.
func (d *differ) quotaImpossible(slot string, want *bool, live **bool) bool {
	if want == nil || !*want || !d.unprivileged() {
		return false
	}
	f := field{path: slot + ".quota", op: plan.OpAdd, after: "on"}
	if live != nil {
		if *live != nil && **live {
			return false // already on (set by hand): PVE's problem to report, not a change
		}
		f.op, f.before = plan.OpUpdate, "off"
	}
	d.impossible(f, "PVE refuses to start an unprivileged container with quotas on any of its volumes")
	return true
}

// protectionCheck blocks a write of rootfs or mpN while protection is on:
// PVE's update_pct_config refuses it ("can't update CT N drive 'mpN' -
// protection mode enabled").
func (d *differ) protectionCheck(key string) {
	if _, written := d.set[key]; !written {
		return
	}
	if on, _ := format.ParseBool(d.live.Config["protection"]); on {
		reason := key + ": PVE refuses to change mount points while the container's protection is on"
		if p := d.s.Protection; p != nil && !*p {
			reason += "; turn protection off in one apply and change the mount point in the next"
		}
		d.blocked = append(d.blocked, reason)
		delete(d.set, key)
	}
}

// size plans growing one volume and returns the size its config value will
// show afterwards. live is the config's size=; the volume itself may be
// larger (Live.VolumeSizes), and PVE's resize compares with that.
func (d *differ) size(disk, volume string, live, want *format.Size) *format.Size {
	if want == nil {
		return live
	}
	if live == nil {
		d.warnings = append(d.warnings, disk+": the live config shows no size; the volume is not resized")
		return nil
	}
	storage := volumeStorage(volume)
	if real, ok := d.live.VolumeSizes[volume]; ok && real > *live && d.baseline == nil && *want > *live {
		if *want <= real {
			// PVE refuses the resize ("disk is already at specified
			// size", "unable to shrink disk size"): resize_vm compares
			// with the volume, not the config.
			d.warnings = append(d.warnings, fmt.Sprintf("%s: volume %s is already %s while the config says %s (a rolled-back resize on a storage whose snapshots do not keep the size leaves it so); no resize is planned; `pct rescan --vmid %d` on the node writes the real size into the config",
				disk, volume, humanSize(real), humanSize(*live), d.live.VMID))
			return live
		}
		live = &real
	}
	f := field{path: disk + ".size", op: plan.OpUpdate, before: humanSize(*live), after: humanSize(*want)}
	if d.baseline != nil {
		d.baseline[f.path] = f.before
		return live
	}
	switch {
	case *want == *live:
		return live
	case *want < *live:
		d.impossible(f, "PVE cannot shrink a volume")
		return live
	}
	if d.reportOnly(f) {
		d.addChange(f, plan.ClassHot, "changed outside felhom; the drift policy reports it and leaves it")
		d.report = append(d.report, f.path)
		return live
	}
	d.addChange(f, plan.ClassHot, "resize grows the volume at once, running or not")
	d.growWarnings(disk, storage, *live, *want)
	d.resizes = append(d.resizes, resize{disk: disk, storage: storage, size: want.String()})
	d.need(plan.UseResize, storage)
	return want
}

// IsVolumeKey reports whether a config key holds a volume: rootfs or mpN.
func IsVolumeKey(k string) bool {
	return k == "rootfs" || format.IsSlot(k, "mp")
}

// ParseVolume reads the value of config key rootfs or mpN into one shape, a
// format.MountPoint (a rootfs has no mp: MP stays empty). Apply's read-back
// compares volumes with it as the diff does.
func ParseVolume(key, raw string) (format.MountPoint, error) { return parseMount(key == "rootfs", raw) }

// parseMount reads a rootfs (rootfs true) or mpN value into one shape.
func parseMount(rootfs bool, raw string) (format.MountPoint, error) {
	if !rootfs {
		return format.ParseMountPoint(raw)
	}
	r, err := format.ParseRootFS(raw)
	if err != nil {
		return format.MountPoint{}, err
	}
	return format.MountPoint{Volume: r.Volume, Size: r.Size, ACL: r.ACL, MountOptions: r.MountOptions,
		Quota: r.Quota, Replicate: r.Replicate, RO: r.RO, Shared: r.Shared}, nil
}

func printMount(rootfs bool, m format.MountPoint) string {
	if !rootfs {
		return m.String()
	}
	return format.RootFS{Volume: m.Volume, Size: m.Size, ACL: m.ACL, MountOptions: m.MountOptions,
		Quota: m.Quota, Replicate: m.Replicate, RO: m.RO, Shared: m.Shared}.String()
}

func applyMount(m *format.MountPoint, w mountWant) {
	if w.mp != "" {
		m.MP = w.mp
	}
	for _, b := range []struct {
		dst **bool
		v   *bool
	}{{&m.ACL, w.acl}, {&m.Quota, w.quota}, {&m.Replicate, w.replicate}, {&m.RO, w.ro}, {&m.Shared, w.shared}, {&m.Backup, w.backup}} {
		if b.v != nil {
			*b.dst = b.v
		}
	}
	if w.mountOptions != nil {
		m.MountOptions = stringSet(w.mountOptions)
	}
}

// mountBuilder compares a rootfs or mpN value key by key (the size is planned
// apart, as a resize); keys the spec does not name keep their live value.
// size is the size= the written value carries (the grown size).
func (d *differ) mountBuilder(slot string, w mountWant, size *format.Size) builder {
	return func(raw string, present bool) (write, []field, error) {
		if !present {
			m := format.MountPoint{Volume: w.newVolume}
			applyMount(&m, w)
			v := printMount(w.rootfs, m)
			return write{value: v}, []field{{path: slot, op: plan.OpAdd, after: v}}, nil
		}
		live, err := parseMount(w.rootfs, raw)
		if err != nil {
			return write{}, nil, fmt.Errorf("live value %q: %w", raw, err)
		}
		merged := live
		applyMount(&merged, w)
		if size != nil {
			merged.Size = size
		}
		var subs []sub
		if w.volume != "" {
			subs = append(subs, sub{path: slot + ".volume", live: live.Volume, desired: w.volume, liveSet: true, equal: live.Volume == w.volume})
			merged.Volume = w.volume
		}
		if w.mp != "" {
			subs = append(subs, sub{path: slot + ".mp", live: live.MP, desired: w.mp, liveSet: live.MP != "", equal: live.MP == w.mp})
		}
		if w.acl != nil {
			// acl is tri-state: unset means the file system's default.
			lv := ""
			if live.ACL != nil {
				lv = onOff(*live.ACL)
			}
			subs = append(subs, sub{path: slot + ".acl", live: lv, desired: onOff(*w.acl), liveSet: live.ACL != nil,
				equal: live.ACL != nil && *live.ACL == *w.acl})
		}
		flag := func(key string, want, l *bool, def bool) {
			if want == nil {
				return
			}
			lv := boolOr(l, def)
			subs = append(subs, sub{path: slot + "." + key, live: onOff(lv), desired: onOff(*want), liveSet: true, equal: lv == *want})
		}
		flag("quota", w.quota, live.Quota, false)
		flag("replicate", w.replicate, live.Replicate, true)
		flag("ro", w.ro, live.RO, false)
		flag("shared", w.shared, live.Shared, false)
		if !w.rootfs {
			flag("backup", w.backup, live.Backup, false)
		}
		if w.mountOptions != nil {
			ls, ws := stringSet(live.MountOptions), stringSet(w.mountOptions)
			subs = append(subs, sub{path: slot + ".mountoptions", live: strings.Join(ls, ";"), desired: strings.Join(ws, ";"),
				liveSet: len(ls) > 0, equal: stringSetEqual(ls, ws)})
		}
		return write{value: printMount(w.rootfs, merged)}, subFields(subs), nil
	}
}
