package diff

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// features plans the features property string flag by flag; flags the spec
// does not name keep their live value, and an unset flag is off.
func (d *differ) features() builder {
	want := *d.s.Features
	return func(raw string, present bool) (write, []field, error) {
		live, err := parseLive(raw, present, format.ParseFeatures)
		if err != nil {
			return write{}, nil, err
		}
		merged := live
		var subs []sub
		for _, k := range []struct {
			name       string
			want, live *bool
			dst        **bool
		}{
			{"force_rw_sys", want.ForceRWSys, live.ForceRWSys, &merged.ForceRWSys},
			{"fuse", want.Fuse, live.Fuse, &merged.Fuse},
			{"keyctl", want.Keyctl, live.Keyctl, &merged.Keyctl},
			{"mknod", want.Mknod, live.Mknod, &merged.Mknod},
			{"nesting", want.Nesting, live.Nesting, &merged.Nesting},
		} {
			if k.want == nil {
				continue
			}
			lv := boolOr(k.live, false)
			subs = append(subs, sub{path: "features." + k.name, live: onOff(lv), desired: onOff(*k.want),
				liveSet: true, equal: lv == *k.want})
			// Only a flag that must change is written: PVE judges the text
			// (see pveFeatureChange), so an absent flag stays absent and a
			// written "0" stays written.
			if lv != *k.want {
				*k.dst = k.want
			}
		}
		if want.Mount != nil {
			equal := stringSetEqual(live.Mount, want.Mount)
			subs = append(subs, sub{path: "features.mount", live: strings.Join(stringSet(live.Mount), ";"),
				desired: strings.Join(stringSet(want.Mount), ";"), liveSet: len(stringSet(live.Mount)) > 0,
				equal: equal})
			if !equal {
				merged.Mount = stringSet(want.Mount)
			}
		}
		return writeOrDelete(merged.String()), subFields(subs), nil
	}
}

// featuresRootOnly judges a write of features (or, w.del, a delete or a
// revert, which PVE checks alike) as check_ct_modify_config_perm does for an
// API token (pve-container src/PVE/LXC.pm): on a privileged container any
// features write is root-only; on an unprivileged one, a write that changes
// any flag but nesting (pveFeatureChange) is.
func (d *differ) featuresRootOnly(w write, fields []field) (string, bool) {
	if !d.unprivileged() {
		return "features: changing feature flags of a privileged container is only allowed for root@pam", true
	}
	old := d.live.Config["features"]
	flag, other := pveFeatureChange(old, w)
	if !other {
		return "", false
	}
	shown := func(v string) string {
		if v == "" {
			return "none"
		}
		return fmt.Sprintf("%q", v)
	}
	if w.del {
		return fmt.Sprintf("features: reverting or deleting it is judged by PVE against the current value %s, which holds flags other than nesting: only root@pam may", shown(old)), true
	}
	path := "features"
	for _, f := range fields {
		if f.path != "features.nesting" {
			path = f.path
			break
		}
	}
	return fmt.Sprintf("%s: PVE allows changing only nesting without root@pam, and writing %s over %s changes %s", path, shown(w.value), shown(old), flag), true
}

// pveFeatureChange is the features branch of check_ct_modify_config_perm
// (pve-container src/PVE/LXC.pm, PVE 9): other is true when PVE would refuse
// the write w of features over the main config's value old to an API token,
// and flag names a flag it counts as changed. Flags are compared as
// parse_features leaves them (booleans as 1/0, mount as written). With no
// old value, or for a delete (of old), any key but a lone nesting counts.
func pveFeatureChange(old string, w write) (flag string, other bool) {
	flags := func(raw string) map[string]string {
		out := map[string]string{}
		f, err := format.ParseFeatures(raw)
		if err != nil {
			return map[string]string{"features": raw} // unparsable: PVE's parse dies, never allowed
		}
		for name, v := range map[string]*bool{"force_rw_sys": f.ForceRWSys, "fuse": f.Fuse, "keyctl": f.Keyctl, "mknod": f.Mknod, "nesting": f.Nesting} {
			if v != nil {
				out[name] = boolPut(*v)
			}
		}
		if f.Mount != nil {
			out["mount"] = strings.Join(f.Mount, ";")
		}
		return out
	}
	alone := func(m map[string]string) (string, bool) {
		if _, ok := m["nesting"]; ok && len(m) == 1 {
			return "", false
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if k != "nesting" {
				return k, true
			}
		}
		return "", false
	}
	of := flags(old)
	if w.del {
		return alone(of)
	}
	nf := flags(w.value)
	if old == "" {
		return alone(nf)
	}
	keys := maps.Clone(of)
	maps.Copy(keys, nf)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if k != "nesting" && of[k] != nf[k] {
			return k, true
		}
	}
	return "", false
}

func (d *differ) unprivileged() bool {
	b, _ := format.ParseBool(d.live.Config["unprivileged"])
	return b
}
