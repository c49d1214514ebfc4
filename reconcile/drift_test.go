package reconcile

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/render"
	"github.com/felhom/felhom/spec"
)

// driftEnv is one stopped container 101 (memory 1 GiB, cores 2) that has
// been applied to a spec of memory 2G (plus extra), with the specs given.
func driftEnv(t *testing.T, extra string) (*env, []spec.Container) {
	t.Helper()
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, extra)})
	cr := resultFor(t, e.apply(e.plan(specs), Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeApplied || cr.Baseline["memory"] == "" {
		t.Fatalf("first apply: %+v", cr)
	}
	e.clock.c.Advance(time.Minute) // the next snapshot gets its own name
	return e, specs
}

// handSet changes the container's config as an admin would with pct set.
func handSet(t *testing.T, e *env, key, value string) {
	t.Helper()
	if _, err := e.api.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{key: value}}); err != nil {
		t.Fatal(err)
	}
}

// drifts returns the plan's changes of ct 101 as path → drift mark.
func drifts(t *testing.T, p *plan.Plan) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, ch := range planFor(t, p, 101).Changes {
		out[ch.Path] = ch.Drift
	}
	return out
}

// snapshotDescriptions returns ct 101's snapshot descriptions by name.
func snapshotDescriptions(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range parseConf(t, e, 101).Snapshots {
		out[s.Name] = s.Description()
	}
	return out
}

// After an apply, a fresh plan (nothing handed over in memory) marks a hand
// change as drift and a spec edit of another field as not drift; apply
// wrote the baseline under the plan summary of its snapshot, with one call.
func TestDriftFromSnapshotBaseline(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "cores: 2\n")})
	p := e.plan(specs)
	e.resetCalls()
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("apply: %+v", cr)
	}
	if n := e.calls["PUT /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config"]; n != 1 {
		t.Errorf("%d snapshot description writes, want 1", n)
	}
	desc := snapshotDescriptions(t, e)[cr.Snapshot]
	if !strings.HasPrefix(desc, render.Describe(p, &p.Containers[0])+"\n"+BaselinePrefix) {
		t.Errorf("snapshot description is not the plan summary and then the baseline line:\n%s", desc)
	}
	if b, ok := ParseBaseline(desc); !ok || b["memory"] != cr.Baseline["memory"] || b["memory"] == "" || b["cores"] == "" {
		t.Errorf("baseline in the description %v, apply reported %v", b, cr.Baseline)
	}

	e.clock.c.Advance(time.Minute)
	handSet(t, e, "memory", "3072")
	specs = loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "cores: 4\n")})
	e.resetCalls()
	got := drifts(t, e.plan(specs))
	if want := map[string]bool{"memory": true, "cores": false}; !maps.Equal(got, want) {
		t.Errorf("changes (path → drift) %v, want %v", got, want)
	}
	for k := range e.calls {
		if strings.HasPrefix(k, "PUT") || strings.Contains(k, "{snapname}") {
			t.Errorf("plan called %s", k)
		}
	}
}

// A failed apply that was rolled back keeps only its plan summary: the
// next plan reads the older baseline, so the values the rollback restored
// are not drift, and a hand change still is.
func TestRolledBackApplyLeavesNoBaseline(t *testing.T) {
	e, _ := driftEnv(t, "cores: 2\n")
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "cores: 4\n")})
	p := e.plan(specs)
	// The write lands, but its read-back does not match: rolled back.
	cr := resultFor(t, Apply(context.Background(), &tamperAPI{API: e.api, key: "cores", value: "3"}, p, Options{Clock: e.clock, Specs: specs}), 101)
	if cr.Outcome != OutcomeFailed || !cr.RolledBack || cr.Baseline != nil {
		t.Fatalf("apply: %+v", cr)
	}
	descs := snapshotDescriptions(t, e)
	if _, ok := ParseBaseline(descs[cr.Snapshot]); ok || !strings.HasPrefix(descs[cr.Snapshot], "felhom: ") {
		t.Errorf("the rolled-back snapshot's description:\n%s", descs[cr.Snapshot])
	}
	e.clock.c.Advance(time.Minute)
	if got, want := drifts(t, e.plan(specs)), map[string]bool{"cores": false}; !maps.Equal(got, want) {
		t.Errorf("after the rollback: changes %v, want %v", got, want)
	}
	handSet(t, e, "memory", "4096")
	if got, want := drifts(t, e.plan(specs)), map[string]bool{"memory": true, "cores": false}; !maps.Equal(got, want) {
		t.Errorf("after a hand change: changes %v, want %v", got, want)
	}
}

// Drift policy report: a hand change is reported and left alone (no
// steps), while a spec edit of the same field is still applied.
func TestDriftReportLeavesHandChange(t *testing.T) {
	e, _ := driftEnv(t, "drift: report\n")
	handSet(t, e, "memory", "3072")
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "drift: report\n")})
	cp := planFor(t, e.plan(specs), 101)
	if cp.Status != plan.StatusUnchanged || len(cp.Steps) != 0 || len(cp.Changes) != 1 || !cp.Changes[0].Drift ||
		!strings.Contains(strings.Join(cp.Warnings, "\n"), "drift policy: report") {
		t.Fatalf("hand change under drift: report: %+v", cp)
	}
	specs = loadSpecs(t, map[string]string{"a.yaml": ctSpec("ct101", "pve1", 101, "memory: 4G\ndrift: report\n")})
	cp = planFor(t, e.plan(specs), 101)
	if cp.Status != plan.StatusChanges || len(cp.Changes) != 1 || cp.Changes[0].Path != "memory" {
		t.Fatalf("spec edit under drift: report: %+v", cp)
	}
}

// The baseline is the same whichever way apply was run: with the specs
// (felhom apply DIR) or from the saved plan alone, read back from its JSON
// (felhom plan -out plan.json, then felhom apply plan.json, the CI flow),
// which carries the spec it was made from. A later hand change of a field
// the apply wrote, and of one it did not, is drift either way.
func TestSavedPlanApplyRecordsSameBaseline(t *testing.T) {
	var baselines []map[string]string
	for _, saved := range []bool{false, true} {
		e, _ := driftEnv(t, "cores: 2\n")
		specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "cores: 4\n")})
		p, opts := e.plan(specs), Options{Specs: specs}
		if saved {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if p, err = plan.Parse(b); err != nil {
				t.Fatal(err)
			}
			opts = Options{}
		}
		cr := resultFor(t, e.apply(p, opts), 101)
		if cr.Outcome != OutcomeApplied {
			t.Fatalf("saved %v: apply: %+v", saved, cr)
		}
		b, ok := ParseBaseline(snapshotDescriptions(t, e)[cr.Snapshot])
		if !ok || b["memory"] != "2 GiB" || b["cores"] != "4" {
			t.Errorf("saved %v: baseline %v (%v), want memory 2 GiB and cores 4", saved, b, ok)
		}
		baselines = append(baselines, b)
		e.clock.c.Advance(time.Minute)
		handSet(t, e, "memory", "3072")
		handSet(t, e, "cores", "3")
		if got, want := drifts(t, e.plan(specs)), map[string]bool{"memory": true, "cores": true}; !maps.Equal(got, want) {
			t.Errorf("saved %v: changes %v, want %v", saved, got, want)
		}
	}
	if !maps.Equal(baselines[0], baselines[1]) {
		t.Errorf("baseline after apply DIR %v, after apply plan.json %v", baselines[0], baselines[1])
	}
}

// A felhom snapshot whose description someone rewrote, and snapshots felhom
// did not take, are ignored: the plan neither fails nor marks drift.
func TestForeignOrMalformedDescriptionIgnored(t *testing.T) {
	for _, desc := range []string{
		"taken by hand before the upgrade",
		BaselinePrefix + `{"memory":`,
		BaselinePrefix + `["memory"]`,
		BaselinePrefix + `{"memory":2048}`,
		BaselinePrefix + "{\"memory\":\"2 GiB\"}\nedited by someone after",
	} {
		t.Run(desc, func(t *testing.T) {
			e, specs := driftEnv(t, "")
			for name := range snapshotDescriptions(t, e) {
				if err := e.api.UpdateSnapshotDescription(context.Background(), "pve1", 101, name, desc); err != nil {
					t.Fatal(err)
				}
			}
			handSet(t, e, "memory", "3072")
			p := e.plan(specs)
			if cp := planFor(t, p, 101); cp.Status != plan.StatusChanges {
				t.Fatalf("plan: %+v", cp)
			}
			if got, want := drifts(t, p), map[string]bool{"memory": false}; !maps.Equal(got, want) {
				t.Errorf("changes %v, want %v", got, want)
			}
		})
	}
}

func TestParseBaseline(t *testing.T) {
	for _, tt := range []struct {
		desc string
		want map[string]string
		ok   bool
	}{
		{"felhom: plan\n~ memory 1 GiB -> 2 GiB (hot)\n" + BaselinePrefix + `{"memory":"2 GiB","net0.bridge":"vmbr0"}`,
			map[string]string{"memory": "2 GiB", "net0.bridge": "vmbr0"}, true},
		{BaselinePrefix + `{"description":"a\nb"}` + "\n", map[string]string{"description": "a\nb"}, true}, // PVE adds the newline
		{BaselinePrefix + `{}`, map[string]string{}, true},
		{"", nil, false},
		{"felhom: plan\n1. set config memory", nil, false},
		{BaselinePrefix + `{"memory":"2 GiB"}` + "\n1. set config memory", nil, false},
		{"felhom-baseline:{}", nil, false},
		{BaselinePrefix + `null`, nil, false},
		{BaselinePrefix + `{"a":1}`, nil, false},
		{BaselinePrefix + `{"a":"b"} trailing`, nil, false},
	} {
		got, ok := ParseBaseline(tt.desc)
		if ok != tt.ok || len(got) != len(tt.want) {
			t.Errorf("ParseBaseline(%q) = %v, %v; want %v, %v", tt.desc, got, ok, tt.want, tt.ok)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("ParseBaseline(%q)[%s] = %q, want %q", tt.desc, k, got[k], v)
			}
		}
	}
}

func TestLatestBaseline(t *testing.T) {
	at := func(min int) time.Time { return testNow.Add(time.Duration(min) * time.Minute) }
	line := func(v string) string { return "felhom: plan\n" + BaselinePrefix + `{"memory":"` + v + `"}` }
	name := func(min int) string { return plan.SnapshotName(at(min), "abc") }
	snaps := []pve.Snapshot{
		{Name: name(1), SnapTime: at(1), Description: line("1 GiB")},
		{Name: name(3), SnapTime: at(3), Description: line("3 GiB")},
		{Name: name(4), SnapTime: at(4), Description: "felhom: plan (rolled back)"},
		{Name: "before-upgrade", SnapTime: at(9), Description: line("9 GiB")}, // not felhom's
		{Name: name(2), Description: line("2 GiB")},                           // no snaptime: the name's
		{Name: pve.CurrentSnapshot, Description: "You are here!"},
	}
	if got := latestBaseline(snaps)["memory"]; got != "3 GiB" {
		t.Errorf("latest baseline memory %q, want 3 GiB (the newest felhom snapshot with a baseline)", got)
	}
	if got := latestBaseline([]pve.Snapshot{snaps[2], snaps[3], snaps[5]}); got != nil {
		t.Errorf("no felhom baseline: got %v", got)
	}
}

func TestSnapshotDescriptionBounds(t *testing.T) {
	summary := "felhom: taken before applying its plan\n" + strings.Repeat("~ description something -> something else (hot)\n", 200)
	b := map[string]string{"memory": "2 GiB", "description": strings.Repeat("x", 5000), "tags": strings.Repeat("t", 1000)}
	d := SnapshotDescription(summary, b)
	if len(d) > MaxSnapshotDescription {
		t.Errorf("description is %d bytes, more than %d", len(d), MaxSnapshotDescription)
	}
	if !strings.HasPrefix(d, "felhom: taken before applying its plan\n") || !strings.Contains(d, "\n...\n"+BaselinePrefix) {
		t.Errorf("the summary is not cut at a line with ...:\n%.300s", d)
	}
	got, ok := ParseBaseline(d)
	if !ok || got["memory"] != "2 GiB" || got["tags"] != b["tags"] || got["description"] != "" {
		t.Errorf("baseline %v, %v: want memory and tags kept, the longest value (description) left out", len(got), ok)
	}
	short := SnapshotDescription("felhom: plan\n1. set config memory\n", map[string]string{"memory": "<2 GiB>"})
	if want := "felhom: plan\n1. set config memory\n" + BaselinePrefix + `{"memory":"<2 GiB>"}`; short != want {
		t.Errorf("description\n%q, want\n%q", short, want)
	}
}

// FuzzSnapshotDescription: any description parses without panicking, and a
// baseline written under any summary reads back as written (values with
// invalid UTF-8 aside: JSON replaces those bytes).
func FuzzSnapshotDescription(f *testing.F) {
	f.Add("felhom: plan\n1. set config memory", "memory", "2 GiB")
	f.Add("", "description", "line one\nfelhom-baseline: {}")
	f.Add(strings.Repeat("~ x\n", 2000), "net0.ip", "10.0.0.2/24")
	f.Add("felhom-baseline: {\"a\":\"b\"}\r\n", "", "")
	f.Fuzz(func(t *testing.T, summary, key, value string) {
		ParseBaseline(summary)
		d := SnapshotDescription(summary, map[string]string{key: value})
		if len(d) > MaxSnapshotDescription {
			t.Fatalf("description of %d bytes", len(d))
		}
		got, ok := ParseBaseline(d)
		if !ok {
			t.Fatalf("the written baseline does not parse:\n%q", d)
		}
		if len(BaselinePrefix)+len(key)+len(value) < 1000 && utf8.ValidString(key) && utf8.ValidString(value) && got[key] != value {
			t.Fatalf("baseline %q, want %s=%q", got, key, value)
		}
	})
}

// A baseline write PVE refuses leaves the applied change in place: the
// outcome is applied, with a warning saying the baseline is not kept.
func TestBaselineWriteFailureIsAWarning(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, false, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")})
	p := e.plan(specs)
	e.sim.InjectFault(pvesim.Fault{Method: "PUT", Path: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config", Kind: pvesim.FaultStatus,
		Status: 500, Message: "cfs-lock 'file-lxc_conf' error: got lock request timeout", Count: 1})
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeApplied || mainValue(t, e, 101, "memory") != "2048" {
		t.Fatalf("apply: %+v", cr)
	}
	if w := strings.Join(cr.Warnings, "\n"); !strings.Contains(w, "not kept in snapshot "+cr.Snapshot) || !strings.Contains(w, "got lock request timeout") {
		t.Errorf("warnings %q", cr.Warnings)
	}
	if _, ok := ParseBaseline(snapshotDescriptions(t, e)[cr.Snapshot]); ok {
		t.Error("a baseline was kept although PVE refused the write")
	}
}

// A container changed without a snapshot (PVE cannot snapshot its dir
// volume; the policy backs it up first) has nowhere to keep a baseline: no
// description is written, and the result still reports what was applied.
func TestNoSnapshotNoBaselineWrite(t *testing.T) {
	e := newEnv(t, backupInventory(conf(101, "local")))
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  when-impossible: vzdump\n"+retentionSpec)})
	p := e.plan(specs)
	e.resetCalls()
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeApplied || cr.Snapshot != "" || cr.Baseline["memory"] == "" {
		t.Fatalf("apply: %+v", cr)
	}
	for k := range e.calls {
		if strings.Contains(k, "/snapshot") {
			t.Errorf("apply without a snapshot called %s", k)
		}
	}
}
