package prune

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Backup is one backup archive as prune selection sees it. Build it with
// FromVolume to get PVE's reading of the volid.
type Backup struct {
	Volid     string
	CTime     time.Time // from the archive name for standard names
	VMID      int
	Type      string // lxc, qemu, openvz or unknown
	Protected bool
	Renamed   bool // the name does not follow the vzdump pattern: never pruned
}

// Mark is the verdict for one backup.
type Mark string

// The marks PVE's prune selection gives.
const (
	MarkKeep      Mark = "keep"
	MarkRemove    Mark = "remove"
	MarkProtected Mark = "protected"
	MarkRenamed   Mark = "renamed"
)

// FromVolume builds the Backup PVE's Plugin::prune_backups builds from a
// storage listing entry: the type and, for standard names, the vmid and
// ctime come from the archive name (ctime in loc); otherwise the listed
// vmid and ctime are kept and the backup is Renamed.
func FromVolume(volid string, listedCTime time.Time, listedVMID int, protected bool, loc *time.Location) Backup {
	vmid, typ, ctime, ok := ArchiveInfo(volid, loc)
	b := Backup{Volid: volid, CTime: listedCTime, VMID: listedVMID, Type: typ, Protected: protected, Renamed: !ok}
	if ok {
		b.VMID, b.CTime = vmid, ctime
	}
	return b
}

// Select marks every backup, keyed by volid, as PVE does
// (Plugin::prune_backups, then Storage::prune_mark_backup_group for each
// group): renamed backups are "renamed", protected ones "protected"; both
// count toward nothing. The rest are grouped by type and vmid and marked
// "keep" or "remove" by the passes keep-last, keep-hourly, keep-daily,
// keep-weekly (ISO week), keep-monthly and keep-yearly, with time buckets
// in loc (nil means UTC). Within a group, backups with equal ctime keep
// their input order.
func Select(backups []Backup, o Options, loc *time.Location) map[string]Mark {
	if loc == nil {
		loc = time.UTC
	}
	marks := make(map[string]Mark, len(backups))
	type entry struct {
		b    Backup
		mark Mark
	}
	groups := map[string][]*entry{}
	var order []string
	var all []*entry
	for _, b := range backups {
		e := &entry{b: b}
		if b.Renamed {
			e.mark = MarkRenamed
		} else {
			key := fmt.Sprintf("%s/%d", b.Type, b.VMID)
			if _, ok := groups[key]; !ok {
				order = append(order, key)
			}
			groups[key] = append(groups[key], e)
		}
		if b.Protected {
			e.mark = MarkProtected
		}
		all = append(all, e)
	}
	for _, key := range order {
		group := groups[key]
		if o.KeepsAll() {
			for _, e := range group {
				if e.mark == "" || e.mark == MarkRemove {
					e.mark = MarkKeep
				}
			}
			continue
		}
		sort.SliceStable(group, func(i, j int) bool { return group[i].b.CTime.After(group[j].b.CTime) })
		ids := make([]string, len(group))
		pass := func(count *int, id func(t time.Time) string) {
			if count == nil || *count <= 0 {
				return
			}
			for i, e := range group {
				ids[i] = id(e.b.CTime.In(loc))
			}
			already := map[string]bool{}
			for i, e := range group {
				if e.mark == MarkKeep {
					already[ids[i]] = true
				}
			}
			newly := map[string]bool{}
			for i, e := range group {
				if e.mark != "" || already[ids[i]] {
					continue
				}
				if newly[ids[i]] {
					e.mark = MarkRemove
					continue
				}
				if len(newly) >= *count {
					break
				}
				newly[ids[i]] = true
				e.mark = MarkKeep
			}
		}
		pass(o.KeepLast, func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) })
		pass(o.KeepHourly, func(t time.Time) string { return t.Format("2006-01-02T15") })
		pass(o.KeepDaily, func(t time.Time) string { return t.Format("2006-01-02") })
		pass(o.KeepWeekly, func(t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, w)
		})
		pass(o.KeepMonthly, func(t time.Time) string { return t.Format("2006-01") })
		pass(o.KeepYearly, func(t time.Time) string { return strconv.Itoa(t.Year()) })
		for _, e := range group {
			if e.mark == "" {
				e.mark = MarkRemove
			}
		}
	}
	for _, e := range all {
		marks[e.b.Volid] = e.mark
	}
	return marks
}

var (
	// archiveRE is archive_info's first match with $BACKUP_EXT_RE_2
	// (compressors from Plugin KNOWN_COMPRESSION_FORMATS).
	archiveRE = regexp.MustCompile(`^vzdump-(lxc|openvz|qemu)-.+\.(tgz|(?:tar|vma)(?:\.(gz|lzo|zst|bz2))?)$`)
	// stdNameRE is its second match; the type and extension must equal
	// the first match's.
	stdNameRE = regexp.MustCompile(`^vzdump-(lxc|openvz|qemu)-([1-9][0-9]{2,8})-(\d{4})_(\d{2})_(\d{2})-(\d{2})_(\d{2})_(\d{2})\.(.+)$`)
)

// ArchiveInfo reads a vzdump archive volid (or path, or file name) as
// pve-storage's PVE::Storage::archive_info does: the base name must be
// vzdump-{lxc|openvz|qemu}-...{.tgz|.tar|.vma}[.gz|.lzo|.zst|.bz2]; a
// standard name, vzdump-TYPE-VMID-YYYY_MM_DD-HH_MM_SS.EXT, also gives the
// vmid and the ctime (the name read as local time in loc, nil meaning UTC,
// with Time::Local's range checks).
//
// ok is false when the name is not standard (PVE marks such backups
// "renamed"); typ is then the type the name carries, or "unknown" when the
// name does not match at all or its date is invalid (archive_info dies).
func ArchiveInfo(volid string, loc *time.Location) (vmid int, typ string, ctime time.Time, ok bool) {
	if loc == nil {
		loc = time.UTC
	}
	name := path.Base(volid)
	m := archiveRE.FindStringSubmatch(name)
	if m == nil {
		return 0, "unknown", time.Time{}, false
	}
	typ, ext := m[1], m[2]
	s := stdNameRE.FindStringSubmatch(name)
	if s == nil || s[1] != typ || s[9] != ext {
		return 0, typ, time.Time{}, false
	}
	n := make([]int, 6)
	for i := range n {
		n[i], _ = strconv.Atoi(s[3+i])
	}
	t, valid := timelocal(n[0], n[1], n[2], n[3], n[4], n[5], loc)
	if !valid {
		return 0, "unknown", time.Time{}, false
	}
	vmid, _ = strconv.Atoi(s[2])
	return vmid, typ, t, true
}

// timelocal is Perl's Time::Local::timelocal for four-digit years: fields
// out of range are an error (it croaks), a wall time repeated by a DST
// fall-back gives the earlier instant, and one skipped by a spring-forward
// gap is read with the offset before the gap.
//
// Time::Local reads a year below 1000 as years since 1900, and one below
// 100 in a rolling century that depends on today's date; the latter are
// reported invalid here, so that the result does not depend on the clock.
func timelocal(year, month, day, hour, minute, sec int, loc *time.Location) (time.Time, bool) {
	switch {
	case year < 100:
		return time.Time{}, false
	case year < 1000:
		year += 1900
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false
	}
	wall := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Unix()
	offsetAt := func(unix int64) int64 {
		_, off := time.Unix(unix, 0).In(loc).Zone()
		return int64(off)
	}
	before, after := offsetAt(wall-86400), offsetAt(wall+86400)
	var found []int64
	for _, off := range []int64{before, after} {
		if c := wall - off; offsetAt(c) == off {
			found = append(found, c)
		}
	}
	unix := wall - before // in a gap: as far after it as the time was into it
	if len(found) > 0 {
		unix = found[0]
		for _, c := range found[1:] {
			unix = min(unix, c)
		}
	}
	return time.Unix(unix, 0).In(loc), true
}
