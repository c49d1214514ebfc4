package reconcile

import (
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// A restart window is read in the node's time zone (GET /nodes/{node}/time,
// once per node with such a container), as PVE reads its own schedules:
// testNow (Wednesday 10:00 UTC) is 19:00 in Tokyo, so "wed 18:30" for an
// hour is open there and "wed 09:00" for two hours is not, the other way
// round from UTC. The plan carries the zone so apply asks in it again.
func TestRestartWindowInTheNodesZone(t *testing.T) {
	for _, tt := range []struct {
		schedule string
		reboot   bool
	}{{"wed 18:30", true}, {"wed 09:00", false}, {"wed 09:30 UTC", true}} {
		t.Run(tt.schedule, func(t *testing.T) {
			inv := testInventory()
			inv.Node("pve1").Timezone = "Asia/Tokyo"
			addCT(inv, 101, true, conf(101, "local-lvm"))
			e := newEnv(t, inv)
			specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: window\n  window:\n    schedule: "+tt.schedule+"\n    duration: 1h\n")})
			e.resetCalls()
			p := e.plan(specs)
			if n := e.calls["GET /nodes/{node}/time"]; n != 1 {
				t.Errorf("GET /nodes/{node}/time %d times, want 1", n)
			}
			cp := planFor(t, p, 101)
			hasReboot := cp.Steps[len(cp.Steps)-1].Action == plan.ActionReboot
			if hasReboot != tt.reboot {
				t.Fatalf("reboot step %v, want %v: %v %v", hasReboot, tt.reboot, cp.Steps, cp.Warnings)
			}
			if tt.reboot && (cp.RestartWindow == nil || cp.RestartWindow.TimeZone != "Asia/Tokyo") {
				t.Errorf("restart window %+v, want the node's zone", cp.RestartWindow)
			}
			if tt.reboot {
				if cr := resultFor(t, e.apply(p, Options{}), 101); cr.Outcome != OutcomeApplied || len(cr.Pending) != 0 {
					t.Errorf("apply: %s %s, pending %v", cr.Outcome, cr.Error, cr.Pending)
				}
			}
		})
	}
}

// Without a restart window no node's zone is read.
func TestNoWindowNoNodeTime(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "restart:\n  mode: when-needed\n")})
	e.resetCalls()
	e.plan(specs)
	if n := e.calls["GET /nodes/{node}/time"]; n != 0 {
		t.Errorf("GET /nodes/{node}/time %d times, want 0", n)
	}
}
