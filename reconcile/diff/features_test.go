package diff

import (
	"reflect"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// TestFeaturesAsPVEJudges: the features value felhom writes changes only the
// flags that must change, and the root-only judgement is PVE's
// check_ct_modify_config_perm on that value against the main config's
// (pve-container src/PVE/LXC.pm): with no features set, any key but a lone
// nesting is root-only, so an "off" flag is never written where it is
// absent; with features set, each flag's normalised text is compared, so a
// live "keyctl=0" and a mount list's order are kept as they are. A revert of
// a pending features value is checked as a delete of the main value
// (API2/LXC/Config.pm update_vm) (issue 10 item 6).
func TestFeaturesAsPVEJudges(t *testing.T) {
	tests := []struct {
		name    string
		conf    string
		running bool
		spec    string
		status  plan.Status
		changes []string
		set     map[string]string
		blocked string
	}{{
		name: "no features: an off flag is not written", conf: baseConf,
		spec:    "features: {nesting: true, keyctl: false}",
		status:  plan.StatusChanges,
		changes: []string{"features.nesting ~ hot"},
		set:     map[string]string{"features": "nesting=1"},
	}, {
		name: "no features: only off flags is no change", conf: baseConf,
		spec:   "features: {nesting: false, fuse: false}",
		status: plan.StatusUnchanged,
	}, {
		name: "an explicit off flag stays written", conf: baseConf + "features: keyctl=0,nesting=1\n",
		spec:    "features: {nesting: false, keyctl: false}",
		status:  plan.StatusChanges,
		changes: []string{"features.nesting ~ hot"},
		set:     map[string]string{"features": "keyctl=0,nesting=0"},
	}, {
		name: "an equal mount list keeps its order", conf: baseConf + "features: mount=nfs;cifs\n",
		spec:    "features: {nesting: true, mount: [cifs, nfs]}",
		status:  plan.StatusChanges,
		changes: []string{"features.nesting ~ hot"},
		set:     map[string]string{"features": "mount=nfs;cifs,nesting=1"},
	}, {
		name: "no features: nesting off alone is still only nesting", conf: baseConf + "features: nesting=1\n",
		spec:    "features: {nesting: false}",
		status:  plan.StatusChanges,
		changes: []string{"features.nesting ~ hot"},
		set:     map[string]string{"features": "nesting=0"},
	}, {
		name: "a new flag besides nesting is root-only", conf: baseConf,
		spec:    "features: {nesting: true, fuse: true}",
		status:  plan.StatusBlocked,
		changes: []string{"features.fuse ~ root-only", "features.nesting ~ root-only"},
		blocked: "features.fuse: PVE allows changing only nesting without root@pam",
	}, {
		name: "reverting a pending value is judged as deleting the main one", running: true,
		conf:    baseConf + "features: keyctl=1,nesting=1\n\n[pve:pending]\nfeatures: keyctl=1\n",
		spec:    "features: {nesting: true, keyctl: true}",
		status:  plan.StatusBlocked,
		changes: []string{"features.nesting ~ root-only"},
		blocked: "revert",
	}, {
		name: "reverting a pending value over nesting alone is allowed", running: true,
		conf:    baseConf + "features: nesting=1\n\n[pve:pending]\nfeatures: nesting=0\n",
		spec:    "features: {nesting: true}",
		status:  plan.StatusChanges,
		changes: []string{"features.nesting ~ hot"},
		set:     map[string]string{"revert": "features"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := Diff(ct(t, tt.spec), liveFrom(t, tt.conf, tt.running), testOpts)
			wantPlan(t, cp, tt.status, tt.changes)
			var params map[string]string
			for _, s := range cp.Steps {
				if s.Action == plan.ActionSetConfig {
					params = s.Params
				}
			}
			if !reflect.DeepEqual(params, tt.set) {
				t.Errorf("set-config params\n got %q\nwant %q", params, tt.set)
			}
			if tt.blocked != "" && (len(cp.Blocked) == 0 || !strings.Contains(cp.Blocked[0], tt.blocked)) {
				t.Errorf("blocked %q, want it to say %q", cp.Blocked, tt.blocked)
			}
		})
	}
}
