package render

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/golden"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// powerPlan is a plan that starts one container and shuts another down.
func powerPlan() *plan.Plan {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, SourceRevision: "3f2a9c1", CreatedAt: time.Date(2026, 11, 25, 17, 29, 25, 0, time.UTC),
		Containers: powerFixtures()}
	p.Sort()
	return p
}

// powerFixtures are containers that the spec's power starts or shuts down.
func powerFixtures() []plan.ContainerPlan {
	return []plan.ContainerPlan{
		{
			Name: "nightly", Node: "pve1", VMID: 108, Digest: "8888", Status: plan.StatusChanges,
			Changes: []plan.Change{
				{Path: "power", Op: plan.OpUpdate, Before: "stopped", After: "running", Class: plan.ClassHot, Reason: "felhom starts the container after the writes (power: running)", Drift: true},
			},
			Steps:      []plan.Step{{Action: plan.ActionStart, Params: map[string]string{}, Why: "the spec says power: running and the container is stopped"}},
			Privileges: []plan.Privilege{{Path: "/vms/108", Name: "VM.PowerMgmt"}},
			OnFailure:  spec.OnFailureRollback, Restart: spec.RestartNever,
		},
		{
			Name: "spare", Node: "pve2", VMID: 109, Digest: "9999", Running: true, Status: plan.StatusChanges,
			Changes: []plan.Change{
				{Path: "nameserver", Op: plan.OpAdd, After: "9.9.9.9", Class: plan.ClassPendingRestart, Reason: "PVE keeps it pending until the container restarts"},
				{Path: "power", Op: plan.OpUpdate, Before: "running", After: "stopped", Class: plan.ClassHot, Reason: "felhom shuts the container down cleanly after the writes (power: stopped)"},
			},
			Steps: []plan.Step{
				{Action: plan.ActionSnapshot, Params: map[string]string{"snapname": "felhom-20261125t172925-3f2a9c1"}, Why: "protects the container before its first change"},
				{Action: plan.ActionSetConfig, Params: map[string]string{"nameserver": "9.9.9.9"}, Why: "writes 1 key in one PUT"},
				{Action: plan.ActionShutdown, Params: map[string]string{}, Why: "the spec says power: stopped and the container runs: a clean shutdown (PVE's timeout, never a hard stop)"},
			},
			Warnings:   []string{"1 change stays pending: the container is shut down (power: stopped), not rebooted; it takes effect when the container next starts"},
			Privileges: []plan.Privilege{{Path: "/vms/109", Name: "VM.Config.Network"}, {Path: "/vms/109", Name: "VM.PowerMgmt"}, {Path: "/vms/109", Name: "VM.Snapshot"}},
			OnFailure:  spec.OnFailureRollback, Restart: spec.RestartWhenNeeded,
		},
	}
}

// The power plan in every renderer (golden files): the start and the
// shutdown as steps, the power change, and in Markdown the power step named
// in the summary table and the container's heading, as a reboot is.
func TestPowerGolden(t *testing.T) {
	out := renderAll(t, powerPlan())
	golden.Check(t, filepath.Join("testdata", "power.txt"), []byte(out["text"]))
	golden.Check(t, filepath.Join("testdata", "power.json"), []byte(out["json"]))
	golden.Check(t, filepath.Join("testdata", "power.md"), []byte(out["markdown"]))
	for _, want := range []string{
		"<details><summary><b>ct 108 nightly</b>: 1 change, <b>starts</b></summary>",
		"<details><summary><b>ct 109 spare</b>: 2 changes, <b>shuts down</b></summary>",
		"| start |", "| shutdown |",
	} {
		if !strings.Contains(out["markdown"], want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, want := range []string{"start", "shut down cleanly"} {
		if !strings.Contains(out["text"], want) {
			t.Errorf("text lacks %q", want)
		}
	}
}
