package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

// writes counts the calls that change PVE.
func (e *env) writes() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for k, v := range e.calls {
		if !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

func TestLoadNamesTheSpecsByContentOrByTheGivenRevision(t *testing.T) {
	fsys := mapFS(map[string]string{"specs/a.yaml": specMemory(101, "")})
	s, err := Load(Source{FS: fsys, Root: "specs"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := spec.ContentRevision(fsys, "specs")
	if err != nil {
		t.Fatal(err)
	}
	if s.Revision != want || !strings.HasPrefix(want, "specs-") || len(s.Containers) != 1 {
		t.Errorf("Load: revision %q (want %q), %d containers", s.Revision, want, len(s.Containers))
	}
	s, err = Load(Source{FS: fsys, Root: "specs", Revision: "0123abc"})
	if err != nil || s.Revision != "0123abc" {
		t.Errorf("Load with a revision: %v, %q", err, s.Revision)
	}

	_, err = Load(Source{FS: mapFS(map[string]string{"a.yaml": specMemory(101, "cores: many\n")})})
	var inv *spec.InvalidError
	if !errors.As(err, &inv) || !inv.Diagnostics.HasErrors() || !strings.Contains(err.Error(), "a.yaml:") {
		t.Errorf("invalid specs: %v", err)
	}
}

// runSetup is the cluster of the Run tests, stopped ct 101, and its spec
// (revision rev1) asking for other memory.
func runSetup(t *testing.T) (*env, *Specs) {
	t.Helper()
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	s, err := Load(Source{FS: mapFS(map[string]string{"a.yaml": specMemory(101, "")}), Revision: "rev1"})
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

// Run is what felhom apply DIR and the daemon both do: the plan is shown
// (Planned) before anything changes, a declined plan changes nothing, and an
// approved one is applied with the specs' baseline.
func TestRunPlansConfirmsAndApplies(t *testing.T) {
	e, s := runSetup(t)
	opts := RunOptions{Plan: PlanOptions{Now: testNow}, Apply: Options{Clock: e.clock}}

	var shown *plan.Plan
	opts.Planned = func(p *plan.Plan) error { shown = p; return nil }
	opts.Confirm = func(context.Context, *plan.Plan) (bool, error) { return false, nil }
	e.resetCalls()
	run, err := Run(context.Background(), e.api, s, opts)
	if err != nil || !run.Declined || run.Result != nil || shown != run.Plan || run.Plan.SourceRevision != "rev1" {
		t.Fatalf("declined run: %v, %+v", err, run)
	}
	if n := e.writes(); n != 0 {
		t.Errorf("a declined run made %d writes", n)
	}

	boom := errors.New("boom")
	opts.Confirm = func(context.Context, *plan.Plan) (bool, error) { return false, boom }
	if _, err := Run(context.Background(), e.api, s, opts); !errors.Is(err, boom) {
		t.Errorf("Confirm's error: %v", err)
	}
	opts.Planned = func(*plan.Plan) error { return boom }
	if _, err := Run(context.Background(), e.api, s, opts); !errors.Is(err, boom) {
		t.Errorf("Planned's error: %v", err)
	}
	if n := e.writes(); n != 0 {
		t.Errorf("stopped runs made %d writes", n)
	}

	opts.Planned, opts.Confirm = nil, nil
	run, err = Run(context.Background(), e.api, s, opts)
	if err != nil || run.Result == nil {
		t.Fatalf("run: %v", err)
	}
	cr := resultFor(t, run.Result, 101)
	if cr.Outcome != OutcomeApplied || cr.Baseline == nil {
		t.Fatalf("applied: %+v", cr)
	}
	if got := mainValue(t, e, 101, "memory"); got != "2048" {
		t.Errorf("memory %s after the run", got)
	}

	// Nothing left to do: a result for every container, and no write.
	e.resetCalls()
	run, err = Run(context.Background(), e.api, s, opts)
	if err != nil || run.Plan.HasChanges() || resultFor(t, run.Result, 101).Outcome != OutcomeUnchanged || e.writes() != 0 {
		t.Errorf("second run: %v, %+v, %d writes", err, run.Result, e.writes())
	}
}

func TestApplySavedRefusesAStalePlan(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	if _, err := e.api.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{"cores": "3"}}); err != nil {
		t.Fatal(err)
	}
	e.resetCalls()
	_, err := ApplySaved(context.Background(), e.api, p, Options{Clock: e.clock})
	var stale *StalePlanError
	if !errors.As(err, &stale) || len(stale.Moved) != 1 || stale.Moved[0].VMID != 101 || e.writes() != 0 {
		t.Fatalf("stale plan: %v, %d writes", err, e.writes())
	}

	p = e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	res, err := ApplySaved(context.Background(), e.api, p, Options{Clock: e.clock})
	if err != nil || resultFor(t, res, 101).Outcome != OutcomeApplied {
		t.Fatalf("fresh plan: %v, %+v", err, res)
	}
}

// A run reads the token's privileges once: the plan's preflight reads them
// and the apply's, seconds later in the same run, takes that reading. A
// saved plan applied on its own reads them itself.
func TestRunReadsPermissionsOnce(t *testing.T) {
	e, s := runSetup(t)
	opts := RunOptions{Plan: PlanOptions{Now: testNow, Preflight: true}, Apply: Options{Clock: e.clock, Preflight: true}}
	e.resetCalls()
	run, err := Run(context.Background(), e.api, s, opts)
	if err != nil || resultFor(t, run.Result, 101).Outcome != OutcomeApplied {
		t.Fatalf("run: %v", err)
	}
	if n := e.calls["GET /access/permissions"]; n != 1 {
		t.Errorf("a run read the permissions %d times, want 1 (all: %v)", n, e.calls)
	}

	// The same change as a saved plan, applied later: its apply reads them.
	s2, err := Load(Source{FS: mapFS(map[string]string{"a.yaml": specMemory(101, "cores: 3\n")}), Revision: "rev2"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanSpecs(context.Background(), e.api, s2, opts.Plan)
	if err != nil || !p.HasChanges() {
		t.Fatalf("plan: %v, changes %v", err, p != nil && p.HasChanges())
	}
	e.resetCalls()
	res, err := ApplySaved(context.Background(), e.api, p, opts.Apply)
	if err != nil || resultFor(t, res, 101).Outcome != OutcomeApplied {
		t.Fatalf("apply saved: %v", err)
	}
	if n := e.calls["GET /access/permissions"]; n != 1 {
		t.Errorf("a saved plan's apply read the permissions %d times, want 1 (all: %v)", n, e.calls)
	}
}
