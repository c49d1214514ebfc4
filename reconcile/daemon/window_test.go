package daemon

import (
	"testing"
	"time"
)

// /status's next restart window is read in the node's time zone, as plan
// and apply read the window (GET /nodes/{node}/time): testNow (Wednesday
// 10:00 UTC) is 19:00 in Tokyo, so "thu 09:00" next opens at Thursday 09:00
// Tokyo time, 00:00 UTC, not at 09:00 UTC.
func TestNextRestartWindowInTheNodesZone(t *testing.T) {
	inv := testInventory()
	inv.Node("pve1").Timezone = "Asia/Tokyo"
	addCT(inv, "pve1", 101)
	e := newEnv(t, inv)
	e.src.set(map[string]string{"ct101.yaml": ctSpec("pve1", 101, "memory: 2G\nrestart:\n  mode: window\n  window:\n    schedule: thu 09:00\n    duration: 1h\n")})
	l := e.loop(Options{})
	if rec := e.cycle(l, KindResync); rec.Result != ResultOK {
		t.Fatalf("cycle: %+v", rec)
	}
	want := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	got := statusOf(t, l, 101).NextRestartWindow
	if !got.Equal(want) {
		t.Errorf("next restart window %v, want %v (thu 09:00 in Asia/Tokyo)", got, want)
	}
	if _, off := got.Zone(); off != 9*3600 {
		t.Errorf("next restart window %v not shown in the node's zone", got)
	}
}
