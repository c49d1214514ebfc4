package daemon

import (
	"context"
	"slices"
	"testing"
)

// The daemon keeps the spec's power with the plan apply uses: its first
// resync starts the stopped containers that say power: running; after a
// hand stop, the next resync starts the drift: revert one again and only
// reports the drift: report one (drift, left stopped).
func TestDaemonKeepsPower(t *testing.T) {
	e, files := fourCTs(t) // all four stopped
	files["ct201.yaml"] = ctSpec("pve2", 201, "memory: 2G\npower: running\n")
	files["ct202.yaml"] = ctSpec("pve2", 202, "memory: 2G\npower: running\ndrift: report\n")
	e.src.set(files)
	l := e.loop(Options{})
	rec := e.cycle(l, KindResync)
	if rec.Result != ResultOK || !e.sim.Running(201) || !e.sim.Running(202) || e.sim.Running(101) {
		t.Fatalf("first resync: %+v; running 201 %v, 202 %v, 101 %v (power left out: never started)",
			rec, e.sim.Running(201), e.sim.Running(202), e.sim.Running(101))
	}
	for _, vmid := range []int{201, 202} {
		upid, err := e.api.Shutdown(context.Background(), "pve2", vmid)
		if err == nil {
			_, err = e.api.WaitTask(context.Background(), upid)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	e.rec.take()
	rec = e.cycle(l, KindResync)
	if !e.sim.Running(201) || e.sim.Running(202) || !slices.Equal(rec.Changed, []int{201}) {
		t.Errorf("after the hand stops: running 201 %v (want started again), 202 %v (want left stopped); %+v", e.sim.Running(201), e.sim.Running(202), rec)
	}
	if s := statusOf(t, l, 201); !slices.Equal(s.Drift, []string{"power"}) || s.State != StateSynced {
		t.Errorf("ct 201: %+v", s)
	}
	if s := statusOf(t, l, 202); !slices.Equal(s.Drift, []string{"power"}) || s.DriftPolicy != "report" || s.State != StateSynced {
		t.Errorf("ct 202: %+v", s)
	}
}
