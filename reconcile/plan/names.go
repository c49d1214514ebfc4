package plan

import (
	"sort"
	"strings"
	"time"
)

// SnapshotPrefix starts the name of every snapshot felhom takes. Snapshots
// with other names are never deleted by felhom.
const SnapshotPrefix = "felhom-"

// snapshotTimeLayout is fixed-width, so names sort in time order.
const snapshotTimeLayout = "20060102t150405"

// SnapshotName returns the name of the snapshot felhom takes before changing
// a container: "felhom-<UTC time>-<rev>", such as
// "felhom-20261125t172925-3f2a9c1d0b7e". rev is lower-cased, stripped of
// characters PVE does not allow in snapshot names and cut to 12 characters;
// the part is left out when nothing remains. The result always matches PVE's
// pve-configid pattern ^[a-z][a-z0-9_-]+$ and is at most 35 characters, within
// PVE's limit of 40.
func SnapshotName(t time.Time, rev string) string {
	name := SnapshotPrefix + t.UTC().Format(snapshotTimeLayout)
	var b strings.Builder
	for _, r := range strings.ToLower(rev) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			if b.Len() == 12 {
				break
			}
		}
	}
	if b.Len() > 0 {
		name += "-" + b.String()
	}
	return name
}

// SnapshotTime returns the time encoded in a name made by SnapshotName; ok is
// false for any other name.
func SnapshotTime(name string) (t time.Time, ok bool) {
	rest, found := strings.CutPrefix(name, SnapshotPrefix)
	if !found || len(rest) < len(snapshotTimeLayout) {
		return time.Time{}, false
	}
	if len(rest) > len(snapshotTimeLayout) && rest[len(snapshotTimeLayout)] != '-' {
		return time.Time{}, false
	}
	t, err := time.Parse(snapshotTimeLayout, rest[:len(snapshotTimeLayout)])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// SetConfigSummary describes a set-config step's parameters for people:
// the keys it sets, then the keys it deletes, such as "memory, net1; delete
// mp2". Keys are in natural order (KeyLess).
func SetConfigSummary(params map[string]string) string {
	var set []string
	for k := range params {
		if k != "delete" && k != "digest" {
			set = append(set, k)
		}
	}
	sort.Slice(set, func(i, j int) bool { return KeyLess(set[i], set[j]) })
	var del []string
	if d := params["delete"]; d != "" {
		del = strings.Split(d, ",")
		sort.Slice(del, func(i, j int) bool { return KeyLess(del[i], del[j]) })
	}
	out := strings.Join(set, ", ")
	if len(del) > 0 {
		if out != "" {
			out += "; "
		}
		out += "delete " + strings.Join(del, ", ")
	}
	return out
}
