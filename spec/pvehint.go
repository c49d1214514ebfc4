package spec

import (
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// PVE admins often paste what `pct config` prints. These helpers turn such a
// value into the spec's form for the hint of a type error, so the fix can be
// copied: "bridge=vmbr0,ip=dhcp" becomes "{bridge: vmbr0, ip: dhcp}" and
// "prod;web" becomes "[prod, web]". The value is read by pve/format's
// parsers, so a hint is offered only for what PVE itself would accept.

// propertyStringHint rewrites a PVE property string written where the spec
// wants a mapping (at key: rootfs, mpN, netN, features or startup), or
// returns "" when s is not a valid value of that option.
func propertyStringHint(key, s string) string {
	f := hintFields{}
	var lead []string // what the default key (the volume) becomes
	switch {
	case key == "rootfs":
		r, err := format.ParseRootFS(s)
		if err != nil {
			return ""
		}
		if lead = volumeHint(key, r.Volume, r.NewVolume); lead == nil {
			return ""
		}
		f.rootFS(r)
	case format.IsSlot(key, "mp"):
		m, err := format.ParseMountPoint(s)
		if err != nil {
			return ""
		}
		if lead = volumeHint(key, m.Volume, m.NewVolume); lead == nil {
			return ""
		}
		f.rootFS(format.RootFS{Size: m.Size, ACL: m.ACL, MountOptions: m.MountOptions, Quota: m.Quota,
			Replicate: m.Replicate, RO: m.RO, Shared: m.Shared})
		f.str("mp", m.MP)
		f.bool("backup", m.Backup)
		f.bool("keepattrs", m.KeepAttrs)
	case format.IsSlot(key, "net"):
		n, err := format.ParseNet(s)
		if err != nil {
			return ""
		}
		f.str("name", n.Name)
		f.str("bridge", n.Bridge)
		f.bool("firewall", n.Firewall)
		f.str("gw", n.GW)
		f.str("gw6", n.GW6)
		f.bool("host-managed", n.HostManaged)
		f.str("hwaddr", n.HWAddr)
		f.str("ip", n.IP)
		f.str("ip6", n.IP6)
		f.bool("link_down", n.LinkDown)
		f.int("mtu", n.MTU)
		if n.Rate != nil {
			f["rate"] = strconv.FormatFloat(*n.Rate, 'f', -1, 64)
		}
		f.int("tag", n.Tag)
		if n.Trunks != nil {
			t := make([]string, len(n.Trunks))
			for i, v := range n.Trunks {
				t[i] = strconv.Itoa(v)
			}
			f["trunks"] = "[" + strings.Join(t, ", ") + "]"
		}
		// type=veth is the only type; the spec has no key for it.
	case key == "features":
		ft, err := format.ParseFeatures(s)
		if err != nil {
			return ""
		}
		f.bool("force_rw_sys", ft.ForceRWSys)
		f.bool("fuse", ft.Fuse)
		f.bool("keyctl", ft.Keyctl)
		f.bool("mknod", ft.Mknod)
		f.list("mount", ft.Mount)
		f.bool("nesting", ft.Nesting)
	case key == "startup":
		st, err := format.ParseStartup(s)
		if err != nil {
			return ""
		}
		f.int("order", st.Order)
		f.int("up", st.Up)
		f.int("down", st.Down)
	default:
		return ""
	}
	return "{" + strings.Join(append(lead, f.inOrder(s)...), ", ") + "}"
}

// volumeHint turns the volume (the default key of rootfs and mpN) into the
// spec's source keys: storage + size for a new volume (STORAGE:SIZE in GiB),
// device or bind for a host path, the storage alone for an existing rootfs
// volume (the spec names where rootfs lives, not its volume), volume for an
// existing mount point volume. It returns nil when vol is none of these.
func volumeHint(key, vol string, newVolume func() (string, format.Size, bool)) []string {
	if storage, size, ok := newVolume(); ok {
		return []string{"storage: " + storage, "size: " + size.GiBString() + "G"}
	}
	switch format.Classify(vol) {
	case format.Device:
		return []string{"device: " + vol}
	case format.Bind:
		return []string{"bind: " + vol}
	}
	storage, _, ok := strings.Cut(vol, ":")
	switch {
	case !ok:
		return nil
	case key == "rootfs":
		return []string{"storage: " + storage}
	}
	return []string{"volume: " + vol}
}

// hintFields holds the spec key and YAML value of each key a property
// string set.
type hintFields map[string]string

func (f hintFields) rootFS(r format.RootFS) {
	if r.Size != nil {
		f["size"] = r.Size.String()
	}
	f.bool("acl", r.ACL)
	f.list("mountoptions", r.MountOptions)
	f.bool("quota", r.Quota)
	f.bool("replicate", r.Replicate)
	f.bool("ro", r.RO)
	f.bool("shared", r.Shared)
}

func (f hintFields) str(k, v string) {
	if v == "" {
		return
	}
	if needsQuotes(v) && !plainNumberRE.MatchString(v) {
		v = strconv.Quote(v)
	}
	f[k] = v
}

func (f hintFields) bool(k string, v *bool) {
	if v != nil {
		f[k] = strconv.FormatBool(*v)
	}
}

func (f hintFields) int(k string, v *int) {
	if v != nil {
		f[k] = strconv.Itoa(*v)
	}
}

func (f hintFields) list(k string, l []string) {
	if l != nil {
		f[k] = "[" + strings.Join(l, ", ") + "]"
	}
}

// inOrder renders the fields as "key: value" in the order the property
// string s wrote their keys (the parsers keep values, not order), any key
// written bare first (startup's order).
func (f hintFields) inOrder(s string) []string {
	var out []string
	add := func(k string) {
		if v, ok := f[k]; ok {
			out = append(out, k+": "+v)
			delete(f, k)
		}
	}
	for _, item := range strings.Split(s, ",") {
		k, _, hasKey := strings.Cut(item, "=")
		if !hasKey {
			add("order") // startup's default key; the volume is handled apart
			continue
		}
		add(k)
	}
	return out
}

// listHint rewrites a string written where the spec wants a list, split as
// PVE splits lists (format.SplitWords: at ',', ';' and white space). One item
// gives a one-item list, "one" -> "[one]".
func listHint(s string) string {
	return "[" + strings.Join(format.SplitWords(s), ", ") + "]"
}
