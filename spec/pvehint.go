package spec

import (
	"regexp"
	"strings"
)

// PVE admins often paste what `pct config` prints. These helpers turn such a
// value into the spec's form for the hint of a type error, so the fix can be
// copied: "bridge=vmbr0,ip=dhcp" becomes "{bridge: vmbr0, ip: dhcp}" and
// "prod;web" becomes "[prod, web]".

// pveBoolKeys are property-string keys whose 0/1 values are booleans.
var pveBoolKeys = map[string]bool{
	"firewall": true, "link_down": true, "acl": true, "quota": true, "replicate": true, "ro": true,
	"shared": true, "backup": true, "nesting": true, "keyctl": true, "fuse": true, "mknod": true, "force_rw_sys": true,
}

var newVolumeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]):([0-9]+(\.[0-9]+)?)$`)

// propertyStringHint rewrites a PVE property string written where the spec
// wants a mapping (at key), or returns "" when s does not look like one.
func propertyStringHint(key, s string) string {
	if !strings.Contains(s, "=") && !strings.Contains(s, ":") {
		return ""
	}
	var parts []string
	for i, item := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			if i != 0 {
				return ""
			}
			// The default key of rootfs and mpN: a volume, a new volume
			// (storage:size in GiB) or a host path.
			switch m := newVolumeRE.FindStringSubmatch(item); {
			case m != nil:
				parts = append(parts, "storage: "+m[1], "size: "+m[2]+"G")
			case strings.HasPrefix(item, "/dev/"):
				parts = append(parts, "device: "+item)
			case strings.HasPrefix(item, "/"):
				parts = append(parts, "bind: "+item)
			case strings.Contains(item, ":") && key == "rootfs":
				storage, _, _ := strings.Cut(item, ":")
				parts = append(parts, "storage: "+storage) // the spec names the storage, not the volume
			case strings.Contains(item, ":"):
				parts = append(parts, "volume: "+item)
			default:
				return ""
			}
			continue
		}
		switch {
		case k == "type" && v == "veth":
			continue // the only type; the spec has no key for it
		case k == "volume":
			parts = append(parts, "volume: "+v)
		case k == "trunks" || k == "mountoptions" || k == "mount":
			parts = append(parts, k+": ["+strings.Join(strings.Split(v, ";"), ", ")+"]")
		case pveBoolKeys[k] && (v == "1" || v == "0"):
			parts = append(parts, k+": "+map[string]string{"1": "true", "0": "false"}[v])
		default:
			if needsQuotes(v) && !plainNumberRE.MatchString(v) {
				v = `"` + v + `"`
			}
			parts = append(parts, k+": "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// listHint rewrites a ;- or ,-separated string written where the spec wants
// a list, or returns "" when s holds one item only.
func listHint(s string) string {
	sep := ";"
	if !strings.Contains(s, sep) {
		sep = ","
	}
	items := strings.Split(s, sep)
	if len(items) < 2 {
		return "[" + strings.TrimSpace(s) + "]"
	}
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return "[" + strings.Join(items, ", ") + "]"
}
