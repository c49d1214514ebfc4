package format

import (
	"strings"
)

// featuresSchema is the format of features in apidata.json (pve-container
// $features_desc). It has no default key and no required key.
var featuresSchema = schema{
	"force_rw_sys": {kind: kindBool, optional: true, def: "0"},
	"fuse":         {kind: kindBool, optional: true, def: "0"},
	"keyctl":       {kind: kindBool, optional: true, def: "0"},
	"mknod":        {kind: kindBool, optional: true, def: "0"},
	"mount":        {kind: kindString, optional: true, pattern: newPattern(`(?:[a-zA-Z0-9_; ]+)`)},
	"nesting":      {kind: kindBool, optional: true, def: "0"},
}

// Features is the features value of a container config, such as
// "fuse=1,mount=nfs;cifs,nesting=1". Every flag defaults to off.
type Features struct {
	// ForceRWSys is force_rw_sys=.
	ForceRWSys *bool
	// Fuse is fuse=.
	Fuse *bool
	// Keyctl is keyctl=.
	Keyctl *bool
	// Mknod is mknod=.
	Mknod *bool
	// Mount are the mount= file system types, in the order given;
	// ';'-separated in the string. The schema allows spaces and empty
	// items; they are kept so the value prints back as written.
	Mount []string
	// Nesting is nesting=.
	Nesting *bool
}

// ParseFeatures parses a features value. Unknown keys and bad values are
// *Error values naming the key.
func ParseFeatures(s string) (Features, error) {
	res, err := splitProperties(s, featuresSchema)
	if err != nil {
		return Features{}, err
	}
	f := Features{
		ForceRWSys: boolPtr(res, "force_rw_sys"),
		Fuse:       boolPtr(res, "fuse"),
		Keyctl:     boolPtr(res, "keyctl"),
		Mknod:      boolPtr(res, "mknod"),
		Nesting:    boolPtr(res, "nesting"),
	}
	if v, ok := res["mount"]; ok {
		f.Mount = strings.Split(v, ";")
	}
	return f, nil
}

// String prints f as PVE writes it: keys sorted.
func (f Features) String() string {
	p := newPrinter(featuresSchema)
	p.boolean("force_rw_sys", f.ForceRWSys)
	p.boolean("fuse", f.Fuse)
	p.boolean("keyctl", f.Keyctl)
	p.boolean("mknod", f.Mknod)
	p.str("mount", strings.Join(f.Mount, ";"))
	p.boolean("nesting", f.Nesting)
	return p.String()
}

// Equal reports whether f and o mean the same: unset flags equal off, mount
// types compare as a set of non-blank, trimmed names (pve-container's
// apparmor code splits the list on ';').
func (f Features) Equal(o Features) bool {
	return featuresSchema.boolEqual("force_rw_sys", f.ForceRWSys, o.ForceRWSys) &&
		featuresSchema.boolEqual("fuse", f.Fuse, o.Fuse) &&
		featuresSchema.boolEqual("keyctl", f.Keyctl, o.Keyctl) &&
		featuresSchema.boolEqual("mknod", f.Mknod, o.Mknod) &&
		featuresSchema.boolEqual("nesting", f.Nesting, o.Nesting) &&
		setEqual(fsTypes(f.Mount), fsTypes(o.Mount))
}

func fsTypes(l []string) []string {
	var out []string
	for _, s := range l {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
