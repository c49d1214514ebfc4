package diff

import (
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
)

// Issue 10 item 5: a grow is planned from the volume's real size
// (Live.VolumeSizes), which PVE's resize compares with, not from the
// config's size=, which a rollback on a storage whose snapshots do not keep
// the size leaves smaller.
func TestGrowFromTheRealVolumeSize(t *testing.T) {
	tests := []struct {
		name    string
		real    format.Size // 0: not read
		want    string
		resize  string // the resize step's size, "" for none
		before  string // rootfs.size's before, "" for no change
		warning string
	}{
		{name: "not read: the config's size", want: "10G", resize: "10G", before: "8 GiB"},
		{name: "as the config says", real: 8 * format.GiB, want: "10G", resize: "10G", before: "8 GiB"},
		{name: "already at the wanted size", real: 10 * format.GiB, want: "10G", warning: "is already 10 GiB while the config says 8 GiB"},
		{name: "larger than wanted", real: 12 * format.GiB, want: "10G", warning: "is already 12 GiB while the config says 8 GiB"},
		{name: "more wanted: grown from the real size", real: 10 * format.GiB, want: "12G", resize: "12G", before: "10 GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := liveFrom(t, baseConf, true)
			if tt.real != 0 {
				l.VolumeSizes = map[string]format.Size{"local-lvm:vm-101-disk-0": tt.real}
			}
			cp := Diff(ct(t, "rootfs: {storage: local-lvm, size: "+tt.want+"}"), l, Options{Now: time.Unix(0, 0), Revision: "r"})
			var resize, before string
			for _, st := range cp.Steps {
				if st.Action == plan.ActionResize {
					resize = st.Params["size"]
				}
			}
			for _, c := range cp.Changes {
				if c.Path == "rootfs.size" {
					before = c.Before
				}
			}
			if resize != tt.resize || before != tt.before {
				t.Errorf("resize %q before %q, want %q %q (steps %v)", resize, before, tt.resize, tt.before, stepList(cp))
			}
			warned := strings.Join(cp.Warnings, "\n")
			if (tt.warning == "") != !strings.Contains(warned, "is already") || !strings.Contains(warned, tt.warning) {
				t.Errorf("warnings %q, want %q", warned, tt.warning)
			}
		})
	}
}
