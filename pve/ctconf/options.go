package ctconf

import (
	"errors"
	"regexp"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// optType is the schema type of a config option ($confdesc in pve-container
// src/PVE/LXC/Config.pm).
type optType int

const (
	typeString optType = iota
	typeBoolean
	typeInteger
	typeNumber
)

// fixedOptions are the non-indexed keys of $confdesc with their types.
var fixedOptions = map[string]optType{
	"lock": typeString, "onboot": typeBoolean, "startup": typeString, "template": typeBoolean,
	"arch": typeString, "ostype": typeString, "console": typeBoolean, "tty": typeInteger,
	"cores": typeInteger, "cpulimit": typeNumber, "cpuunits": typeInteger, "memory": typeInteger,
	"swap": typeInteger, "hostname": typeString, "description": typeString,
	"searchdomain": typeString, "nameserver": typeString, "timezone": typeString,
	"rootfs": typeString, "parent": typeString, "snaptime": typeInteger, "cmode": typeString,
	"entrypoint": typeString, "protection": typeBoolean, "unprivileged": typeBoolean,
	"features": typeString, "env": typeString, "hookscript": typeString, "tags": typeString,
	"debug": typeBoolean,
}

// The indexed keys of $confdesc and their counts ($MAX_LXC_NETWORKS,
// $MAX_MOUNT_POINTS, $MAX_UNUSED_DISKS, $MAX_DEVICES).
const (
	maxNets        = 32
	maxMountPoints = 256
	maxUnused      = 256
	maxDevices     = 256
)

// indexed splits "mp3" into ("mp", 3) (format.Slot).
func indexed(key string) (prefix string, n int, ok bool) { return format.Slot(key) }

// OptionExists reports whether key is a container config option
// (PVE::LXC::Config::option_exists: a key of $confdesc).
func OptionExists(key string) bool {
	if _, ok := fixedOptions[key]; ok {
		return true
	}
	prefix, n, ok := indexed(key)
	if !ok {
		return false
	}
	switch prefix {
	case "net":
		return n < maxNets
	case "mp":
		return n < maxMountPoints
	case "unused":
		return n < maxUnused
	case "dev":
		return n < maxDevices
	}
	return false
}

// Settable reports whether key may be set through the API (PUT config):
// every option except parent and snaptime (json_config_properties).
func Settable(key string) bool {
	return OptionExists(key) && key != "parent" && key != "snaptime"
}

// OptionType returns the schema type of a config option as PVE's schema
// names it ("string", "boolean", "integer" or "number"; $confdesc), and
// false for a key that is no option. Indexed options are strings.
func OptionType(key string) (string, bool) {
	t, ok := optionType(key)
	if !ok {
		return "", false
	}
	return [...]string{typeString: "string", typeBoolean: "boolean", typeInteger: "integer", typeNumber: "number"}[t], true
}

func optionType(key string) (optType, bool) {
	if t, ok := fixedOptions[key]; ok {
		return t, true
	}
	if OptionExists(key) {
		return typeString, true
	}
	return 0, false
}

var (
	intRE    = regexp.MustCompile(`^(\d+)$`)
	numberRE = regexp.MustCompile(`^(\d+)(\.\d+)?$`)
	boolTrue = regexp.MustCompile(`(?i)^(on|yes|true)$`)
	boolFals = regexp.MustCompile(`(?i)^(off|no|false)$`)
)

// checkType is PVE::LXC::Config::check_type as the parser uses it: it
// returns the normalised value (booleans as 1/0, integers without leading
// zeros) or PVE's message. Format checks of string options are left to the
// API layer.
func checkType(key, value string) (string, error) {
	t, ok := optionType(key)
	if !ok {
		return "", errors.New("unknown setting '" + key + "'")
	}
	if strings.ContainsAny(value, "\n\r") {
		return "", errors.New("property contains a line feed")
	}
	switch t {
	case typeBoolean:
		if value == "1" || boolTrue.MatchString(value) {
			return "1", nil
		}
		if value == "0" || boolFals.MatchString(value) {
			return "0", nil
		}
		return "", errors.New("type check ('boolean') failed - got '" + value + "'")
	case typeInteger:
		if !intRE.MatchString(value) {
			return "", errors.New("type check ('integer') failed - got '" + value + "'")
		}
		trimmed := strings.TrimLeft(value, "0")
		if trimmed == "" {
			trimmed = "0"
		}
		return trimmed, nil
	case typeNumber:
		if !numberRE.MatchString(value) {
			return "", errors.New("type check ('number') failed - got '" + value + "'")
		}
	}
	return value, nil
}

// fastplug is $LXC_FASTPLUG_OPTIONS (vmconfig_hotplug_pending): keys a
// running container takes into its config at once, with no live action.
var fastplug = map[string]bool{
	"description": true, "onboot": true, "startup": true, "protection": true,
	"hostname": true, "hookscript": true, "cores": true, "tags": true, "lock": true,
}

// HotPluggable reports whether PVE applies a new value of key to a running
// container at once, rather than keeping it in [pve:pending] until the next
// start or reboot. f is the container's config (nil means an empty one).
// The table is vmconfig_hotplug_pending (pve-container src/PVE/LXC/Config.pm):
//
//   - fastplug keys, config only: description onboot startup protection
//     hostname hookscript cores tags lock;
//   - cgroup and netlink: cpulimit cpuunits memory swap netN;
//   - mpN and devN only when the key is not in the config yet (a new mount
//     point or device is hot-plugged; changing one is not);
//   - everything else (rootfs, an existing mpN/devN, nameserver,
//     searchdomain, features, timezone, ostype, arch, tty, console, cmode,
//     entrypoint, env, debug, unprivileged...) stays pending.
func HotPluggable(key string, f *File) bool {
	if fastplug[key] {
		return true
	}
	switch key {
	case "cpulimit", "cpuunits", "memory", "swap":
		return true
	}
	prefix, _, ok := indexed(key)
	if !ok || !OptionExists(key) {
		return false
	}
	switch prefix {
	case "net":
		return true
	case "mp", "dev":
		if f == nil {
			return true
		}
		_, exists := f.Main.values[key]
		return !exists
	}
	return false
}

// netDeleteRE is the pattern vmconfig_hotplug_pending uses for deletes of
// network interfaces: m/^net(\d)$/, a single digit, so a delete of net10 to
// net31 stays pending on a running container.
var netDeleteRE = regexp.MustCompile(`^net(\d)$`)

// DeleteHotPluggable reports whether PVE applies a delete of key to a
// running container at once (vmconfig_hotplug_pending): the fastplug keys,
// unusedN (the volume is destroyed), swap, cpulimit, cpuunits and net0 to
// net9. Every other delete (mpN, devN, rootfs, memory...) stays pending.
func DeleteHotPluggable(key string) bool {
	if fastplug[key] {
		return true
	}
	switch key {
	case "swap", "cpulimit", "cpuunits":
		return true
	}
	if netDeleteRE.MatchString(key) {
		return true
	}
	prefix, _, ok := indexed(key)
	return ok && prefix == "unused" && OptionExists(key)
}
