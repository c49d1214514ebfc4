package ctconf

import (
	"sort"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// parsePendingDelete is PVE::AbstractConfig::parse_pending_delete: nothing
// for a Perl-false line, else the entries as format.SplitWords splits them
// (no NUL branch), a '!' prefix forcing; a repeated key takes its last
// entry's force.
func parsePendingDelete(data string) map[string]bool {
	res := map[string]bool{}
	if !perlTrue(data) {
		return res
	}
	for _, entry := range format.SplitWords(data) {
		key := strings.TrimPrefix(entry, "!")
		res[key] = key != entry
	}
	return res
}

// printPendingDelete is print_pending_delete, which format.FormatDeleteList
// implements for a list.
func printPendingDelete(h map[string]bool) string {
	items := make([]format.DeleteItem, 0, len(h))
	for k, force := range h {
		items = append(items, format.DeleteItem{Key: k, Force: force})
	}
	return format.FormatDeleteList(items)
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
