package diff

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// network plans the spec's netN slots; slots it does not name are left
// alone.
func (d *differ) network() {
	slots := make([]string, 0, len(d.s.Net))
	for slot := range d.s.Net {
		slots = append(slots, slot)
	}
	sort.Slice(slots, func(i, j int) bool { return plan.KeyLess(slots[i], slots[j]) })
	for _, slot := range slots {
		n := d.s.Net[slot]
		d.compare(slot, d.netBuilder(slot, n), nil)
		d.bridgePrivileges(slot, n)
	}
}

// bridgePrivileges records SDN.Use on the old and new bridge when the
// interface is written (pve-semantics §4: PVE checks both values).
func (d *differ) bridgePrivileges(slot string, n spec.NetIf) {
	if _, written := d.set[slot]; !written {
		return
	}
	d.bridgeNeed(d.set[slot])
	if cur, ok := d.live.Config[slot]; ok {
		d.bridgeNeed(cur)
	}
}

// bridgeNeed records SDN.Use on the bridge (and VLAN tag) of netN value
// raw.
func (d *differ) bridgeNeed(raw string) {
	// Only bridge= and tag= matter here; values never contain commas.
	var bridge, tag string
	for _, part := range strings.Split(raw, ",") {
		if v, ok := strings.CutPrefix(part, "bridge="); ok {
			bridge = v
		} else if v, ok := strings.CutPrefix(part, "tag="); ok {
			tag = v
		}
	}
	if bridge == "" {
		return
	}
	p := "/sdn/zones/localnetwork/" + bridge
	if tag != "" {
		p += "/" + tag
	}
	d.need(plan.UseBridge, p)
}

// netBuilder compares one interface key by key; keys the spec does not name
// keep their live value (notably hwaddr, which PVE generated).
func (d *differ) netBuilder(slot string, want spec.NetIf) builder {
	return func(raw string, present bool) (write, []field, error) {
		if !present {
			if want.Name == nil {
				return write{}, nil, fmt.Errorf("a new interface needs a name")
			}
			n := format.Net{}
			applyNet(&n, want)
			v := n.String()
			return write{value: v}, []field{{path: slot, op: plan.OpAdd, after: v}}, nil
		}
		live, err := format.ParseNet(raw)
		if err != nil {
			return write{}, nil, fmt.Errorf("live value %q: %w", raw, err)
		}
		merged := live
		applyNet(&merged, want)
		var subs []sub
		str := func(key string, w *string, l string, eq func(a, b string) bool) {
			if w == nil {
				return
			}
			subs = append(subs, sub{path: slot + "." + key, live: l, desired: *w, liveSet: l != "", equal: eq(l, *w)})
		}
		same := func(a, b string) bool { return a == b }
		str("name", want.Name, live.Name, same)
		str("bridge", want.Bridge, live.Bridge, same)
		str("ip", want.IP, live.IP, format.AddrEqual)
		str("gw", want.GW, live.GW, format.AddrEqual)
		str("ip6", want.IP6, live.IP6, format.AddrEqual)
		str("gw6", want.GW6, live.GW6, format.AddrEqual)
		str("hwaddr", want.HWAddr, live.HWAddr, strings.EqualFold)
		flag := func(key string, w, l *bool) {
			if w == nil {
				return
			}
			lv := boolOr(l, false)
			subs = append(subs, sub{path: slot + "." + key, live: onOff(lv), desired: onOff(*w), liveSet: true, equal: lv == *w})
		}
		flag("firewall", want.Firewall, live.Firewall)
		flag("link_down", want.LinkDown, live.LinkDown)
		num := func(key string, w, l *int) {
			if w == nil {
				return
			}
			subs = append(subs, sub{path: slot + "." + key, live: intPtrString(l), desired: strconv.Itoa(*w), liveSet: l != nil, equal: intPtrEqual(w, l)})
		}
		num("tag", want.Tag, live.Tag)
		num("mtu", want.MTU, live.MTU)
		if want.Rate != nil {
			lv := ""
			if live.Rate != nil {
				lv = formatFloat(*live.Rate)
			}
			subs = append(subs, sub{path: slot + ".rate", live: lv, desired: formatFloat(*want.Rate), liveSet: live.Rate != nil,
				equal: live.Rate != nil && *live.Rate == *want.Rate})
		}
		if want.Trunks != nil {
			lt, wt := intSet(live.Trunks), intSet(want.Trunks)
			subs = append(subs, sub{path: slot + ".trunks", live: intsString(lt), desired: intsString(wt), liveSet: len(lt) > 0,
				equal: intsString(lt) == intsString(wt)})
		}
		return write{value: merged.String()}, subFields(subs), nil
	}
}

// applyNet sets the keys the spec names on n.
func applyNet(n *format.Net, w spec.NetIf) {
	setStr := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&n.Name, w.Name)
	setStr(&n.Bridge, w.Bridge)
	setStr(&n.IP, w.IP)
	setStr(&n.GW, w.GW)
	setStr(&n.IP6, w.IP6)
	setStr(&n.GW6, w.GW6)
	setStr(&n.HWAddr, w.HWAddr)
	if w.Firewall != nil {
		n.Firewall = w.Firewall
	}
	if w.LinkDown != nil {
		n.LinkDown = w.LinkDown
	}
	if w.Tag != nil {
		n.Tag = w.Tag
	}
	if w.MTU != nil {
		n.MTU = w.MTU
	}
	if w.Rate != nil {
		n.Rate = w.Rate
	}
	if w.Trunks != nil {
		n.Trunks = intSet(w.Trunks)
	}
}
