package pvesim

import (
	"testing"
	"time"
)

// TestNodeTime (issue 9 item 8): GET /nodes/{node}/time answers the
// clock's time, the node's time zone and the local wall clock as epoch
// seconds, across a DST change; it needs Sys.Audit on the node.
func TestNodeTime(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve1").Timezone = "Europe/Berlin"
	e := newEnv(t, inv)
	for _, tc := range []struct {
		node   string
		at     time.Time
		tz     string
		offset int64
	}{
		{"pve1", testStart, "Europe/Berlin", 3600},
		{"pve1", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "Europe/Berlin", 7200},
		// 2026-03-29 01:00 UTC is the switch to summer time.
		{"pve1", time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), "Europe/Berlin", 3600},
		{"pve1", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "Europe/Berlin", 7200},
		{"pve2", testStart, "Etc/UTC", 0},
	} {
		e.sim.Clock().Set(tc.at)
		data := e.ok("GET", "/nodes/"+tc.node+"/time").obj()
		checkReturns(t, "GET /nodes/{node}/time", data)
		want := map[string]any{"timezone": tc.tz, "time": float64(tc.at.Unix()), "localtime": float64(tc.at.Unix() + tc.offset)}
		if len(data) != len(want) || data["timezone"] != want["timezone"] || data["time"] != want["time"] || data["localtime"] != want["localtime"] {
			t.Errorf("%s at %v: %v, want %v", tc.node, tc.at, data, want)
		}
	}
	r := e.as("ops@pve!mem=secret-mem").call("GET", "/nodes/pve1/time")
	if r.status != 403 || r.reason != "Permission check failed (/nodes/pve1, Sys.Audit)" {
		t.Fatalf("without Sys.Audit: %d %s", r.status, r.reason)
	}
}
