package diff

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// devices plans the spec's devN slots; slots it does not name are left
// alone. Every devN write is root-only: pve-container src/PVE/LXC.pm
// check_ct_modify_config_perm raises "configuring device passthrough is
// only allowed for root@pam" for any dev\d+ key, so it goes to the pct-set
// step or blocks the container.
func (d *differ) devices() {
	slots := make([]string, 0, len(d.s.Devices))
	for slot := range d.s.Devices {
		slots = append(slots, slot)
	}
	sort.Slice(slots, func(i, j int) bool { return plan.KeyLess(slots[i], slots[j]) })
	for _, slot := range slots {
		reason := slot + ": configuring device passthrough is only allowed for root@pam; no API token may"
		d.compare(slot, devBuilder(slot, d.s.Devices[slot]), func(w write, _ []field) (string, bool) {
			// A revert of a pending devN is checked as a delete, which is
			// root-only too; the privileged backend does not revert.
			return reason, !w.del
		})
	}
}

// devBuilder compares one devN: a missing slot is added whole; an existing
// one is compared key by key for the keys the spec names (path always),
// and the others keep their live value.
func devBuilder(slot string, want spec.Device) builder {
	return func(raw string, present bool) (write, []field, error) {
		desired := format.Dev{Path: want.Path, Mode: want.Mode, UID: want.UID, GID: want.GID, DenyWrite: want.DenyWrite}
		if !present {
			v := desired.String()
			return write{value: v}, []field{{path: slot, op: plan.OpAdd, after: v}}, nil
		}
		live, err := format.ParseDev(raw)
		if err != nil {
			return write{}, nil, fmt.Errorf("live value %q: %v", raw, err)
		}
		merged := live
		subs := []sub{{path: slot + ".path", live: live.Path, desired: want.Path, liveSet: live.Path != "", equal: live.Path == want.Path}}
		merged.Path = want.Path
		if want.Mode != "" {
			subs = append(subs, sub{path: slot + ".mode", live: live.Mode, desired: want.Mode, liveSet: live.Mode != "", equal: live.Mode == want.Mode})
			merged.Mode = want.Mode
		}
		id := func(name string, l, w *int) {
			show := func(p *int) string {
				if p == nil {
					return ""
				}
				return strconv.Itoa(*p)
			}
			subs = append(subs, sub{path: slot + "." + name, live: show(l), desired: show(w), liveSet: l != nil, equal: l != nil && *l == *w})
		}
		if want.UID != nil {
			id("uid", live.UID, want.UID)
			merged.UID = want.UID
		}
		if want.GID != nil {
			id("gid", live.GID, want.GID)
			merged.GID = want.GID
		}
		if want.DenyWrite != nil {
			l := live.DenyWrite != nil && *live.DenyWrite
			subs = append(subs, sub{path: slot + ".deny-write", live: onOff(l), desired: onOff(*want.DenyWrite), liveSet: true, equal: l == *want.DenyWrite})
			merged.DenyWrite = want.DenyWrite
		}
		return write{value: merged.String()}, subFields(subs), nil
	}
}
