package diff

import (
	"reflect"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// TestPower: the spec's power is compared with the live run state; a
// difference is a start or a clean shutdown after the writes. A start that
// applies pending values is protected as a reboot is; one that applies
// nothing, and every shutdown, changes no config and takes no snapshot.
// With power: stopped nothing is rebooted: what needs a restart stays
// pending. Drift policy report leaves a hand start or stop alone.
func TestPower(t *testing.T) {
	for _, tt := range []struct {
		name    string
		conf    string
		running bool
		spec    string
		applied map[string]string
		status  plan.Status
		changes []string
		steps   []string
		warning string
		nowarn  string
		privs   []string
	}{
		{
			name: "power left out: a stopped container stays stopped", conf: baseConf, running: false,
			spec: "memory: 1G", status: plan.StatusUnchanged,
		},
		{
			name: "running and power running: nothing", conf: baseConf, running: true,
			spec: "power: running", status: plan.StatusUnchanged,
		},
		{
			name: "stopped with power running: a start alone, no snapshot", conf: baseConf, running: false,
			spec: "power: running", status: plan.StatusChanges,
			changes: []string{"power ~ hot"}, steps: []string{"start"},
			privs: []string{"VM.PowerMgmt@/vms/101"},
		},
		{
			name: "running with power stopped: a shutdown alone, no snapshot", conf: baseConf, running: true,
			spec: "power: stopped", status: plan.StatusChanges,
			changes: []string{"power ~ hot"}, steps: []string{"shutdown"},
			privs: []string{"VM.PowerMgmt@/vms/101"},
		},
		{
			name: "stopped, a change and power running: write at once, then start", conf: baseConf, running: false,
			spec: "memory: 2G\npower: running", status: plan.StatusChanges,
			changes: []string{"memory ~ hot", "power ~ hot"}, steps: []string{"snapshot", "set-config", "start"},
			privs: []string{"VM.Config.Memory@/vms/101", "VM.PowerMgmt@/vms/101", "VM.Snapshot@/vms/101"},
		},
		{
			name: "a start that applies pending values is protected as a reboot", conf: baseConf + "\n[pve:pending]\nmemory: 2048\n", running: false,
			spec: "memory: 2G\npower: running", status: plan.StatusChanges,
			changes: []string{"memory ~ awaiting-restart", "power ~ hot"}, steps: []string{"snapshot", "start"},
			warning: "1 change takes effect when felhom starts the container (power: running)",
		},
		{
			name: "a start applies pending values the spec does not manage: protected, and said", conf: baseConf + "\n[pve:pending]\ncores: 4\n", running: false,
			spec: "power: running", status: plan.StatusChanges,
			changes: []string{"power ~ hot"}, steps: []string{"snapshot", "start"},
			warning: "the start also applies pending changes the spec does not manage: cores",
		},
		{
			name: "power stopped on a running container: no reboot, the restart-bound change stays pending", conf: baseConf, running: true,
			spec: "nameserver: 9.9.9.9\nrestart: {mode: when-needed}\npower: stopped", status: plan.StatusChanges,
			changes: []string{"nameserver + pending-restart", "power ~ hot"}, steps: []string{"snapshot", "set-config", "shutdown"},
			warning: "1 change stays pending: the container is shut down (power: stopped), not rebooted; it takes effect when the container next starts",
		},
		{
			name: "power stopped and stopped: writes apply at once", conf: baseConf, running: false,
			spec: "nameserver: 9.9.9.9\npower: stopped", status: plan.StatusChanges,
			changes: []string{"nameserver + hot"}, steps: []string{"snapshot", "set-config"},
		},
		{
			name: "drift report: a hand stop is reported, not started", conf: baseConf, running: false,
			spec: "power: running\ndrift: report", applied: map[string]string{"power": "running"},
			status: plan.StatusUnchanged, changes: []string{"power ~ hot drift"},
			warning: "left as found (drift policy: report): power",
		},
		{
			name: "drift report: a spec change of power is made", conf: baseConf, running: true,
			spec: "power: stopped\ndrift: report", applied: map[string]string{"power": "running"},
			status: plan.StatusChanges, changes: []string{"power ~ hot"}, steps: []string{"shutdown"},
			nowarn: "cannot tell hand changes",
		},
		{
			name: "drift report without a baseline: the start is planned, and the plan says it cannot tell", conf: baseConf, running: false,
			spec: "power: running\ndrift: report", applied: map[string]string{},
			status: plan.StatusChanges, changes: []string{"power ~ hot"}, steps: []string{"start"},
			warning: "drift: report cannot tell hand changes from spec changes here",
		},
		{
			name: "drift revert: a hand stop is started again", conf: baseConf, running: false,
			spec: "power: running", applied: map[string]string{"power": "running"},
			status: plan.StatusChanges, changes: []string{"power ~ hot drift"}, steps: []string{"start"},
		},
		{
			name: "a start that must be protected where PVE cannot snapshot is refused by the policy", conf: baseConf + "mp2: /srv/media,mp=/media\n\n[pve:pending]\ncores: 4\n", running: false,
			spec: "power: running", status: plan.StatusBlocked, changes: []string{"power ~ hot"},
		},
		{
			name: "a plain start needs no protection, so a bind mount does not block it", conf: baseConf + "mp2: /srv/media,mp=/media\n", running: false,
			spec: "power: running", status: plan.StatusChanges, changes: []string{"power ~ hot"}, steps: []string{"start"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			live := liveFrom(t, tt.conf, tt.running)
			live.Applied = tt.applied
			cp := Diff(ct(t, tt.spec), live, testOpts)
			wantPlan(t, cp, tt.status, tt.changes)
			wantSteps(t, cp, tt.steps)
			warnings := strings.Join(cp.Warnings, "\n")
			if tt.warning != "" && !strings.Contains(warnings, tt.warning) {
				t.Errorf("warnings %q, want one saying %q", cp.Warnings, tt.warning)
			}
			if tt.nowarn != "" && strings.Contains(warnings, tt.nowarn) {
				t.Errorf("warnings %q, want none saying %q", cp.Warnings, tt.nowarn)
			}
			if strings.Contains(warnings, "takes effect when the container next starts") && strings.Contains(strings.Join(stepList(cp), ","), "start") {
				t.Errorf("warnings %q say a change waits for a start the plan makes", cp.Warnings)
			}
			if tt.privs != nil && !reflect.DeepEqual(privList(cp), tt.privs) {
				t.Errorf("privileges %q, want %q", privList(cp), tt.privs)
			}
			if err := (&plan.Plan{FormatVersion: plan.FormatVersion, Containers: []plan.ContainerPlan{cp}}).Validate(); err != nil {
				t.Errorf("invalid plan: %v", err)
			}
			if err := cp.CheckSafety(); err != nil {
				t.Errorf("the plan breaks a safety rule: %v", err)
			}
		})
	}
}

// The baseline records the run state as power, so a later hand start or
// stop is drift; a spec without power records none.
func TestPowerBaseline(t *testing.T) {
	if b := Baseline(ct(t, "power: running"), liveFrom(t, baseConf, false)); b["power"] != "stopped" {
		t.Errorf("baseline %v, want power stopped", b)
	}
	if b := Baseline(ct(t, "memory: 1G"), liveFrom(t, baseConf, true)); b["power"] != "" {
		t.Errorf("baseline %v records power the spec does not manage", b)
	}
}
