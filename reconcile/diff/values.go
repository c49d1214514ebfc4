package diff

import (
	"sort"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// PVE's defaults for options it leaves out of the config ($confdesc in
// pve-container src/PVE/LXC/Config.pm; the defaults are also in the API
// schema, ../shared/reference/pve-api/apidata.json, PUT .../config).
const (
	defaultMemoryMiB = 512 // memory
	defaultSwapMiB   = 512 // swap
	// defaultCPUUnits is cpuunits under cgroup v2, the only cgroup version
	// PVE 9 runs containers with (cgroup v1 used 1024).
	defaultCPUUnits = 100
)

// humanSize prints a byte count for people in the largest binary unit that
// shows it exactly with at most two decimals: "2 GiB", "1.5 GiB", "768 MiB",
// "1000 MiB". Equal sizes always print the same.
func humanSize(b format.Size) string {
	units := []struct {
		size format.Size
		name string
	}{{format.TiB, "TiB"}, {format.GiB, "GiB"}, {format.MiB, "MiB"}, {format.KiB, "KiB"}}
	for _, u := range units {
		if b < u.size || (b*100)%u.size != 0 {
			continue
		}
		hundredths := b * 100 / u.size
		s := strconv.FormatInt(int64(hundredths/100), 10)
		if frac := hundredths % 100; frac != 0 {
			f := strconv.FormatInt(int64(frac), 10)
			if frac < 10 {
				f = "0" + f
			}
			s += "." + strings.TrimRight(f, "0")
		}
		return s + " " + u.name
	}
	return strconv.FormatInt(int64(b), 10) + " B"
}

// humanMiB prints a MiB count (memory, swap) for people.
func humanMiB(mib int64) string {
	if mib == 0 {
		return "0"
	}
	return humanSize(format.Size(mib) * format.MiB)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func boolPut(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// tagSet returns tags as a sorted set. PVE's default tag handling
// (datacenter.cfg tag-style case-sensitive=0) treats tags that differ only in
// case as one tag, so they are compared lower-cased.
func tagSet(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.TrimSpace(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

func intSet(l []int) []int {
	m := map[int]bool{}
	var out []int
	for _, v := range l {
		if !m[v] {
			m[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

func intsString(l []int) string {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ";")
}

func stringSet(l []string) []string {
	m := map[string]bool{}
	var out []string
	for _, s := range l {
		s = strings.TrimSpace(s)
		if s != "" && !m[s] {
			m[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func stringSetEqual(a, b []string) bool {
	return strings.Join(stringSet(a), ";") == strings.Join(stringSet(b), ";")
}

// volumeStorage returns the storage id of a volume id ("local-lvm" of
// "local-lvm:vm-100-disk-0"), or "" for a path.
func volumeStorage(volid string) string {
	if strings.HasPrefix(volid, "/") {
		return ""
	}
	s, _, ok := strings.Cut(volid, ":")
	if !ok {
		return ""
	}
	return s
}
