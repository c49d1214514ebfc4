package pvesim

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/prune"
)

// Parameter validation as PVE's RESTHandler does it before a handler runs
// (pve-common src/PVE/JSONSchema.pm validate, check_object, check_prop,
// check_type, check_format; messages verbatim). Every endpoint has a table
// of its parameters, cross-checked against the official schema by
// TestParamTablesMatchSchema.

type ptype string

const (
	tString  ptype = "string"
	tInteger ptype = "integer"
	tNumber  ptype = "number"
	tBoolean ptype = "boolean"
	// tArray is a list parameter (a repeated form field); its items are not
	// checked.
	tArray ptype = "array"
)

// param is one parameter of an endpoint, as in the API schema.
type param struct {
	name string // "mp[n]" for an indexed family (see count)
	typ  ptype
	opt  bool
	// format is the schema's format name: a registered format
	// (pve-node, pve-configid-list, ...) or, for property strings, the
	// schema's inline format object, named here by the parameter family
	// (rootfs, mp, net, features, dev, unused, prune-backups, ...).
	format   string
	enum     []string
	pattern  string
	min, max *float64
	maxLen   int
	minLen   int
	requires string
	count    int // for name "x[n]": x0 .. x<count-1>
}

func num(v float64) *float64 { return &v }

// Common parameters.
var (
	pNode     = param{name: "node", typ: tString, format: "pve-node"}
	pVMID     = param{name: "vmid", typ: tInteger, format: "pve-vmid", min: num(100), max: num(999999999)}
	pStorage  = param{name: "storage", typ: tString, format: "pve-storage-id"}
	pSnapname = param{name: "snapname", typ: tString, format: "pve-configid", maxLen: 40}
	pUPID     = param{name: "upid", typ: tString}
)

// ctOptions are the container options PUT config and create share
// (pve-container src/PVE/LXC/Config.pm $confdesc).
var ctOptions = []param{
	{name: "arch", typ: tString, opt: true, enum: []string{"amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"}},
	{name: "cmode", typ: tString, opt: true, enum: []string{"shell", "console", "tty"}},
	{name: "console", typ: tBoolean, opt: true},
	{name: "cores", typ: tInteger, opt: true, min: num(1), max: num(8192)},
	{name: "cpulimit", typ: tNumber, opt: true, min: num(0), max: num(8192)},
	{name: "cpuunits", typ: tInteger, opt: true, min: num(0), max: num(500000)},
	{name: "debug", typ: tBoolean, opt: true},
	{name: "description", typ: tString, opt: true, maxLen: 8192},
	{name: "dev[n]", typ: tString, opt: true, format: "dev", count: 256},
	{name: "entrypoint", typ: tString, opt: true, pattern: `(?:[^\x00-\x08\x10-\x1F\x7F]+)`},
	{name: "env", typ: tString, opt: true, pattern: `(?:(?:\w+=[^\x00-\x08\x10-\x1F\x7F]*)(?:\0\w+=[^\x00-\x08\x10-\x1F\x7F]*)*)`},
	{name: "features", typ: tString, opt: true, format: "features"},
	{name: "hookscript", typ: tString, opt: true, format: "pve-volume-id"},
	{name: "hostname", typ: tString, opt: true, format: "dns-name", maxLen: 255},
	{name: "lock", typ: tString, opt: true, enum: []string{"backup", "create", "destroyed", "disk", "fstrim", "migrate", "mounted", "rollback", "snapshot", "snapshot-delete"}},
	{name: "memory", typ: tInteger, opt: true, min: num(16)},
	{name: "mp[n]", typ: tString, opt: true, format: "mp", count: 256},
	{name: "nameserver", typ: tString, opt: true, format: "lxc-ip-with-ll-iface-list"},
	{name: "net[n]", typ: tString, opt: true, format: "net", count: 32},
	{name: "onboot", typ: tBoolean, opt: true},
	{name: "ostype", typ: tString, opt: true, enum: []string{"debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine", "gentoo", "nixos", "unmanaged"}},
	{name: "protection", typ: tBoolean, opt: true},
	{name: "rootfs", typ: tString, opt: true, format: "rootfs"},
	{name: "searchdomain", typ: tString, opt: true, format: "dns-name-list"},
	{name: "startup", typ: tString, opt: true, format: "pve-startup-order"},
	{name: "swap", typ: tInteger, opt: true, min: num(0)},
	{name: "tags", typ: tString, opt: true, format: "pve-tag-list"},
	{name: "template", typ: tBoolean, opt: true},
	{name: "timezone", typ: tString, opt: true, format: "pve-ct-timezone"},
	{name: "tty", typ: tInteger, opt: true, min: num(0), max: num(6)},
	{name: "unprivileged", typ: tBoolean, opt: true},
	{name: "unused[n]", typ: tString, opt: true, format: "unused", count: 256},
}

func withParams(base []param, more ...param) []param {
	out := append([]param{}, base...)
	return append(out, more...)
}

// vzdumpParams are POST /nodes/{node}/vzdump's parameters (pve-manager
// PVE/API2/VZDump.pm, pve-guest-common PVE/VZDump/Common.pm $confdesc).
var vzdumpParams = []param{
	{name: "all", typ: tBoolean, opt: true},
	{name: "bwlimit", typ: tInteger, opt: true, min: num(0)},
	{name: "compress", typ: tString, opt: true, enum: []string{"0", "1", "gzip", "lzo", "zstd"}},
	{name: "dumpdir", typ: tString, opt: true},
	{name: "exclude", typ: tString, opt: true, format: "pve-vmid-list"},
	{name: "exclude-path", typ: tArray, opt: true},
	{name: "fleecing", typ: tString, opt: true, format: "backup-fleecing"},
	{name: "ionice", typ: tInteger, opt: true, min: num(0), max: num(8)},
	{name: "job-id", typ: tString, opt: true, pattern: `\S+`, maxLen: 50},
	{name: "lockwait", typ: tInteger, opt: true, min: num(0)},
	{name: "mailnotification", typ: tString, opt: true, enum: []string{"always", "failure"}},
	{name: "mailto", typ: tString, opt: true, format: "email-or-username-list"},
	{name: "maxfiles", typ: tInteger, opt: true, min: num(1)},
	{name: "mode", typ: tString, opt: true, enum: []string{"snapshot", "suspend", "stop"}},
	{name: "node", typ: tString, opt: true, format: "pve-node"},
	{name: "notes-template", typ: tString, opt: true, maxLen: 1024, requires: "storage"},
	{name: "notification-mode", typ: tString, opt: true, enum: []string{"auto", "legacy-sendmail", "notification-system"}},
	{name: "pbs-change-detection-mode", typ: tString, opt: true, enum: []string{"legacy", "data", "metadata"}},
	{name: "performance", typ: tString, opt: true, format: "backup-performance"},
	{name: "pigz", typ: tInteger, opt: true},
	{name: "pool", typ: tString, opt: true},
	{name: "protected", typ: tBoolean, opt: true, requires: "storage"},
	{name: "prune-backups", typ: tString, opt: true, format: "prune-backups"},
	{name: "quiet", typ: tBoolean, opt: true},
	{name: "remove", typ: tBoolean, opt: true},
	{name: "script", typ: tString, opt: true},
	{name: "stdexcludes", typ: tBoolean, opt: true},
	{name: "stdout", typ: tBoolean, opt: true},
	{name: "stop", typ: tBoolean, opt: true},
	{name: "stopwait", typ: tInteger, opt: true, min: num(0)},
	{name: "storage", typ: tString, opt: true, format: "pve-storage-id"},
	{name: "tmpdir", typ: tString, opt: true},
	{name: "vmid", typ: tString, opt: true, format: "pve-vmid-list"},
	{name: "zstd", typ: tInteger, opt: true},
}

var pruneParams = []param{
	pNode, pStorage,
	{name: "prune-backups", typ: tString, opt: true, format: "prune-backups"},
	{name: "type", typ: tString, opt: true, enum: []string{"qemu", "lxc"}},
	{name: "vmid", typ: tInteger, opt: true, format: "pve-vmid", min: num(100), max: num(999999999)},
}

// diskEnum is resize's disk enum: rootfs, mp0..mp255.
var diskEnum = func() []string {
	out := []string{"rootfs"}
	for i := 0; i < 256; i++ {
		out = append(out, "mp"+strconv.Itoa(i))
	}
	return out
}()

// validate checks params against the table as PVE's validate does and
// returns the per-parameter messages (nil when all is well). Path
// parameters are in params too, as in PVE.
func validate(table []param, params map[string]string) map[string]string {
	errs := map[string]string{}
	known := map[string]bool{}
	for _, p := range table {
		if p.count > 0 {
			prefix := strings.TrimSuffix(p.name, "[n]")
			for k, v := range params {
				if i, ok := indexOf(k, prefix); ok && i < p.count {
					known[k] = true
					if msg := checkParam(p, k, v); msg != "" {
						errs[k] = msg
					}
				}
			}
			continue
		}
		known[p.name] = true
		v, set := params[p.name]
		if !set {
			if !p.opt {
				errs[p.name] = "property is missing and it is not optional"
			}
			continue
		}
		if msg := checkParam(p, p.name, v); msg != "" {
			errs[p.name] = msg
			continue
		}
		if p.requires != "" {
			if _, ok := params[p.requires]; !ok {
				errs[p.requires] = "missing property required by '" + p.name + "'"
			}
		}
	}
	for k := range params {
		if !known[k] {
			errs[k] = "property is not defined in schema and the schema does not allow additional properties"
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// indexOf parses "mp12" with prefix "mp" as 12.
func indexOf(key, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || rest == "" || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// patterns caches the compiled, anchored parameter patterns (check_prop
// matches m/^$pattern$/).
var patterns sync.Map

func anchored(pattern string) *regexp.Regexp {
	if re, ok := patterns.Load(pattern); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(`^(?:` + pattern + `)$`)
	patterns.Store(pattern, re)
	return re
}

// checkParam is check_prop for one present scalar parameter
// (format.Prop.Check) with the simulator's format checks.
func checkParam(p param, name, v string) string {
	prop := format.Prop{Type: string(p.typ), MaxLength: p.maxLen, MinLength: p.minLen, Minimum: p.min, Maximum: p.max, Enum: p.enum}
	if p.format != "" {
		prop.Format = func(v string) string { return checkFormat(p.format, name, v) }
	}
	if p.pattern != "" {
		prop.Pattern = anchored(p.pattern)
	}
	return prop.Check(v)
}

var (
	vmidRE    = regexp.MustCompile(`^[1-9][0-9]{2,8}$`)
	dnsNameRE = regexp.MustCompile(`^(([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$`)
	tagRE     = regexp.MustCompile(`(?i)^[a-z0-9_][a-z0-9_\-+.]*$`)
	idChars   = regexp.MustCompile(`(?i)^[a-z][a-z0-9\-_.]*[a-z0-9]$`)
)

// checkFormat is check_format: the registered format validators (their
// die messages, prefixed "invalid format - " as check_prop does) and the
// property-string formats through pve/format.
func checkFormat(fmtName, name, v string) string {
	if base, ok := strings.CutSuffix(fmtName, "-list"); ok && base != "pve-tag" && base != "dns-name" && base != "lxc-ip-with-ll-iface" {
		for _, item := range format.SplitList(v) {
			if msg := simpleFormat(base, item); msg != "" {
				return "invalid format - " + msg + "\n"
			}
		}
		return ""
	}
	switch fmtName {
	case "rootfs", "mp", "net", "features", "dev", "unused", "prune-backups", "backup-fleecing", "backup-performance":
		return propertyFormat(fmtName, name, v)
	}
	if msg := simpleFormat(fmtName, v); msg != "" {
		return "invalid format - " + msg + "\n"
	}
	return ""
}

// simpleFormat returns the die message of a registered format validator
// ("" when v is valid). Formats the simulator does not check accept any
// value (listed in README.md).
func simpleFormat(name, v string) string {
	switch name {
	case "pve-node":
		if !nodeNameRE.MatchString(v) {
			return "value does not look like a valid node name"
		}
	case "pve-vmid":
		if !vmidRE.MatchString(v) {
			return "value does not look like a valid VM ID"
		}
	case "pve-configid":
		if !format.IsConfigID(v) {
			return "invalid configuration ID '" + v + "'"
		}
	case "pve-storage-id":
		if len(v) < 2 {
			return "storage ID '" + v + "' cannot be shorter than 2 characters"
		}
		if !idChars.MatchString(v) {
			return "storage ID '" + v + "' contains illegal characters"
		}
	case "dns-name":
		if !dnsNameRE.MatchString(v) {
			return "value does not look like a valid DNS name"
		}
	case "dns-name-list":
		for _, item := range format.SplitList(v) {
			if !dnsNameRE.MatchString(item) {
				return "value does not look like a valid DNS name"
			}
		}
	case "pve-tag-list":
		// pve-common PVE::Tools::split_list on ';', ',', ' ' and the tag regex.
		for _, t := range format.SplitList(v) {
			if !tagRE.MatchString(t) {
				return "invalid characters in tag"
			}
		}
	case "pve-volume-id":
		if _, _, err := format.ParseVolumeID(v); err != nil {
			return err.Error()
		}
	case "pve-startup-order":
		if _, err := format.ParseStartup(v); err != nil {
			return "unable to parse startup options"
		}
	case "pve-storage-content":
		if !contentTypes[v] {
			return "invalid content type '" + v + "'"
		}
	}
	return ""
}

// propertyFormat validates a property string through pve/format (the
// schema's inline format objects) and returns PVE's per-parameter text.
func propertyFormat(fmtName, name, v string) string {
	var err error
	switch fmtName {
	case "rootfs":
		_, err = format.ParseRootFS(v)
	case "mp":
		_, err = format.ParseMountPoint(v)
	case "net":
		_, err = format.ParseNet(v)
	case "features":
		_, err = format.ParseFeatures(v)
	case "dev":
		_, err = format.ParseDev(v)
	case "unused":
		if msg := keysOnly(v, name, map[string]bool{"volume": true}, "volume"); msg != "" {
			return msg
		}
		if msg := simpleFormat("pve-volume-id", strings.TrimPrefix(v, "volume=")); msg != "" {
			return "invalid format - format error\n" + name + ".volume: invalid format - " + msg + "\n"
		}
		return ""
	case "prune-backups":
		_, err := prune.ParseOptions(v)
		var oe *prune.OptionsError
		if errors.As(err, &oe) && oe.Msg == "" {
			keys := make([]string, 0, len(oe.Keys))
			for k := range oe.Keys {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			msg := "invalid format - format error\n"
			for _, k := range keys {
				msg += name + "." + k + ": " + oe.Keys[k] + "\n"
			}
			return msg
		}
		if errors.As(err, &oe) {
			return "invalid format - " + oe.Msg + "\n"
		}
		if err != nil {
			return "invalid format - " + err.Error() + "\n"
		}
		return ""
	case "backup-fleecing":
		return keysOnly(v, name, map[string]bool{"enabled": true, "storage": true}, "enabled")
	case "backup-performance":
		return keysOnly(v, name, map[string]bool{"max-workers": true, "pbs-entries-max": true}, "")
	}
	if err == nil {
		return ""
	}
	var fe *format.Error
	if errors.As(err, &fe) {
		return fe.PVEMessage(name)
	}
	return "invalid format - " + err.Error() + "\n"
}

// keysOnly checks that a property string uses only the given keys (for the
// vzdump formats the simulator does not model beyond their keys).
func keysOnly(v, name string, keys map[string]bool, defaultKey string) string {
	for _, part := range strings.Split(v, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, _, hasEq := strings.Cut(part, "=")
		if !hasEq {
			if defaultKey == "" {
				return "invalid format - value without key, but schema does not define a default key\n"
			}
			continue
		}
		if !keys[k] {
			return "invalid format - invalid key in comma-separated list property: " + k + "\n"
		}
	}
	return ""
}
