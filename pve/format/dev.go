package format

import (
	"regexp"
	"strings"
)

// verifyDevString is pve-container's verify_lxc_dev_string (format
// pve-lxc-dev-string): below /dev/, no "/." or "/.." path component.
func verifyDevString(v string) string {
	if devDotRE.MatchString(v) || !strings.HasPrefix(v, "/dev/") {
		return v + " is not a valid device path"
	}
	return ""
}

var devDotRE = regexp.MustCompile(`/\.\.?(?:/|$)`)

// devSchema is the format of dev[n] in apidata.json (pve-container
// $dev_desc). path is the default key and, in the schema, optional;
// pve-container's parse_device then dies "Path has to be defined".
var devSchema = schema{
	"path":       {kind: kindString, optional: true, defaultKey: true, format: "pve-lxc-dev-string"},
	"mode":       {kind: kindString, optional: true, pattern: newPattern(`0[0-7]{3}`)},
	"uid":        {kind: kindInteger, optional: true, min: ptrFloat(0)},
	"gid":        {kind: kindInteger, optional: true, min: ptrFloat(0)},
	"deny-write": {kind: kindBool, optional: true, def: "0"},
}

// Dev is a devN value of a container config, such as
// "/dev/ttyUSB0,mode=0660,uid=0,gid=20".
type Dev struct {
	// Path is the default key, a path below /dev/. The schema lets it be
	// left out; pve-container rejects that when the config is used.
	Path string
	// Mode is mode=, an octal access mode such as "0660".
	Mode string
	// UID is uid= (>= 0).
	UID *int
	// GID is gid= (>= 0).
	GID *int
	// DenyWrite is deny-write=; unset means off.
	DenyWrite *bool
}

// ParseDev parses a devN value. Unknown keys and bad values are *Error
// values naming the key.
func ParseDev(s string) (Dev, error) {
	res, err := splitProperties(s, devSchema)
	if err != nil {
		return Dev{}, err
	}
	d := Dev{Path: res["path"], Mode: res["mode"], DenyWrite: boolPtr(res, "deny-write")}
	if d.UID, err = intPtr(res, "uid"); err != nil {
		return Dev{}, err
	}
	if d.GID, err = intPtr(res, "gid"); err != nil {
		return Dev{}, err
	}
	return d, nil
}

// String prints d as PVE writes it: the path first, then the other keys
// sorted.
func (d Dev) String() string {
	p := newPrinter(devSchema)
	p.str("path", d.Path)
	p.str("mode", d.Mode)
	p.integer("uid", d.UID)
	p.integer("gid", d.GID)
	p.boolean("deny-write", d.DenyWrite)
	return p.String()
}

// Equal reports whether d and o mean the same; unset deny-write equals off.
func (d Dev) Equal(o Dev) bool {
	return d.Path == o.Path && d.Mode == o.Mode &&
		ptrEqual(d.UID, o.UID) && ptrEqual(d.GID, o.GID) &&
		devSchema.boolEqual("deny-write", d.DenyWrite, o.DenyWrite)
}
