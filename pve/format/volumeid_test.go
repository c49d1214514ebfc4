package format_test

import (
	"testing"

	"github.com/felhom/felhom/pve/format"
)

func TestParseVolumeID(t *testing.T) {
	for _, tc := range []struct {
		in, storage, volname string
	}{
		{"local-lvm:vm-100-disk-0", "local-lvm", "vm-100-disk-0"},
		{"Local-LVM:vm-100-disk-0", "Local-LVM", "vm-100-disk-0"}, // m//i
		{"nas.1:backup/vzdump-lxc-100-2026_01_01-00_00_00.tar.zst", "nas.1", "backup/vzdump-lxc-100-2026_01_01-00_00_00.tar.zst"},
		{"local:snippets/hook.pl\n", "local", "snippets/hook.pl"}, // Perl's $ before a final newline
		{"ab:a:b", "ab", "a:b"},
		{"a:x", "", ""},        // two characters at least
		{"1local:x", "", ""},   // starts with a letter
		{"local-:x", "", ""},   // ends with a letter or digit
		{"local:", "", ""},     // a volume name
		{"/srv/data", "", ""},  // a path
		{"local:a\nb", "", ""}, // '.' does not match a newline
	} {
		st, name, err := format.ParseVolumeID(tc.in)
		if tc.storage == "" {
			if err == nil || err.Error() != "unable to parse volume ID '"+tc.in+"'" {
				t.Errorf("ParseVolumeID(%q) = %q, %q, %v; want PVE's error", tc.in, st, name, err)
			}
			continue
		}
		if err != nil || st != tc.storage || name != tc.volname {
			t.Errorf("ParseVolumeID(%q) = %q, %q, %v; want %q, %q", tc.in, st, name, err, tc.storage, tc.volname)
		}
	}
}
