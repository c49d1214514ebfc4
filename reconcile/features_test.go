package reconcile

import "testing"

// TestFeaturesWrittenAsPVEJudges: nesting on with keyctl named off, on a
// container without features, is applied by an API token: felhom writes
// only nesting=1, which the simulator's check_ct_modify_config_perm allows
// (the whole value keyctl=0,nesting=1 it refuses as root-only) (issue 10
// item 6).
func TestFeaturesWrittenAsPVEJudges(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": ctSpec("ct101", "pve1", 101, "features: {nesting: true, keyctl: false}\n")}))
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("result: %+v", cr)
	}
	if v := mainValue(t, e, 101, "features"); v != "nesting=1" {
		t.Errorf("features = %q, want nesting=1", v)
	}
}
