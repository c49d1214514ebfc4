package format

import (
	"errors"
	"regexp"
)

// volumeIDRE is pve-storage's parse_volume_id pattern (src/PVE/Storage.pm,
// src/PVE/Storage/Plugin.pm): m/^([a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$/i.
// Perl's $ also matches before a final newline, which '.' does not match.
var volumeIDRE = regexp.MustCompile(`(?i)^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)\n?$`)

// ParseVolumeID splits a volume id "STORAGE:VOLNAME" as pve-storage's
// parse_volume_id (format pve-volume-id) does: the storage id starts with a
// letter, ends with a letter or digit, has at least two characters, and
// letters of any case. The error text is PVE's die message.
func ParseVolumeID(volid string) (storage, volname string, err error) {
	m := volumeIDRE.FindStringSubmatch(volid)
	if m == nil {
		return "", "", errors.New("unable to parse volume ID '" + volid + "'")
	}
	return m[1], m[2], nil
}
