package ctconf

import (
	"regexp"
	"sort"
	"strings"
)

var listSepRE = regexp.MustCompile(`[\t\n\v\f\r ]+`)

// SplitList splits a PVE list parameter as PVE::Tools::split_list does:
// at NUL bytes when there are any, otherwise at ',', ';' and white space,
// leading white space ignored.
func SplitList(s string) []string {
	if strings.Contains(s, "\x00") {
		return perlSplit(s, "\x00")
	}
	s = strings.NewReplacer(",", " ", ";", " ").Replace(s)
	s = strings.TrimLeft(s, "\t\n\v\f\r ")
	if s == "" {
		return nil
	}
	return perlSplitRE(s, listSepRE)
}

// perlSplitRE is split(/re/, s): trailing empty fields removed.
func perlSplitRE(s string, re *regexp.Regexp) []string {
	parts := re.Split(s, -1)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parsePendingDelete is PVE::AbstractConfig::parse_pending_delete.
func parsePendingDelete(data string) map[string]bool {
	res := map[string]bool{}
	if data == "" {
		return res
	}
	data = strings.NewReplacer(",", " ", ";", " ").Replace(data)
	data = strings.TrimLeft(data, "\t\n\v\f\r ")
	for _, entry := range perlSplitRE(data, listSepRE) {
		key := strings.TrimPrefix(entry, "!")
		res[key] = key != entry
	}
	return res
}

// printPendingDelete is print_pending_delete: keys sorted, forced ones
// with '!', joined by ','.
func printPendingDelete(h map[string]bool) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if h[k] {
			keys[i] = "!" + k
		}
	}
	return strings.Join(keys, ",")
}

func (f *File) pendingDeleteHash() map[string]bool {
	if f.Pending == nil {
		return map[string]bool{}
	}
	return parsePendingDelete(f.Pending.values["delete"])
}

// setPendingDelete writes h back as the pending "delete" key (removed when
// h is empty).
func (f *File) setPendingDelete(h map[string]bool) {
	if len(h) == 0 {
		if f.Pending != nil {
			delete(f.Pending.values, "delete")
		}
		return
	}
	f.pending().values["delete"] = printPendingDelete(h)
}

// addToPendingDelete is add_to_pending_delete.
func (f *File) addToPendingDelete(key string, force bool) {
	h := f.pendingDeleteHash()
	h[key] = force
	f.setPendingDelete(h)
}

// removeFromPendingDelete is remove_from_pending_delete: the list is
// rewritten only when key was in it.
func (f *File) removeFromPendingDelete(key string) {
	h := f.pendingDeleteHash()
	if _, ok := h[key]; !ok {
		return
	}
	delete(h, key)
	f.setPendingDelete(h)
}

// cleanupPending is PVE::AbstractConfig::cleanup_pending: pending values
// equal to the current ones are dropped, and pending deletes of keys that
// are not set.
func (f *File) cleanupPending() {
	if f.Pending == nil {
		return
	}
	for k, v := range f.Pending.values {
		if k == "delete" {
			continue
		}
		if cur, ok := f.Main.values[k]; ok && cur == v {
			delete(f.Pending.values, k)
		}
	}
	keep := map[string]bool{}
	for k, force := range f.pendingDeleteHash() {
		if _, ok := f.Main.values[k]; ok {
			keep[k] = force
		}
	}
	if len(keep) > 0 {
		f.Pending.values["delete"] = printPendingDelete(keep)
	} else {
		delete(f.Pending.values, "delete")
	}
}

// PendingDeletes returns the pending delete list, sorted by key.
func (f *File) PendingDeletes() []PendingDelete {
	h := f.pendingDeleteHash()
	res := make([]PendingDelete, 0, len(h))
	for k, force := range h {
		res = append(res, PendingDelete{Key: k, Force: force})
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Key < res[j].Key })
	return res
}

// PendingEntries returns what GET /nodes/{node}/lxc/{vmid}/pending returns
// (pve-guest-common PVE::GuestHelpers::config_with_pending_array), sorted by
// key (PVE's order is a hash order): one entry per current key with its
// value, plus its pending value and delete flag if any; then pending-only
// keys; then pending deletes of keys that are not set. The digest is an
// ordinary current key (parse_pct_config puts it into the hash); the raw
// lxc.* entries and the snapshots are left out. Hiding env from callers
// without VM.Config.Options is the caller's job.
func (f *File) PendingEntries() []PendingEntry {
	var res []PendingEntry
	pend := map[string]string{}
	if f.Pending != nil {
		for k, v := range f.Pending.values {
			pend[k] = v
		}
	}
	dels := f.pendingDeleteHash()
	delFlag := func(force bool) int {
		if force {
			return 2
		}
		return 1
	}
	cur := f.Current()
	for k, v := range cur {
		e := PendingEntry{Key: k, Value: v, HasValue: true}
		if p, ok := pend[k]; ok {
			e.Pending, e.HasPending = p, true
			delete(pend, k)
		}
		if force, ok := dels[k]; ok {
			e.Delete = delFlag(force)
			delete(dels, k)
		}
		res = append(res, e)
	}
	for k, v := range pend {
		if k == "delete" {
			continue
		}
		res = append(res, PendingEntry{Key: k, Pending: v, HasPending: true})
	}
	for k, force := range dels {
		res = append(res, PendingEntry{Key: k, Delete: delFlag(force)})
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Key < res[j].Key })
	return res
}

// Current returns the config GET .../config returns with current=1
// (load_current_config): the current keys and the digest, without the raw
// lxc.* entries (see Main.Lxc).
func (f *File) Current() map[string]string {
	res := make(map[string]string, len(f.Main.values)+1)
	for k, v := range f.Main.values {
		res[k] = v
	}
	if f.Digest != "" {
		res["digest"] = f.Digest
	}
	return res
}

// Merged returns the config GET .../config returns without current=1
// (load_current_config): pending values replace current ones, and pending
// deletes remove keys. As in PVE, a pending delete removes a key only when
// its value is true in Perl's sense, so a pending delete of "onboot: 0"
// still shows onboot 0.
func (f *File) Merged() map[string]string {
	res := f.Current()
	if f.Pending == nil {
		return res
	}
	for k, v := range f.Pending.values {
		if k == "delete" {
			continue
		}
		res[k] = v
	}
	for k := range f.pendingDeleteHash() {
		if perlTrue(res[k]) {
			delete(res, k)
		}
	}
	return res
}
