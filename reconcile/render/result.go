package render

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/felhom/felhom/pve/wire"
	"github.com/felhom/felhom/reconcile/result"
)

// ResultText writes what apply did for people, container by container: the
// outcome, each step with its task and status, task warnings and log tails,
// the snapshot, rollback or half-done steps, what is left pending, and a
// closing count. It starts with the first container's line; a caller that
// shows the plan above puts a blank line between.
func ResultText(w io.Writer, res *result.Result, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	t := textWriter{w: bw, color: opts.Color}
	t.result(res)
	return bw.Flush()
}

// outcomeMarks are the symbols before a container's line, with their colour.
var outcomeMarks = map[result.Outcome]struct{ color, mark string }{
	result.OutcomeApplied:   {ansiGreen, "✓"},
	result.OutcomeUnchanged: {"", " "},
	result.OutcomeSkipped:   {ansiYellow, "-"},
	result.OutcomeStale:     {ansiRed, "!"},
	result.OutcomeFailed:    {ansiRed, "✗"},
}

func (t *textWriter) result(res *result.Result) {
	for _, c := range res.Containers {
		m := outcomeMarks[c.Outcome]
		mark := m.mark
		if m.color != "" {
			mark = t.paint(m.color, mark)
		}
		head := fmt.Sprintf("%s ct %d %s on %s: %s", mark, c.VMID, c.Name, c.Node, c.Outcome)
		if c.Outcome != result.OutcomeUnchanged && c.Outcome != result.OutcomeSkipped {
			head += fmt.Sprintf(" (%s)", c.Duration.Round(time.Millisecond))
		}
		t.line("%s", head)
		if c.Error != "" {
			t.line("    %s %s", t.paint(ansiRed, "error:"), c.Error)
		}
		if c.Outcome == result.OutcomeUnchanged || c.Outcome == result.OutcomeSkipped && len(c.Steps) == 0 {
			continue
		}
		for i, s := range c.Steps {
			line := fmt.Sprintf("    %d. %-9s %s", i+1, s.Status, s.Step.String())
			if j := doneBy(c.Steps[:i], s.UPID); j >= 0 {
				// A step folded into an earlier step's task (a prune the
				// vzdump carried out) shares that task's UPID; say so
				// instead of showing the task as if it were its own.
				line += fmt.Sprintf("  (done by the %stask of step %d)", taskType(s.UPID), j+1)
			} else if s.UPID != "" {
				line += "  [" + s.ExitStatus + "] " + s.UPID
			}
			if s.Status == result.StepSkipped && s.Error != "" {
				line += "  (" + s.Error + ")"
			}
			t.line("%s", line)
			for _, l := range s.Warnings {
				t.line("         %s", l)
			}
			if s.Status == result.StepFailed {
				t.line("         %s", s.Error)
				for _, l := range s.LogTail {
					t.line("         | %s", l)
				}
			}
		}
		if c.Snapshot != "" {
			t.line("    snapshot: %s", c.Snapshot)
		}
		if c.Rollback != nil {
			t.line("    rollback: %s %s", c.Rollback.Status, c.Rollback.UPID)
			for _, l := range c.Rollback.LogTail {
				t.line("         | %s", l)
			}
		}
		if len(c.HalfDone) > 0 {
			t.line("    half-done: %s", strings.Join(c.HalfDone, "; "))
		}
		if len(c.Pending) > 0 {
			t.line("    pending until restart: %s", strings.Join(c.Pending, ", "))
		}
		for _, wn := range c.Warnings {
			t.line("    %s %s", t.paint(ansiYellow, "note:"), wn)
		}
	}
	t.line("")
	t.line("%s", ResultSummaryLine(res))
	if res.Cancelled {
		t.line("Interrupted: containers not started were skipped; started ones stopped after their running task.")
	}
}

// ResultSummaryLine counts the outcomes: "Apply: 2 applied, 1 unchanged, 0
// skipped, 0 stale, 1 failed."
func ResultSummaryLine(res *result.Result) string {
	n := res.Count()
	return fmt.Sprintf("Apply: %d applied, %d unchanged, %d skipped, %d stale, %d failed.",
		n[result.OutcomeApplied], n[result.OutcomeUnchanged], n[result.OutcomeSkipped], n[result.OutcomeStale], n[result.OutcomeFailed])
}

// doneBy returns the index of the step among earlier whose task is upid
// (the step that carried out a later step folded into it), or -1.
func doneBy(earlier []result.StepResult, upid string) int {
	if upid == "" {
		return -1
	}
	for j, s := range earlier {
		if s.UPID == upid {
			return j
		}
	}
	return -1
}

// taskType is upid's task type followed by a space ("vzdump "), or "" when
// upid does not parse.
func taskType(upid string) string {
	u, err := wire.ParseUPID(upid)
	if err != nil {
		return ""
	}
	return u.Type + " "
}

// ResultJSON writes the result as it is, indented, with a trailing newline
// (the fields' json names are the contract; HTML characters are escaped, as
// encoding/json does by default).
func ResultJSON(w io.Writer, res *result.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
