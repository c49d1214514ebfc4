package prune

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/google/go-cmp/cmp"
)

// listed is a storage listing entry as pve-storage's prune tests mock it.
type listed struct {
	volid     string
	ctime     int64
	vmid      int
	protected bool
}

const storeid = "BackTest123"

// basetime is 2020_01_01-12_18_21 UTC.
const basetime = 1577881101

func defaultList() []listed {
	var out []listed
	for _, vmid := range []int{1234, 9001} {
		p := fmt.Sprintf("%s:backup/vzdump-qemu-%d-", storeid, vmid)
		out = append(out,
			listed{p + "2018_05_26-11_18_21.tar.zst", basetime - 585*24*60*60 - 60*60, vmid, false},
			listed{p + "2019_12_31-11_18_21.tar.zst", basetime - 24*60*60 - 60*60, vmid, false},
			listed{p + "2019_12_31-11_18_51.tar.zst", basetime - 24*60*60 - 60*60 + 30, vmid, true},
			listed{p + "2019_12_31-11_19_21.tar.zst", basetime - 24*60*60 - 60*60 + 60, vmid, false},
			listed{p + "2020_01_01-11_18_21.tar.zst", basetime - 60*60, vmid, false},
			listed{p + "2020_01_01-12_18_21.tar.zst", basetime, vmid, false},
			listed{fmt.Sprintf("%s:backup/vzdump-lxc-%d-2020_01_01-12_18_21.tar.zst", storeid, vmid), basetime, vmid, false},
			listed{fmt.Sprintf("%s:backup/vzdump-%d-renamed.tar.zst", storeid, vmid), 1234, vmid, false},
		)
	}
	return out
}

var lists = map[string][]listed{
	"year1970": {
		{storeid + ":backup/vzdump-lxc-321-1970_01_01-00_01_23.tar.zst", 83, 321, false},
		{storeid + ":backup/vzdump-lxc-321-2070_01_01-00_01_00.tar.zst", 60*60*24*(365*100+25) + 60, 321, false},
	},
	"novmid": {
		{storeid + ":backup/vzdump-lxc-novmid.tar.gz", 1234, 0, false},
	},
	"threeway": {
		{storeid + ":backup/vzdump-qemu-7654-2019_12_25-12_18_21.tar.zst", basetime - 7*24*60*60, 7654, false},
		{storeid + ":backup/vzdump-qemu-7654-2019_12_31-12_18_21.tar.zst", basetime - 24*60*60, 7654, false},
		{storeid + ":backup/vzdump-qemu-7654-2020_01_01-12_18_21.tar.zst", basetime, 7654, false},
	},
	"weekboundary": {
		{storeid + ":backup/vzdump-qemu-7654-2020_12_03-12_18_21.tar.zst", basetime + (366-31+2)*24*60*60, 7654, false},
		{storeid + ":backup/vzdump-qemu-7654-2020_12_04-12_18_21.tar.zst", basetime + (366-31+3)*24*60*60, 7654, false},
		{storeid + ":backup/vzdump-qemu-7654-2020_12_07-12_18_21.tar.zst", basetime + (366-31+6)*24*60*60, 7654, false},
	},
}

// pruneBackups is Plugin::prune_backups in dry-run mode over a mocked
// listing: filter by vmid and type, read names, select.
func pruneBackups(list []listed, o Options, vmid int, typ string, loc *time.Location) map[string]Mark {
	var backups []Backup
	for _, l := range list {
		if vmid != 0 && l.vmid != vmid {
			continue
		}
		b := FromVolume(l.volid, time.Unix(l.ctime, 0), l.vmid, l.protected, loc)
		if typ != "" && b.Type != typ {
			continue
		}
		backups = append(backups, b)
	}
	return Select(backups, o, loc)
}

// expected is generate_expected: marks for the six standard backups of
// each vmid, in order, "" leaving one out (filtered by type).
func expected(vmids []int, typ string, marks [6]Mark) map[string]Mark {
	out := map[string]Mark{}
	for _, vmid := range vmids {
		if typ == "" || typ == "qemu" {
			p := fmt.Sprintf("%s:backup/vzdump-qemu-%d-", storeid, vmid)
			out[p+"2018_05_26-11_18_21.tar.zst"] = marks[0]
			out[p+"2019_12_31-11_18_21.tar.zst"] = marks[1]
			out[p+"2019_12_31-11_18_51.tar.zst"] = MarkProtected
			out[p+"2019_12_31-11_19_21.tar.zst"] = marks[2]
			out[p+"2020_01_01-11_18_21.tar.zst"] = marks[3]
			out[p+"2020_01_01-12_18_21.tar.zst"] = marks[4]
		}
		if typ == "" || typ == "lxc" {
			out[fmt.Sprintf("%s:backup/vzdump-lxc-%d-2020_01_01-12_18_21.tar.zst", storeid, vmid)] = marks[5]
		}
		if typ == "" {
			out[fmt.Sprintf("%s:backup/vzdump-%d-renamed.tar.zst", storeid, vmid)] = MarkRenamed
		}
	}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out
}

const (
	k = MarkKeep
	r = MarkRemove
)

// TestSelectPVE ports every case of pve-storage src/test/prune_backups_test.pm
// (run there with TZ=UTC).
func TestSelectPVE(t *testing.T) {
	all := []int{1234, 9001}
	one := []int{1234}
	tests := []struct {
		name string
		vmid int
		typ  string
		keep Options
		list string
		want map[string]Mark
	}{
		{"last=3, multiple IDs", 0, "", Options{KeepLast: Int(3)}, "",
			expected(all, "", [6]Mark{r, r, k, k, k, k})},
		{"weekly=2, one ID", 1234, "", Options{KeepWeekly: Int(2)}, "",
			expected(one, "", [6]Mark{k, r, r, r, k, k})},
		{"daily=weekly=monthly=1, multiple IDs", 0, "", Options{KeepHourly: Int(0), KeepDaily: Int(1), KeepWeekly: Int(1), KeepMonthly: Int(1)}, "",
			expected(all, "", [6]Mark{k, r, k, r, k, k})},
		{"hourly=4, one ID", 1234, "", Options{KeepHourly: Int(4), KeepDaily: Int(0)}, "",
			expected(one, "", [6]Mark{k, r, k, k, k, k})},
		{"yearly=2, multiple IDs", 0, "", Options{KeepHourly: Int(0), KeepDaily: Int(0), KeepWeekly: Int(0), KeepMonthly: Int(0), KeepYearly: Int(2)}, "",
			expected(all, "", [6]Mark{r, r, k, r, k, k})},
		{"last=2,hourly=2 one ID", 1234, "", Options{KeepLast: Int(2), KeepHourly: Int(2)}, "",
			expected(one, "", [6]Mark{k, r, k, k, k, k})},
		{"last=1,monthly=2, multiple IDs", 0, "", Options{KeepLast: Int(1), KeepMonthly: Int(2)}, "",
			expected(all, "", [6]Mark{k, r, k, r, k, k})},
		{"monthly=3, one ID", 1234, "", Options{KeepMonthly: Int(3)}, "",
			expected(one, "", [6]Mark{k, r, k, r, k, k})},
		{"last=daily=weekly=1, multiple IDs", 0, "", Options{KeepLast: Int(1), KeepDaily: Int(1), KeepWeekly: Int(1)}, "",
			expected(all, "", [6]Mark{k, r, k, r, k, k})},
		{"last=daily=weekly=1, others zero, multiple IDs", 0, "", Options{KeepHourly: Int(0), KeepLast: Int(1), KeepDaily: Int(1), KeepWeekly: Int(1), KeepMonthly: Int(0), KeepYearly: Int(0)}, "",
			expected(all, "", [6]Mark{k, r, k, r, k, k})},
		{"daily=2, one ID", 1234, "", Options{KeepDaily: Int(2)}, "",
			expected(one, "", [6]Mark{r, r, k, r, k, k})},
		{"weekly=monthly=1, multiple IDs", 0, "", Options{KeepWeekly: Int(1), KeepMonthly: Int(1)}, "",
			expected(all, "", [6]Mark{k, r, r, r, k, k})},
		{"weekly=yearly=1, one ID", 1234, "", Options{KeepWeekly: Int(1), KeepYearly: Int(1)}, "",
			expected(one, "", [6]Mark{k, r, r, r, k, k})},
		{"weekly=yearly=1, one ID, type qemu", 1234, "qemu", Options{KeepWeekly: Int(1), KeepYearly: Int(1)}, "",
			expected(one, "qemu", [6]Mark{k, r, r, r, k, ""})},
		{"week=yearly=1, one ID, type lxc", 1234, "lxc", Options{KeepLast: Int(1)}, "",
			expected(one, "lxc", [6]Mark{"", "", "", "", "", k})},
		{"yearly=1, year before 2000", 0, "", Options{KeepYearly: Int(1)}, "year1970",
			map[string]Mark{
				storeid + ":backup/vzdump-lxc-321-1970_01_01-00_01_23.tar.zst": r,
				storeid + ":backup/vzdump-lxc-321-2070_01_01-00_01_00.tar.zst": k,
			}},
		{"last=1, ne ID, year before 2000", 0, "", Options{KeepLast: Int(1)}, "novmid",
			map[string]Mark{storeid + ":backup/vzdump-lxc-novmid.tar.gz": MarkRenamed}},
		{"all missing, multiple IDs", 0, "", Options{}, "",
			expected(all, "", [6]Mark{k, k, k, k, k, k})},
		{"all zero, multiple IDs", 0, "", Options{KeepLast: Int(0), KeepHourly: Int(0), KeepDaily: Int(0), KeepWeekly: Int(0), KeepMonthly: Int(0), KeepYearly: Int(0)}, "",
			expected(all, "", [6]Mark{k, k, k, k, k, k})},
		{"some zero, some missing, multiple IDs", 0, "", Options{KeepLast: Int(0), KeepHourly: Int(0), KeepDaily: Int(0), KeepYearly: Int(0)}, "",
			expected(all, "", [6]Mark{k, k, k, k, k, k})},
		{"daily=weekly=monthly=1", 0, "", Options{KeepDaily: Int(1), KeepWeekly: Int(1), KeepMonthly: Int(1)}, "threeway",
			map[string]Mark{
				storeid + ":backup/vzdump-qemu-7654-2019_12_25-12_18_21.tar.zst": k,
				storeid + ":backup/vzdump-qemu-7654-2019_12_31-12_18_21.tar.zst": r, // month already covered by keep-weekly's backup
				storeid + ":backup/vzdump-qemu-7654-2020_01_01-12_18_21.tar.zst": k,
			}},
		{"daily=weekly=1,weekboundary", 0, "", Options{KeepDaily: Int(1), KeepWeekly: Int(1)}, "weekboundary",
			map[string]Mark{
				storeid + ":backup/vzdump-qemu-7654-2020_12_03-12_18_21.tar.zst": r,
				storeid + ":backup/vzdump-qemu-7654-2020_12_04-12_18_21.tar.zst": k,
				storeid + ":backup/vzdump-qemu-7654-2020_12_07-12_18_21.tar.zst": k,
			}},
		// keep-all wins over everything.
		{"keep-all", 0, "", Options{KeepAll: Bool(true), KeepLast: Int(1)}, "",
			expected(all, "", [6]Mark{k, k, k, k, k, k})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := defaultList()
			if tt.list != "" {
				list = lists[tt.list]
			}
			got := pruneBackups(list, tt.keep, tt.vmid, tt.typ, time.UTC)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("marks (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSelectPasses covers the pass rules on hand-made groups: shuffled
// input gives the same marks, a bucket kept by an earlier pass is skipped,
// protected backups count toward nothing, and buckets use loc.
func TestSelectPasses(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, protected bool) Backup {
		return FromVolume("local:backup/"+name, time.Time{}, 0, protected, berlin)
	}
	tests := []struct {
		name    string
		backups []Backup
		keep    Options
		want    map[string]Mark
	}{
		{
			name: "protected newest does not use up keep-last",
			backups: []Backup{
				mk("vzdump-lxc-100-2024_06_03-02_00_00.tar.zst", true),
				mk("vzdump-lxc-100-2024_06_02-02_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_06_01-02_00_00.tar.zst", false),
			},
			keep: Options{KeepLast: Int(1)},
			want: map[string]Mark{
				"local:backup/vzdump-lxc-100-2024_06_03-02_00_00.tar.zst": MarkProtected,
				"local:backup/vzdump-lxc-100-2024_06_02-02_00_00.tar.zst": k,
				"local:backup/vzdump-lxc-100-2024_06_01-02_00_00.tar.zst": r,
			},
		},
		{
			name: "renamed archives are never removed and count toward nothing",
			backups: []Backup{
				mk("vzdump-lxc-100-mine.tar.zst", false),
				mk("my-own-backup.tar", false),
				mk("vzdump-lxc-100-2024_06_02-02_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_06_01-02_00_00.tar.zst", false),
			},
			keep: Options{KeepLast: Int(1)},
			want: map[string]Mark{
				"local:backup/vzdump-lxc-100-mine.tar.zst":                MarkRenamed,
				"local:backup/my-own-backup.tar":                          MarkRenamed,
				"local:backup/vzdump-lxc-100-2024_06_02-02_00_00.tar.zst": k,
				"local:backup/vzdump-lxc-100-2024_06_01-02_00_00.tar.zst": r,
			},
		},
		{
			name: "daily keeps the newest of each day, in local time",
			backups: []Backup{
				// 2024-06-02 00:30 CEST is 2024-06-01 in UTC.
				mk("vzdump-lxc-100-2024_06_02-00_30_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_06_01-23_30_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_06_01-10_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_05_31-10_00_00.tar.zst", false),
			},
			keep: Options{KeepDaily: Int(2)},
			want: map[string]Mark{
				"local:backup/vzdump-lxc-100-2024_06_02-00_30_00.tar.zst": k,
				"local:backup/vzdump-lxc-100-2024_06_01-23_30_00.tar.zst": k,
				"local:backup/vzdump-lxc-100-2024_06_01-10_00_00.tar.zst": r,
				"local:backup/vzdump-lxc-100-2024_05_31-10_00_00.tar.zst": r,
			},
		},
		{
			name: "ISO week: 2024-12-30 is week 1 of 2025, with 2025-01-02",
			backups: []Backup{
				mk("vzdump-qemu-200-2025_01_02-01_00_00.vma.zst", false),
				mk("vzdump-qemu-200-2024_12_30-01_00_00.vma.zst", false),
				mk("vzdump-qemu-200-2024_12_29-01_00_00.vma.zst", false),
			},
			keep: Options{KeepWeekly: Int(2)},
			want: map[string]Mark{
				"local:backup/vzdump-qemu-200-2025_01_02-01_00_00.vma.zst": k,
				"local:backup/vzdump-qemu-200-2024_12_30-01_00_00.vma.zst": r,
				"local:backup/vzdump-qemu-200-2024_12_29-01_00_00.vma.zst": k,
			},
		},
		{
			name: "the repeated hour of a fall-back is one hourly bucket",
			backups: []Backup{
				// Both are 02:xx local on 2024-10-27; the name gives the
				// earlier instant, so the listing order decides nothing.
				mk("vzdump-lxc-100-2024_10_27-02_40_00.tar", false),
				mk("vzdump-lxc-100-2024_10_27-02_10_00.tar", false),
				mk("vzdump-lxc-100-2024_10_27-01_50_00.tar", false),
			},
			keep: Options{KeepHourly: Int(2)},
			want: map[string]Mark{
				"local:backup/vzdump-lxc-100-2024_10_27-02_40_00.tar": k,
				"local:backup/vzdump-lxc-100-2024_10_27-02_10_00.tar": r,
				"local:backup/vzdump-lxc-100-2024_10_27-01_50_00.tar": k,
			},
		},
		{
			name: "groups are per type and vmid",
			backups: []Backup{
				mk("vzdump-lxc-100-2024_06_02-02_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_06_01-02_00_00.tar.zst", false),
				mk("vzdump-qemu-100-2024_06_01-02_00_00.vma.zst", false),
				mk("vzdump-lxc-101-2024_06_01-02_00_00.tar.zst", false),
			},
			keep: Options{KeepLast: Int(1)},
			want: map[string]Mark{
				"local:backup/vzdump-lxc-100-2024_06_02-02_00_00.tar.zst":  k,
				"local:backup/vzdump-lxc-100-2024_06_01-02_00_00.tar.zst":  r,
				"local:backup/vzdump-qemu-100-2024_06_01-02_00_00.vma.zst": k,
				"local:backup/vzdump-lxc-101-2024_06_01-02_00_00.tar.zst":  k,
			},
		},
		{
			name: "a pass stops at N new buckets and leaves the rest to later passes",
			backups: []Backup{
				mk("vzdump-lxc-100-2024_06_03-02_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_06_02-02_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_05_15-02_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_05_14-02_00_00.tar.zst", false),
				mk("vzdump-lxc-100-2024_04_10-02_00_00.tar.zst", false),
			},
			keep: Options{KeepDaily: Int(1), KeepMonthly: Int(3)},
			want: map[string]Mark{
				"local:backup/vzdump-lxc-100-2024_06_03-02_00_00.tar.zst": k, // daily
				"local:backup/vzdump-lxc-100-2024_06_02-02_00_00.tar.zst": r, // June already kept
				"local:backup/vzdump-lxc-100-2024_05_15-02_00_00.tar.zst": k, // monthly
				"local:backup/vzdump-lxc-100-2024_05_14-02_00_00.tar.zst": r,
				"local:backup/vzdump-lxc-100-2024_04_10-02_00_00.tar.zst": k, // monthly
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Select(tt.backups, tt.keep, berlin)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("marks (-want +got):\n%s", diff)
			}
			rev := make([]Backup, len(tt.backups))
			for i, b := range tt.backups {
				rev[len(rev)-1-i] = b
			}
			if diff := cmp.Diff(tt.want, Select(rev, tt.keep, berlin)); diff != "" {
				t.Errorf("reversed input, marks (-want +got):\n%s", diff)
			}
		})
	}
}

// TestArchiveInfo ports pve-storage src/test/archive_info_test.pm (run there
// with TZ=UTC) plus the date checks of Time::Local.
func TestArchiveInfo(t *testing.T) {
	type want struct {
		vmid  int
		typ   string
		ctime int64
		ok    bool
	}
	const vmid = 16110
	tests := map[string]want{
		fmt.Sprintf("backup/vzdump-lxc-%d-3070_01_01-00_00_00.tgz", vmid):             {vmid, "lxc", 60 * 60 * 24 * (365*1100 + 267), true},
		fmt.Sprintf("backup/vzdump-lxc-%d-1970_01_01-02_00_30.tgz", vmid):             {vmid, "lxc", 60*60*2 + 30, true},
		fmt.Sprintf("backup/vzdump-lxc-%d-2020_03_30-21_39_30.tgz", vmid):             {vmid, "lxc", 1585604370, true},
		fmt.Sprintf("backup/vzdump-openvz-%d-2020_03_30-21_39_30.tgz", vmid):          {vmid, "openvz", 1585604370, true},
		fmt.Sprintf("/here/be/Back-ups/vzdump-qemu-%d-2020_03_30-21_39_30.tgz", vmid): {vmid, "qemu", 1585604370, true},
		fmt.Sprintf("backup/vzdump-qemu-%d-whatever-the-name_is_here.tgz", vmid):      {0, "qemu", 0, false},
		"local:backup/vzdump-lxc-100-2024_01_01-00_00_00.tar":                         {100, "lxc", 1704067200, true},
		"local:backup/vzdump-lxc-99-2024_01_01-00_00_00.tar":                          {0, "lxc", 0, false}, // vmid below 100
		"local:backup/vzdump-lxc-0100-2024_01_01-00_00_00.tar":                        {0, "lxc", 0, false},
		"local:backup/vzdump-lxc-1000000000-2024_01_01-00_00_00.tar":                  {0, "lxc", 0, false}, // ten digits
		"local:backup/vzdump-lxc-999999999-2024_01_01-00_00_00.tar":                   {999999999, "lxc", 1704067200, true},
		"local:backup/vzdump-lxc-100-2024_02_30-00_00_00.tar":                         {0, "unknown", 0, false}, // timelocal dies
		"local:backup/vzdump-lxc-100-2024_13_01-00_00_00.tar":                         {0, "unknown", 0, false},
		"local:backup/vzdump-lxc-100-2024_01_01-24_00_00.tar":                         {0, "unknown", 0, false},
		"local:backup/vzdump-lxc-100-2024_01_01-00_00_60.tar":                         {0, "unknown", 0, false},
		"local:backup/vzdump-lxc-100-2024_02_29-00_00_00.tar":                         {100, "lxc", 1709164800, true},
		"local:backup/vzdump-lxc-100-2024_01_01-00_00_00.tar.zst.notes":               {0, "unknown", 0, false},
		"local:backup/vzdump-lxc-100-2024_01_01-00_00_00.log":                         {0, "unknown", 0, false},
		"local:vzdump-lxc-100-2024_01_01-00_00_00.tar":                                {0, "unknown", 0, false}, // basename keeps "local:"
		"pbs:backup/ct/100/2024-01-01T00:00:00Z":                                      {0, "unknown", 0, false},
	}
	for virt, format := range map[string]string{"qemu": "vma", "lxc": "tar", "openvz": "tar"} {
		for _, comp := range []string{"gz", "lzo", "zst", "bz2"} {
			tests[fmt.Sprintf("backup/vzdump-%s-%d-2020_03_30-21_12_40.%s.%s", virt, vmid, format, comp)] = want{vmid, virt, 1585602760, true}
		}
	}
	for virt, suffixes := range map[string][]string{
		"openvz": {"zip", "tgz.lzo", "zip.gz", ""},
		"lxc":    {"zip", "tgz.lzo", "zip.gz", ""},
		"qemu":   {"vma.xz", "vms.gz", "vmx.zst", ""},
		"none":   {"tar.gz"},
	} {
		for _, s := range suffixes {
			tests[fmt.Sprintf("backup/vzdump-%s-%d-2020_03_30-21_12_40.%s", virt, vmid, s)] = want{0, "unknown", 0, false}
		}
	}
	names := make([]string, 0, len(tests))
	for n := range tests {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		w := tests[name]
		vmid, typ, ctime, ok := ArchiveInfo(name, time.UTC)
		var unix int64
		if ok {
			unix = ctime.Unix()
		}
		if got := (want{vmid, typ, unix, ok}); got != w {
			t.Errorf("ArchiveInfo(%q) = %+v, want %+v", name, got, w)
		}
	}
}

// TestArchiveInfoLocalTime checks that the name is read in loc, with
// Time::Local's choices at DST transitions.
func TestArchiveInfoLocalTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"vzdump-lxc-100-2024_06_01-12_00_00.tar": "2024-06-01T10:00:00Z",
		"vzdump-lxc-100-2024_01_01-00_00_00.tar": "2023-12-31T23:00:00Z",
		"vzdump-lxc-100-2024_03_31-02_30_00.tar": "2024-03-31T01:30:00Z", // in the gap: 03:30 CEST
		"vzdump-lxc-100-2024_10_27-02_30_00.tar": "2024-10-27T00:30:00Z", // repeated: the earlier, CEST
		"vzdump-lxc-100-0999_01_01-00_00_00.tar": "2898-12-31T23:00:00Z", // Time::Local: 999 years after 1900
	} {
		_, _, ctime, ok := ArchiveInfo(name, berlin)
		if !ok {
			t.Errorf("ArchiveInfo(%q) not ok", name)
			continue
		}
		if got := ctime.UTC().Format(time.RFC3339); got != want {
			t.Errorf("ArchiveInfo(%q) ctime %s, want %s", name, got, want)
		}
	}
	if _, _, _, ok := ArchiveInfo("vzdump-lxc-100-0050_01_01-00_00_00.tar", berlin); ok {
		t.Error("two-digit year (rolling century) accepted")
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		in      string
		want    Options
		str     string // String() of the result
		wantErr string
	}{
		{"keep-daily=7,keep-last=3", Options{KeepDaily: Int(7), KeepLast: Int(3)}, "keep-daily=7,keep-last=3", ""},
		{"keep-last=3,keep-daily=7", Options{KeepDaily: Int(7), KeepLast: Int(3)}, "keep-daily=7,keep-last=3", ""},
		{"keep-hourly=24,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=5,keep-last=1",
			Options{KeepLast: Int(1), KeepHourly: Int(24), KeepDaily: Int(7), KeepWeekly: Int(4), KeepMonthly: Int(12), KeepYearly: Int(5)},
			"keep-daily=7,keep-hourly=24,keep-last=1,keep-monthly=12,keep-weekly=4,keep-yearly=5", ""},
		{"keep-all=1", Options{KeepAll: Bool(true)}, "keep-all=1", ""},
		{"keep-all=yes", Options{KeepAll: Bool(true)}, "keep-all=1", ""},
		{"keep-all=0", Options{KeepAll: Bool(true)}, "keep-all=1", ""}, // nothing positive: keep all
		{"", Options{KeepAll: Bool(true)}, "keep-all=1", ""},
		{"keep-last=0", Options{KeepAll: Bool(true)}, "keep-all=1", ""},
		{"keep-last=0,keep-daily=2", Options{KeepLast: Int(0), KeepDaily: Int(2)}, "keep-daily=2,keep-last=0", ""},
		{"keep-all=0,keep-daily=2", Options{KeepDaily: Int(2)}, "keep-daily=2", ""},
		{"keep-all=1,keep-last=0", Options{KeepAll: Bool(true)}, "keep-all=1", ""},
		{"keep-last=+5,,", Options{KeepLast: Int(5)}, "keep-last=5", ""},
		{"keep-all=1,keep-last=3", Options{}, "", "keep-all cannot be set together with other options."},
		{"keep-last=-1", Options{}, "", "keep-last: value must have a minimum value of 0"},
		{"keep-last=x,keep-daily=1.5", Options{}, "", "keep-daily: type check ('integer') failed - got '1.5'; keep-last: type check ('integer') failed - got 'x'"},
		{"keep-all=maybe", Options{}, "", "keep-all: type check ('boolean') failed - got 'maybe'"},
		{"keep-last=1,keep-last=2", Options{}, "", "duplicate key in comma-separated list property: keep-last"},
		{"keep-lasts=1", Options{}, "", "invalid key in comma-separated list property: keep-lasts"},
		{" keep-last=1", Options{}, "", "invalid key in comma-separated list property:  keep-last"},
		{"3", Options{}, "", "value without key, but schema does not define a default key"},
		{"keep-last=", Options{}, "", "missing key in comma-separated list property"},
		{"keep-last=99999999999999999999", Options{}, "", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOptions(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseOptions(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				var oe *OptionsError
				if !errors.As(err, &oe) {
					t.Errorf("error %T, want *OptionsError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseOptions(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOptions(%q) (-want +got):\n%s", tt.in, diff)
			}
			if got.String() != tt.str {
				t.Errorf("String() = %q, want %q", got.String(), tt.str)
			}
			again, err := ParseOptions(got.String())
			if err != nil || !cmp.Equal(again, got) {
				t.Errorf("round trip of %q: %v, %v", got.String(), again, err)
			}
		})
	}
	if _, err := ParseOptions("keep-all=1,keep-daily=1"); !errors.Is(err, ErrKeepAllWithOthers) {
		t.Errorf("error %v is not ErrKeepAllWithOthers", err)
	}
}

func TestOptionsString(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{}, ""},
		{Options{KeepAll: Bool(false)}, "keep-all=0"},
		{Options{KeepLast: Int(0)}, "keep-last=0"},
		{Options{KeepYearly: Int(1), KeepAll: Bool(true), KeepHourly: Int(2)}, "keep-all=1,keep-hourly=2,keep-yearly=1"},
	} {
		if got := tt.o.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestNilLocationIsUTC(t *testing.T) {
	_, _, ctime, ok := ArchiveInfo("vzdump-lxc-100-2024_01_01-00_00_00.tar", nil)
	if !ok || ctime.Unix() != 1704067200 {
		t.Errorf("ArchiveInfo with nil loc: %v %v", ctime, ok)
	}
	b := FromVolume("s:backup/vzdump-lxc-100-2024_01_01-00_00_00.tar", time.Time{}, 100, false, nil)
	if got := Select([]Backup{b}, Options{KeepDaily: Int(1)}, nil); got[b.Volid] != MarkKeep {
		t.Errorf("Select with nil loc: %v", got)
	}
}
