package render

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/golden"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/result"
)

// resultFixtures are apply results to render: "result" has every kind of
// line (outcomes, steps with tasks, a failed task's log tail, the rollback,
// half-done steps, pending keys and notes, a prune done by the vzdump's
// task); "cancelled" is an interrupted run with nothing in it.
func resultFixtures() map[string]*result.Result {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	snap := plan.Step{Action: plan.ActionSnapshot, Params: map[string]string{"snapname": "felhom-20261125t100000-abc"}}
	set := plan.Step{Action: plan.ActionSetConfig, Params: map[string]string{"memory": "2048", "nameserver": "9.9.9.9"}}
	reboot := plan.Step{Action: plan.ActionReboot, Params: map[string]string{}}
	dump := plan.Step{Action: plan.ActionVzdump, Params: map[string]string{"storage": "nas", "mode": "snapshot"}}
	prune := plan.Step{Action: plan.ActionPrune, Params: map[string]string{"storage": "nas", "prune-backups": "keep-weekly=4", "type": "lxc", "vmid": "102"}}
	const dumpUPID = "UPID:pve2:0000A1B2:0012C3D4:6745A0B0:vzdump:102:felhom@pve!ci:"
	res := &result.Result{Started: at, Finished: at.Add(7 * time.Second), Containers: []result.ContainerResult{
		{Name: "web", Node: "pve1", VMID: 101, Outcome: result.OutcomeFailed, Failure: result.FailureTask, Duration: 1234 * time.Millisecond,
			Error:    "step 3 (reboot): task vzreboot 101 on pve1: reboot timed out; rolled back to felhom-20261125t100000-abc",
			Snapshot: "felhom-20261125t100000-abc", RolledBack: true,
			Steps: []result.StepResult{
				{Step: snap, Status: result.StepApplied, UPID: "UPID:pve1:1", ExitStatus: "WARNINGS: 1", Warnings: []string{"WARN: fs busy"}},
				{Step: set, Status: result.StepApplied},
				{Step: reboot, Status: result.StepFailed, UPID: "UPID:pve1:2", ExitStatus: "reboot timed out",
					Error: "task vzreboot 101 on pve1: reboot timed out", LogTail: []string{"stopping", "TASK ERROR: reboot timed out"}},
			},
			Rollback: &result.StepResult{Step: snap, Status: result.StepApplied, UPID: "UPID:pve1:3"},
			Warnings: []string{"vzsnapshot ended with WARNINGS: 1"}},
		{Name: "db", Node: "pve2", VMID: 201, Outcome: result.OutcomeApplied, Duration: 800 * time.Millisecond,
			Steps:   []result.StepResult{{Step: snap, Status: result.StepApplied, UPID: "UPID:pve2:4", ExitStatus: "OK"}, {Step: set, Status: result.StepApplied}},
			Pending: []string{"nameserver"}, Snapshot: "felhom-20261125t100000-abc"},
		{Name: "files", Node: "pve2", VMID: 102, Outcome: result.OutcomeApplied, Duration: 5 * time.Second,
			// The prune rode on the vzdump's task: same UPID, shown as done by it.
			Steps: []result.StepResult{
				{Step: dump, Status: result.StepApplied, UPID: dumpUPID, ExitStatus: "OK"},
				{Step: set, Status: result.StepApplied},
				{Step: prune, Status: result.StepApplied, UPID: dumpUPID, ExitStatus: "OK"},
			}},
		{Name: "dns", Node: "pve1", VMID: 103, Outcome: result.OutcomeSkipped, Failure: result.FailureBlocked, Error: "planned as blocked: PVE cannot snapshot this container"},
		{Name: "cache", Node: "pve1", VMID: 104, Outcome: result.OutcomeUnchanged},
		{Name: "app", Node: "pve1", VMID: 105, Outcome: result.OutcomeStale, Failure: result.FailureStale, Duration: 10 * time.Millisecond,
			Error: "config changed since the plan was made; re-plan",
			Steps: []result.StepResult{{Step: set, Status: result.StepSkipped, Error: "stale"}}},
	}}
	return map[string]*result.Result{
		"result":    res,
		"cancelled": {Started: at, Finished: at, Cancelled: true},
	}
}

// TestResultGolden: the result as text (with and without colour), JSON,
// Markdown and log records. result.txt is byte for byte what felhom apply
// printed before rendering moved here.
func TestResultGolden(t *testing.T) {
	for name, res := range resultFixtures() {
		t.Run(name, func(t *testing.T) {
			var txt, color, js, md, logs bytes.Buffer
			if err := ResultText(&txt, res, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := ResultText(&color, res, TextOptions{Color: true}); err != nil {
				t.Fatal(err)
			}
			if err := ResultJSON(&js, res); err != nil {
				t.Fatal(err)
			}
			if err := ResultMarkdown(&md, res); err != nil {
				t.Fatal(err)
			}
			LogResult(context.Background(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey && len(groups) == 0 {
						return slog.Attr{}
					}
					return a
				}})), res)
			golden.Check(t, filepath.Join("testdata", name+".txt"), txt.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".color.txt"), color.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".json"), js.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".md"), md.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".log"), logs.Bytes())
			if strings.Contains(txt.String(), "\x1b") {
				t.Error("text without colour has escapes")
			}
			var back result.Result
			if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Containers) != len(res.Containers) {
				t.Errorf("JSON does not read back: %v", err)
			}
			if !strings.HasPrefix(md.String(), ResultMarkdownMarker+"\n") {
				t.Error("Markdown does not start with its marker")
			}
		})
	}
}

// TestResultMarkdownEscapes: no value from PVE breaks the table or brings
// its own HTML, and a huge result stays within MarkdownLimit.
func TestResultMarkdownEscapes(t *testing.T) {
	evil := "</details><script>x</script>|`a`\n| row |"
	res := &result.Result{Containers: []result.ContainerResult{{Name: "a|b", Node: "pve1", VMID: 101, Outcome: result.OutcomeFailed,
		Failure: result.FailureTask, Error: evil,
		Steps: []result.StepResult{{Step: plan.Step{Action: plan.ActionReboot, Params: map[string]string{}}, Status: result.StepFailed,
			Error: evil, LogTail: []string{evil, "TASK ERROR: " + evil}}}}}}
	var md bytes.Buffer
	if err := ResultMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	if strings.Contains(out, "<script>") || strings.Count(out, "</details>") != 1 || strings.Contains(out, "\n| row |") {
		t.Errorf("a value broke out:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| ") && strings.Count(l, " | ")+strings.Count(l, "| ")-strings.Count(l, "\\|") < 6 {
			t.Errorf("table row lost cells: %q", l)
		}
	}
	big := &result.Result{}
	for i := range 3000 {
		c := res.Containers[0]
		c.VMID = 1000 + i
		big.Containers = append(big.Containers, c)
	}
	md.Reset()
	if err := ResultMarkdown(&md, big); err != nil {
		t.Fatal(err)
	}
	if md.Len() > MarkdownLimit || !strings.Contains(md.String(), "left out to stay within") {
		t.Errorf("%d bytes for 3000 containers, limit %d", md.Len(), MarkdownLimit)
	}
}

// TestDescribeGolden: the felhom snapshot's description of each container
// of the full plan.
func TestDescribeGolden(t *testing.T) {
	p := fixtures()["full"]
	var b strings.Builder
	for i := range p.Containers {
		b.WriteString(Describe(p, &p.Containers[i]))
		b.WriteString("\n---\n")
	}
	golden.Check(t, filepath.Join("testdata", "describe.txt"), []byte(b.String()))
	if d := Describe(nil, &p.Containers[0]); !strings.HasPrefix(d, "felhom: taken before applying its plan\n") {
		t.Errorf("without a plan: %q", d)
	}
}
