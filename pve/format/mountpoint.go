package format

import (
	"regexp"
	"strings"
)

// MountKind classifies a mount point's volume as pve-container's
// PVE::LXC::Config::classify_mountpoint does.
type MountKind int

// Mount point kinds.
const (
	// Volume is a storage volume ("local-lvm:vm-100-disk-1") or a new
	// volume ("local-lvm:8").
	Volume MountKind = iota
	// Bind is a host directory: an absolute path not below /dev/.
	Bind
	// Device is a host block device: a path below /dev/.
	Device
)

// String returns PVE's name of the kind: "volume", "bind" or "device".
func (k MountKind) String() string {
	switch k {
	case Bind:
		return "bind"
	case Device:
		return "device"
	}
	return "volume"
}

// mountOptionRE is pve-container's $valid_mount_option_re, a qr// that
// Perl interpolates as "(?^:...)".
const mountOptionRE = `(?:(discard|lazytime|noatime|nodev|noexec|nosuid))`

// verifyMPString is pve-container's verify_lxc_mp_string (format
// pve-lxc-mp-string): no "/./" or "/../", no "/." or "/.." at the end, no
// "../" at the start.
func verifyMPString(v string) string {
	if strings.Contains(v, "/./") || strings.Contains(v, "/../") ||
		strings.HasSuffix(v, "/.") || strings.HasSuffix(v, "/..") ||
		strings.HasPrefix(v, "../") {
		return v + " contains illegal character sequences"
	}
	return ""
}

// verifyDiskSize is pve-common's pve_verify_disk_size (format disk-size).
func verifyDiskSize(v string) string {
	if _, err := ParseDiskSize(v); err != nil {
		return "value does not look like a valid disk size: " + v
	}
	return ""
}

// rootfsSchema is the format of the rootfs parameter in apidata.json
// (pve-container $rootfs_desc).
var rootfsSchema = schema{
	"volume":       {kind: kindString, defaultKey: true, format: "pve-lxc-mp-string"},
	"size":         {kind: kindString, optional: true, format: "disk-size"},
	"acl":          {kind: kindBool, optional: true},
	"mountoptions": {kind: kindString, optional: true, pattern: newPattern(`(?:` + mountOptionRE + `(;` + mountOptionRE + `)*)`)},
	"quota":        {kind: kindBool, optional: true},
	"replicate":    {kind: kindBool, optional: true, def: "1"},
	"ro":           {kind: kindBool, optional: true},
	"shared":       {kind: kindBool, optional: true, def: "0"},
}

// mpSchema is the format of mp[n] (pve-container $mp_desc): rootfs's keys
// plus mp (required), backup and keepattrs.
var mpSchema = func() schema {
	s := schema{
		"mp":        {kind: kindString, format: "pve-lxc-mp-string"},
		"backup":    {kind: kindBool, optional: true},
		"keepattrs": {kind: kindBool, optional: true, def: "0"},
	}
	for k, v := range rootfsSchema {
		s[k] = v
	}
	return s
}()

// RootFS is the rootfs value of a container config, such as
// "local-lvm:vm-100-disk-0,size=8G". Optional keys are nil (or empty) when
// not set.
type RootFS struct {
	// Volume is the default key: a volume id, the new-volume form
	// STORAGE:SIZE_IN_GiB, a host path (bind) or a /dev/ path (device).
	// Required.
	Volume string
	// Size is size= (read-only in PVE, written by PVE after allocation).
	Size *Size
	// ACL is acl=; unset means the file system's default, so it is
	// tri-state.
	ACL *bool
	// MountOptions are mountoptions= items ("noatime", "nodev", ...), in the
	// order given; ';'-separated in the string.
	MountOptions []string
	// Quota is quota=; unset means off.
	Quota *bool
	// Replicate is replicate=; unset means on (schema default 1).
	Replicate *bool
	// RO is ro=; unset means off.
	RO *bool
	// Shared is shared=; unset means off (schema default 0).
	Shared *bool
}

// MountPoint is an mpN value of a container config, such as
// "local-lvm:vm-100-disk-1,mp=/srv,backup=1,size=32G".
type MountPoint struct {
	// Volume is the default key, as in RootFS. Required.
	Volume string
	// MP is mp=, the path inside the container. Required.
	MP string
	// Size, ACL, MountOptions, Quota, Replicate, RO and Shared are as in
	// RootFS.
	Size         *Size
	ACL          *bool
	MountOptions []string
	Quota        *bool
	Replicate    *bool
	RO           *bool
	Shared       *bool
	// Backup is backup=; it has no schema default and vzdump skips a
	// mount point without backup=1, so unset means off.
	Backup *bool
	// KeepAttrs is keepattrs=; unset means off (schema default 0).
	KeepAttrs *bool
}

// parseRootFS reads RootFS's keys, which MountPoint shares, from a split
// rootfs or mpN value.
func parseRootFS(res map[string]string) (RootFS, error) {
	r := RootFS{
		Volume:    res["volume"],
		ACL:       boolPtr(res, "acl"),
		Quota:     boolPtr(res, "quota"),
		Replicate: boolPtr(res, "replicate"),
		RO:        boolPtr(res, "ro"),
		Shared:    boolPtr(res, "shared"),
	}
	if v, ok := res["size"]; ok {
		sz, err := ParseDiskSize(v)
		if err != nil {
			return RootFS{}, &Error{Key: "size", Value: v, Msg: "invalid format - value does not look like a valid disk size: " + v}
		}
		r.Size = &sz
	}
	if v, ok := res["mountoptions"]; ok {
		r.MountOptions = strings.Split(v, ";")
	}
	return r, nil
}

// print prints RootFS's keys, which MountPoint shares.
func (r RootFS) print(p *printer) {
	p.str("volume", r.Volume)
	if r.Size != nil {
		p.str("size", r.Size.String())
	}
	p.boolean("acl", r.ACL)
	p.str("mountoptions", strings.Join(r.MountOptions, ";"))
	p.boolean("quota", r.Quota)
	p.boolean("replicate", r.Replicate)
	p.boolean("ro", r.RO)
	p.boolean("shared", r.Shared)
}

// ParseRootFS parses a rootfs value. Unknown keys, bad values and a missing
// volume are *Error values naming the key.
func ParseRootFS(s string) (RootFS, error) {
	res, err := splitProperties(s, rootfsSchema)
	if err != nil {
		return RootFS{}, err
	}
	return parseRootFS(res)
}

// String prints r as PVE writes it (print_property_string): the volume
// first, then the other keys sorted; size as format_size prints it.
func (r RootFS) String() string {
	p := newPrinter(rootfsSchema)
	r.print(p)
	return p.String()
}

// Equal reports whether r and o mean the same: sizes compare in bytes,
// mount options as a set, and an unset key equals its default (replicate
// on; quota, ro, shared off). ACL is tri-state: unset differs from acl=0.
func (r RootFS) Equal(o RootFS) bool {
	return r.Volume == o.Volume &&
		ptrEqual(r.Size, o.Size) &&
		ptrEqual(r.ACL, o.ACL) &&
		setEqual(r.MountOptions, o.MountOptions) &&
		rootfsSchema.boolEqual("quota", r.Quota, o.Quota) &&
		rootfsSchema.boolEqual("replicate", r.Replicate, o.Replicate) &&
		rootfsSchema.boolEqual("ro", r.RO, o.RO) &&
		rootfsSchema.boolEqual("shared", r.Shared, o.Shared)
}

// Kind classifies the volume (classify_mountpoint).
func (r RootFS) Kind() MountKind { return Classify(r.Volume) }

// NewVolume reports whether the volume is the new-volume form STORAGE:SIZE
// (SIZE in GiB) and returns its parts.
func (r RootFS) NewVolume() (storage string, size Size, ok bool) {
	return newVolume(r.Volume)
}

// ParseMountPoint parses an mpN value. Unknown keys, bad values and a
// missing volume or mp are *Error values naming the key.
func ParseMountPoint(s string) (MountPoint, error) {
	res, err := splitProperties(s, mpSchema)
	if err != nil {
		return MountPoint{}, err
	}
	c, err := parseRootFS(res)
	if err != nil {
		return MountPoint{}, err
	}
	m := MountPoint{
		Volume: c.Volume, MP: res["mp"], Size: c.Size, ACL: c.ACL, MountOptions: c.MountOptions,
		Quota: c.Quota, Replicate: c.Replicate, RO: c.RO, Shared: c.Shared,
		Backup:    boolPtr(res, "backup"),
		KeepAttrs: boolPtr(res, "keepattrs"),
	}
	return m, nil
}

// rootFS returns the keys m shares with RootFS.
func (m MountPoint) rootFS() RootFS {
	return RootFS{Volume: m.Volume, Size: m.Size, ACL: m.ACL, MountOptions: m.MountOptions,
		Quota: m.Quota, Replicate: m.Replicate, RO: m.RO, Shared: m.Shared}
}

// String prints m as PVE writes it: the volume first, then mp (required),
// then the other keys sorted.
func (m MountPoint) String() string {
	p := newPrinter(mpSchema)
	m.rootFS().print(p)
	p.str("mp", m.MP)
	p.boolean("backup", m.Backup)
	p.boolean("keepattrs", m.KeepAttrs)
	return p.String()
}

// Equal reports whether m and o mean the same, as RootFS.Equal does; the mp
// paths compare as written, backup and keepattrs unset equal off.
func (m MountPoint) Equal(o MountPoint) bool {
	return m.rootFS().Equal(o.rootFS()) && m.MP == o.MP &&
		mpSchema.boolEqual("backup", m.Backup, o.Backup) &&
		mpSchema.boolEqual("keepattrs", m.KeepAttrs, o.KeepAttrs)
}

// Kind classifies the volume (classify_mountpoint).
func (m MountPoint) Kind() MountKind { return Classify(m.Volume) }

// NewVolume reports whether the volume is the new-volume form STORAGE:SIZE
// (SIZE in GiB) and returns its parts.
func (m MountPoint) NewVolume() (storage string, size Size, ok bool) {
	return newVolume(m.Volume)
}

// Classify classifies a mount point's volume (the default key of rootfs
// and mpN, or an unusedN value) as classify_mountpoint does: a path below
// /dev/ is a Device, another absolute path a Bind, anything else a Volume.
func Classify(vol string) MountKind {
	if strings.HasPrefix(vol, "/") {
		if strings.HasPrefix(vol, "/dev/") {
			return Device
		}
		return Bind
	}
	return Volume
}

// newDiskRE is pve-container's $NEW_DISK_RE (PVE::LXC).
var newDiskRE = regexp.MustCompile(`^([^:\s]+):(\d+(?:\.\d+)?)$`)

// IsNewVolume reports whether vol, a mount point's volume, has the
// new-volume form STORAGE:SIZE: it matches pve-container's $NEW_DISK_RE,
// which is all PVE tests before it allocates (create_disks) or asks for
// Datastore.AllocateSpace (check_ct_modify_config_perm).
func IsNewVolume(vol string) bool { return newDiskRE.MatchString(vol) }

func newVolume(vol string) (string, Size, bool) {
	m := newDiskRE.FindStringSubmatch(vol)
	if m == nil {
		return "", 0, false
	}
	sz, err := ParseNewVolumeSize(m[2])
	if err != nil {
		return "", 0, false
	}
	return m[1], sz, true
}
