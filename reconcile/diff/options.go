package diff

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
)

// canonFunc reads a live raw value (present false when unset) into a
// canonical form, equal for equal meanings, and a form for people.
type canonFunc func(raw string, present bool) (canon, human string, err error)

// scalar returns the builder of an option whose value is one field: want is
// the desired canonical form, wantHuman its form for people, w the write
// that reaches it.
func scalar(key, want, wantHuman string, w write, canon canonFunc) builder {
	return func(raw string, present bool) (write, []field, error) {
		got, human, err := canon(raw, present)
		if err != nil {
			return write{}, nil, err
		}
		f := field{path: key, op: plan.OpUpdate, before: human, after: wantHuman, same: got == want}
		switch {
		case w.del:
			f.op, f.after = plan.OpRemove, ""
		case !present && human == "":
			f.op = plan.OpAdd
		}
		return w, []field{f}, nil
	}
}

// whole returns the size in whole MiB; PVE's memory and swap are integers
// of MiB.
func wholeMiB(s format.Size) (int64, error) {
	if s < 0 || s%format.MiB != 0 {
		return 0, fmt.Errorf("%s is not a whole number of MiB", humanSize(s))
	}
	return int64(s / format.MiB), nil
}

// mibCanon reads memory or swap (MiB, def when unset).
func mibCanon(def int64) canonFunc {
	return func(raw string, present bool) (string, string, error) {
		n := def
		if present {
			v, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return "", "", fmt.Errorf("live value %q is not a number of MiB", raw)
			}
			n = v
		}
		return strconv.FormatInt(n, 10), humanMiB(n), nil
	}
}

// intCanon reads an integer option; def "" means no default (unset is its own
// value).
func intCanon(def string) canonFunc {
	return func(raw string, present bool) (string, string, error) {
		if !present {
			if def == "" {
				return "", "", nil
			}
			raw = def
		}
		v, err := strconv.Atoi(raw)
		if err != nil {
			return "", "", fmt.Errorf("live value %q is not an integer", raw)
		}
		s := strconv.Itoa(v)
		return s, s, nil
	}
}

// cpulimitCanon reads cpulimit: unset and 0 mean unlimited.
func cpulimitCanon(raw string, present bool) (string, string, error) {
	v := 0.0
	if present {
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return "", "", fmt.Errorf("live value %q is not a number", raw)
		}
		v = f
	}
	return formatFloat(v), cpulimitHuman(v), nil
}

func cpulimitHuman(v float64) string {
	if v == 0 {
		return "unlimited"
	}
	return formatFloat(v)
}

// boolCanon reads a boolean option that PVE defaults to off.
func boolCanon(raw string, present bool) (string, string, error) {
	if !present {
		return "0", onOff(false), nil
	}
	b, ok := format.ParseBool(raw)
	if !ok {
		return "", "", fmt.Errorf("live value %q is not a boolean", raw)
	}
	return boolPut(b), onOff(b), nil
}

// stringCanon reads a string option as written.
func stringCanon(raw string, present bool) (string, string, error) { return raw, raw, nil }

// descriptionCanon reads the description. PVE stores it as '#' comment lines
// and reads each back with a trailing newline (parse_pct_config), so trailing
// newlines carry no meaning.
func descriptionCanon(raw string, present bool) (string, string, error) {
	s := strings.TrimRight(raw, "\n")
	return s, s, nil
}

// listCanon reads nameserver or searchdomain: PVE splits them on commas,
// semicolons and spaces (verify_nameserver_list, verify_searchdomain_list)
// and keeps the order.
func listCanon(raw string, present bool) (string, string, error) {
	s := strings.Join(format.SplitList(raw), " ")
	return s, s, nil
}

// tagsCanon reads tags as a set (see tagSet).
func tagsCanon(raw string, present bool) (string, string, error) {
	set := tagSet(format.SplitList(raw))
	return strings.ToLower(strings.Join(set, ";")), strings.Join(set, ";"), nil
}

// options plans the plain options of the spec.
func (d *differ) options() {
	s := d.s
	if s.Hostname != nil {
		d.compare("hostname", scalar("hostname", *s.Hostname, *s.Hostname, write{value: *s.Hostname}, canons["hostname"]), nil)
	}
	if s.Memory != nil {
		d.mib("memory", *s.Memory)
	}
	if s.Swap != nil {
		d.mib("swap", *s.Swap)
	}
	if s.Cores != nil {
		v := strconv.Itoa(*s.Cores)
		d.compare("cores", scalar("cores", v, v, write{value: v}, canons["cores"]), nil)
	}
	if s.CPULimit != nil {
		v := formatFloat(*s.CPULimit)
		d.compare("cpulimit", scalar("cpulimit", v, cpulimitHuman(*s.CPULimit), write{value: v}, canons["cpulimit"]), nil)
	}
	if s.CPUUnits != nil {
		v := strconv.Itoa(*s.CPUUnits)
		d.compare("cpuunits", scalar("cpuunits", v, v, write{value: v}, canons["cpuunits"]), nil)
	}
	if s.OnBoot != nil {
		d.compare("onboot", scalar("onboot", boolPut(*s.OnBoot), onOff(*s.OnBoot), write{value: boolPut(*s.OnBoot)}, canons["onboot"]), nil)
	}
	if s.Protection != nil {
		d.compare("protection", scalar("protection", boolPut(*s.Protection), onOff(*s.Protection), write{value: boolPut(*s.Protection)}, canons["protection"]), nil)
	}
	if s.Description != nil {
		want, _, _ := descriptionCanon(*s.Description, true)
		d.compare("description", scalar("description", want, want, writeOrDelete(want), canons["description"]), nil)
	}
	if s.Nameserver != nil {
		want, _, _ := listCanon(*s.Nameserver, true)
		d.compare("nameserver", scalar("nameserver", want, want, writeOrDelete(want), canons["nameserver"]), nil)
	}
	if s.Searchdomain != nil {
		want, _, _ := listCanon(*s.Searchdomain, true)
		d.compare("searchdomain", scalar("searchdomain", want, want, writeOrDelete(want), canons["searchdomain"]), nil)
	}
	if s.Tags != nil {
		set := tagSet(s.Tags)
		human := strings.Join(set, ";")
		d.compare("tags", scalar("tags", strings.ToLower(human), human, writeOrDelete(human), canons["tags"]), nil)
	}
	if s.Startup != nil {
		d.compare("startup", d.startup(), nil)
	}
	if s.Features != nil {
		d.compare("features", d.features(), d.featuresRootOnly)
	}
	if s.Hookscript != nil {
		// check_ct_modify_config_perm (pve-container src/PVE/LXC.pm):
		// "changing the hookscript is only allowed for root@pam", set or
		// deleted.
		want := *s.Hookscript
		d.compare("hookscript", scalar("hookscript", want, want, writeOrDelete(want), stringCanon), func(write, []field) (string, bool) {
			return "hookscript: changing the hookscript is only allowed for root@pam; no API token may", true
		})
	}
}

// writeOrDelete sets v, or deletes the key when v is empty (PVE keeps no
// empty values).
func writeOrDelete(v string) write {
	if v == "" {
		return write{del: true}
	}
	return write{value: v}
}

func (d *differ) mib(key string, want format.Size) {
	n, err := wholeMiB(want)
	if err != nil {
		d.errs = append(d.errs, key+": "+err.Error())
		return
	}
	v := strconv.FormatInt(n, 10)
	d.compare(key, scalar(key, v, humanMiB(n), write{value: v}, canons[key]), nil)
}

// sub is one key of a property string: its path, whether the spec names it,
// whether live and desired mean the same, and both forms for people.
type sub struct {
	path          string
	live, desired string
	liveSet       bool
	equal         bool
}

// subFields turns subs into fields.
func subFields(subs []sub) []field {
	var out []field
	for _, s := range subs {
		op := plan.OpUpdate
		if !s.liveSet {
			op = plan.OpAdd
		}
		out = append(out, field{path: s.path, op: op, before: s.live, after: s.desired, same: s.equal})
	}
	return out
}

func intPtrString(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func intPtrEqual(a, b *int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// parseLive parses a live property-string value with parse, or gives T's
// zero value (every key unset) when the key is absent from the config.
func parseLive[T any](raw string, present bool, parse func(string) (T, error)) (T, error) {
	var live T
	if !present {
		return live, nil
	}
	live, err := parse(raw)
	if err != nil {
		return live, fmt.Errorf("live value %q: %w", raw, err)
	}
	return live, nil
}

// startup plans the startup property string key by key; keys the spec does
// not name keep their live value.
func (d *differ) startup() builder {
	want := *d.s.Startup
	return func(raw string, present bool) (write, []field, error) {
		live, err := parseLive(raw, present, format.ParseStartup)
		if err != nil {
			return write{}, nil, err
		}
		merged := live
		var subs []sub
		for _, k := range []struct {
			name       string
			want, live *int
			dst        **int
		}{
			{"order", want.Order, live.Order, &merged.Order},
			{"up", want.Up, live.Up, &merged.Up},
			{"down", want.Down, live.Down, &merged.Down},
		} {
			if k.want == nil {
				continue
			}
			subs = append(subs, sub{path: "startup." + k.name, live: intPtrString(k.live), desired: intPtrString(k.want),
				liveSet: k.live != nil, equal: intPtrEqual(k.live, k.want)})
			*k.dst = k.want
		}
		return writeOrDelete(merged.String()), subFields(subs), nil
	}
}
