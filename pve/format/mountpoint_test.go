package format_test

import (
	"testing"

	"github.com/felhom/felhom/pve/format"
)

// TestIsNewVolume: $NEW_DISK_RE, ^([^:\s]+):(\d+(\.\d+)?)$.
func TestIsNewVolume(t *testing.T) {
	for _, tc := range []struct {
		vol string
		new bool
	}{
		{"local-lvm:8", true},
		{"local-lvm:0.5", true},
		{"Local:12", true},
		{"local-lvm:vm-100-disk-0", false},
		{"local-lvm:8G", false},
		{"local-lvm:.5", false},
		{"local lvm:8", false},
		{":8", false},
		{"/srv:8", true}, // the pattern alone; classify_mountpoint runs first in PVE
		{"/srv/data", false},
	} {
		if got := format.IsNewVolume(tc.vol); got != tc.new {
			t.Errorf("IsNewVolume(%q) = %v, want %v", tc.vol, got, tc.new)
		}
	}
}
