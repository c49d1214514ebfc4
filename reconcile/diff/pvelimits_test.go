package diff

import (
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// TestQuotaOnUnprivilegedIsImpossible: PVE takes quota=1 on an unprivileged
// container's volume and then refuses to start it ("Quotas are not supported
// by unprivileged containers.", pve-container API2/LXC/Status.pm
// vm_start), so the plan calls it impossible instead of writing it (issue 10
// item 7).
func TestQuotaOnUnprivilegedIsImpossible(t *testing.T) {
	for _, tt := range []struct {
		name, conf, spec string
		status           plan.Status
		changes          []string
	}{
		{"rootfs", baseConf, "rootfs: {storage: local-lvm, quota: true}", plan.StatusError, []string{"rootfs.quota ~ impossible"}},
		{"a mount point", baseConf + "mp0: local-lvm:vm-101-disk-1,mp=/data,size=4G\n",
			"mountpoints:\n  mp0: {storage: local-lvm, size: 4G, mp: /data, quota: true}", plan.StatusError, []string{"mp0.quota ~ impossible"}},
		{"a new mount point", baseConf,
			"mountpoints:\n  mp1: {storage: local-lvm, size: 4G, mp: /data, quota: true}", plan.StatusError, []string{"mp1 + hot", "mp1.quota + impossible"}},
		{"quota off is fine", baseConf, "rootfs: {storage: local-lvm, quota: false}", plan.StatusUnchanged, nil},
		{"a privileged container may", "arch: amd64\nhostname: web\nmemory: 1024\nrootfs: local-lvm:vm-101-disk-0,size=8G\n",
			"rootfs: {storage: local-lvm, quota: true}", plan.StatusChanges, []string{"rootfs.quota ~ hot"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cp := Diff(ct(t, tt.spec), liveFrom(t, tt.conf, false), testOpts)
			wantPlan(t, cp, tt.status, tt.changes)
			for _, s := range cp.Steps {
				if s.Action == plan.ActionSetConfig && tt.status == plan.StatusError {
					t.Errorf("a set-config step %v in a plan in error", s.Params)
				}
			}
		})
	}
}
