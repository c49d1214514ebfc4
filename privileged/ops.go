package privileged

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// Op is one kind of root-only config write that `pct set` carries.
type Op string

// The operations. Each names the PVE check that keeps it from API tokens.
const (
	// OpBindMount: mpN whose volume is an absolute host directory.
	// pve-container src/PVE/LXC.pm check_ct_modify_config_perm parses the
	// new rootfs/mpN value and raises "mount point type bind is only
	// allowed for root@pam" for every type other than volume.
	OpBindMount Op = "bind mount point"
	// OpDeviceMount: mpN whose volume is a host block device under /dev.
	// Same check: "mount point type device is only allowed for root@pam".
	OpDeviceMount Op = "device mount point"
	// OpDevice: devN passthrough. check_ct_modify_config_perm raises
	// "configuring device passthrough is only allowed for root@pam" for
	// every dev\d+ key, set or deleted.
	OpDevice Op = "device passthrough"
	// OpFeatures: features other than nesting. check_ct_modify_config_perm
	// raises "changing feature flags for privileged container is only
	// allowed for root@pam" for any features write on a privileged
	// container and, on an unprivileged one, "changing feature flags
	// (except nesting) is only allowed for root@pam" when a flag other
	// than nesting changes.
	OpFeatures Op = "features"
	// OpHookscript: the hookscript. check_ct_modify_config_perm: "changing
	// the hookscript is only allowed for root@pam" ("For now this is
	// restricted to root@pam").
	OpHookscript Op = "hookscript"
)

// KeyOp returns the operation that writes config key with value (set) or
// deletes it (del): the root-only keys. ok is false for a key the API may
// write (a volume mount point, memory...), which this backend refuses to
// carry, and for raw lxc.* keys, which `pct set` cannot write (see the
// package doc). Only the key and, for mpN, the value's type decide; the
// value is checked by Check.
func KeyOp(key, value string, del bool) (Op, bool) {
	switch {
	case key == "features":
		return OpFeatures, true
	case key == "hookscript":
		return OpHookscript, true
	case indexed(key, "dev", 255):
		return OpDevice, true
	case indexed(key, "mp", 255) && !del:
		switch format.Classify(mountVolume(value)) {
		case format.Bind:
			return OpBindMount, true
		case format.Device:
			return OpDeviceMount, true
		}
	}
	return "", false
}

// mountVolume is the volume part of an mpN value (the default key, or
// volume=).
func mountVolume(value string) string {
	first, _, _ := strings.Cut(value, ",")
	if v, ok := strings.CutPrefix(first, "volume="); ok {
		return v
	}
	return first
}

// indexed reports whether key is prefix followed by a number 0..max
// without leading zeros (PVE's mp[n], dev[n]; format.Slot).
func indexed(key, prefix string, max int) bool {
	p, n, ok := format.Slot(key)
	return ok && p == prefix && n <= max
}

// ValueError is a value the backend refuses before running anything: it
// does not parse as PVE's format, or it is not a root-only write.
type ValueError struct {
	Key string // the config key
	Msg string // what is wrong
}

func (e *ValueError) Error() string { return e.Key + ": " + e.Msg }

// digestRE is a config digest as PVE prints it: the SHA1 of the config
// file, 40 lower-case hex digits.
var digestRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// check parses one value by the format of its key (pve/format) and
// returns the operation it is.
func check(key, value string) (Op, error) {
	if strings.ContainsAny(value, "\x00\n\r") {
		return "", &ValueError{Key: key, Msg: "value holds a NUL or line break, which a PVE config cannot"}
	}
	op, ok := KeyOp(key, value, false)
	if !ok {
		return "", notRootOnly(key)
	}
	switch op {
	case OpBindMount, OpDeviceMount:
		m, err := format.ParseMountPoint(value)
		if err != nil {
			return "", &ValueError{Key: key, Msg: err.Error()}
		}
		if m.MP == "" {
			return "", &ValueError{Key: key, Msg: "a mount point needs mp (the path in the container)"}
		}
	case OpDevice:
		d, err := format.ParseDev(value)
		if err != nil {
			return "", &ValueError{Key: key, Msg: err.Error()}
		}
		// pve-container src/PVE/LXC/Config.pm parse_device.
		if d.Path == "" {
			return "", &ValueError{Key: key, Msg: "Path has to be defined"}
		}
	case OpFeatures:
		if _, err := format.ParseFeatures(value); err != nil {
			return "", &ValueError{Key: key, Msg: err.Error()}
		}
	case OpHookscript:
		// pve-guest-common PVE/GuestHelpers.pm check_hookscript: a volume
		// of content type snippets; PVE itself then checks that the
		// script exists and is executable.
		_, volname, err := format.ParseVolumeID(value)
		if err != nil {
			return "", &ValueError{Key: key, Msg: err.Error()}
		}
		if !strings.HasPrefix(volname, "snippets/") || volname == "snippets/" {
			return "", &ValueError{Key: key, Msg: fmt.Sprintf("'%s' is not in the snippets directory", value)}
		}
	}
	return op, nil
}

func notRootOnly(key string) error {
	if strings.HasPrefix(key, "lxc.") || key == "lxc" {
		return &ValueError{Key: key, Msg: "raw lxc.* keys have no pct set option; they live only in /etc/pve/lxc/VMID.conf, which felhom does not edit"}
	}
	return &ValueError{Key: key, Msg: "not a root-only write; it goes through the API"}
}

// checkDelete checks one key to delete: a config id whose deletion needs
// root (devN, features, hookscript). Deleting a mount point needs only
// VM.Config.Disk, so it goes through the API.
func checkDelete(key string) error {
	if !format.IsConfigID(key) {
		return &ValueError{Key: key, Msg: "not a PVE config key"}
	}
	if _, ok := KeyOp(key, "", true); ok {
		return nil
	}
	return notRootOnly(key)
}
