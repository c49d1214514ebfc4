package daemon

import (
	"slices"
	"testing"
)

// A spec with a create section in a daemon cycle creates the container, the
// way felhom apply does (reconcile.Run), and the next cycle finds it in
// sync and changes nothing.
func TestCycleCreates(t *testing.T) {
	inv := testInventory()
	inv.Node("pve1").Storages[1].AddTemplate("local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst", 120<<20)
	e := newEnv(t, inv)
	e.src.set(map[string]string{"ct140.yaml": ctSpec("pve1", 140, `hostname: fresh
memory: 1G
rootfs: {storage: local-lvm, size: 4G}
power: running
create:
  ostemplate: local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst
`)})
	l := e.loop(Options{})
	rec := e.cycle(l, KindResync)
	if !slices.Equal(rec.Changed, []int{140}) || len(rec.Failed) > 0 || rec.Error != "" {
		t.Fatalf("first cycle: %+v", rec)
	}
	if e.value(140, "memory") != "1024" || e.value(140, "hostname") != "fresh" {
		t.Errorf("created: memory %q hostname %q", e.value(140, "memory"), e.value(140, "hostname"))
	}
	if s := statusOf(t, l, 140); s.State != StateSynced {
		t.Errorf("ct 140 after the create: %+v", s)
	}
	rec = e.cycle(l, KindResync)
	if len(rec.Changed) > 0 || len(rec.Failed) > 0 {
		t.Errorf("second cycle: %+v", rec)
	}
}
