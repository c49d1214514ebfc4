package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/plan"
)

func TestColorWanted(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		terminal bool
		noColor  string
		want     bool
	}{{true, "", true}, {true, "1", false}, {false, "", false}, {false, "1", false}}
	for _, tt := range tests {
		if got := colorWanted(tt.terminal, env(tt.noColor)); got != tt.want {
			t.Errorf("terminal %v, NO_COLOR %q: %v", tt.terminal, tt.noColor, got)
		}
	}
}

// The --detailed-exitcode rule: 1 when any container is in error (with or
// without the flag); else with the flag 2 when the desired state is not
// reached (a container has changes, is blocked or is missing), 0 when every
// container is unchanged.
func TestPlanExit(t *testing.T) {
	plans := func(st ...plan.Status) *plan.Plan {
		p := &plan.Plan{}
		for _, s := range st {
			p.Containers = append(p.Containers, plan.ContainerPlan{Status: s})
		}
		return p
	}
	tests := []struct {
		name     string
		p        *plan.Plan
		detailed bool
		want     int
	}{
		{"unchanged", plans(plan.StatusUnchanged, plan.StatusUnchanged), true, exitOK},
		{"no containers", plans(), true, exitOK},
		{"changes", plans(plan.StatusUnchanged, plan.StatusChanges), true, exitChanges},
		{"changes, plain exit code", plans(plan.StatusChanges), false, exitOK},
		{"blocked", plans(plan.StatusUnchanged, plan.StatusBlocked), true, exitChanges},
		{"missing", plans(plan.StatusUnchanged, plan.StatusMissing), true, exitChanges},
		{"blocked, plain exit code", plans(plan.StatusBlocked), false, exitOK},
		{"error", plans(plan.StatusChanges, plan.StatusError), true, exitError},
		{"error, plain exit code", plans(plan.StatusUnchanged, plan.StatusError), false, exitError},
	}
	for _, tt := range tests {
		got := exitCode(context.Background(), planExit(tt.p, tt.detailed), &bytes.Buffer{})
		if got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestApplyExit(t *testing.T) {
	ok := &reconcile.Result{Containers: []reconcile.ContainerResult{{Outcome: reconcile.OutcomeApplied}, {Outcome: reconcile.OutcomeSkipped}}}
	stale := &reconcile.Result{Containers: []reconcile.ContainerResult{{Outcome: reconcile.OutcomeApplied}, {Outcome: reconcile.OutcomeStale}}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if got := exitCode(context.Background(), applyExit(context.Background(), ok), &bytes.Buffer{}); got != exitOK {
		t.Errorf("applied: exit %d", got)
	}
	if got := exitCode(context.Background(), applyExit(context.Background(), stale), &bytes.Buffer{}); got != exitError {
		t.Errorf("stale: exit %d", got)
	}
	interrupted := &reconcile.Result{Cancelled: true, Containers: ok.Containers}
	err := applyExit(cancelled, interrupted)
	if !errors.Is(err, context.Canceled) || exitCode(cancelled, err, &bytes.Buffer{}) != exitCancelled {
		t.Errorf("interrupted: %v", err)
	}
}

// Terraform's "-out FILE" and "-out=FILE" become --out anywhere in felhom
// plan's arguments, and only there.
func TestSingleDashOut(t *testing.T) {
	tests := []struct {
		args, want []string
	}{
		{[]string{"plan", "-out", "p.json", "dir"}, []string{"plan", "--out", "p.json", "dir"}},
		{[]string{"plan", "dir", "-out", "p.json"}, []string{"plan", "dir", "--out", "p.json"}},
		{[]string{"plan", "dir", "-out=p.json"}, []string{"plan", "dir", "--out=p.json"}},
		{[]string{"--config", "c.yaml", "plan", "-o", "json", "dir", "-out", "p.json"}, []string{"--config", "c.yaml", "plan", "-o", "json", "dir", "--out", "p.json"}},
		{[]string{"plan", "--out", "p.json", "dir"}, []string{"plan", "--out", "p.json", "dir"}},
		{[]string{"plan", "dir", "--", "-out"}, []string{"plan", "dir", "--", "-out"}},
		{[]string{"apply", "-out", "p.json"}, []string{"apply", "-out", "p.json"}},
		{[]string{"validate", "dir", "-out=x"}, []string{"validate", "dir", "-out=x"}},
		{nil, nil},
	}
	for _, tt := range tests {
		got := singleDashOut(newRootCommand(), tt.args)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
}

// The failure policy comes from each spec (snapshot.on-failure); the
// --on-failure flag overrides it only when given.
func TestE2EApplyFailurePolicyFromSpec(t *testing.T) {
	for _, tt := range []struct {
		name     string
		flag     []string
		rollback bool
	}{
		{"spec says leave", nil, false},
		{"flag overrides", []string{"--on-failure", "rollback"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t, examplesInventory(t))
			dir := t.TempDir()
			writeSpec(t, dir, "web.yaml", "web", "pve1", 101,
				"memory: 2G\nnameserver: 9.9.9.9\nrestart:\n  mode: when-needed\nsnapshot:\n  on-failure: leave\n")
			plan := e.expect(exitOK, repoRoot, "plan", dir)
			if !strings.Contains(plan, "on failure: left as it is") {
				t.Errorf("the plan does not show the policy:\n%s", plan)
			}
			e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzreboot", ID: "101", Fail: "reboot timed out"})
			args := append([]string{"apply", "--auto-approve"}, tt.flag...)
			out, errOut, code := e.run(repoRoot, append(args, dir)...)
			if code != exitError {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			mem, _ := simConf(t, e.sim, 101).Get("memory")
			if tt.rollback {
				if !strings.Contains(out, "rolled back to felhom-") || mem != "1024" {
					t.Errorf("want a rollback: memory %s\n%s", mem, out)
				}
			} else if !strings.Contains(out, "half-done: set config") || mem != "2048" {
				t.Errorf("want it left: memory %s\n%s", mem, out)
			}
		})
	}
}

func TestApplyRefusesAnUnknownFailurePolicy(t *testing.T) {
	err := runApply(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, applyOptions{onFailure: "shrug", output: "text", concurrency: 1}, ".")
	if exitCode(context.Background(), err, &bytes.Buffer{}) != exitInvalid || !strings.Contains(err.Error(), "shrug") {
		t.Errorf("err %v", err)
	}
}

// Apply's closing line for a plan without changes says why nothing is
// applied.
func TestNothingToApply(t *testing.T) {
	for _, tt := range []struct {
		s    plan.Summary
		want string
	}{
		{plan.Summary{Unchanged: 3}, "No changes. Nothing to apply."},
		{plan.Summary{}, "No changes. Nothing to apply."},
		{plan.Summary{Blocked: 1}, "Nothing to apply: 1 container blocked (see above)."},
		{plan.Summary{Unchanged: 2, Blocked: 2}, "Nothing to apply: 2 containers blocked (see above)."},
		{plan.Summary{Blocked: 1, Missing: 2, Errors: 1}, "Nothing to apply: 1 container blocked, 2 missing, 1 not planned (error) (see above)."},
		{plan.Summary{Missing: 1}, "Nothing to apply: 1 container missing (see above)."},
		{plan.Summary{Errors: 2}, "Nothing to apply: 2 containers not planned (error) (see above)."},
	} {
		if got := nothingToApply(tt.s); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.s, got, tt.want)
		}
	}
}

// Apply on a plan whose only container is blocked does not claim there are
// no changes: it says the container is blocked, and exits 0 as before (a
// blocked container is skipped, not failed, also next to changed ones).
func TestE2EApplyOnlyBlocked(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "dns.yaml", "dns", "pve1", 103, "memory: 768\nrootfs:\n  storage: local\n")
	out := e.expect(exitOK, repoRoot, "apply", "--auto-approve", dir)
	if !strings.Contains(out, "ct 103 dns on pve1 (stopped): blocked") ||
		!strings.Contains(out, "\nNothing to apply: 1 container blocked (see above).\n") || strings.Contains(out, "No changes") {
		t.Errorf("apply output:\n%s", out)
	}
}
