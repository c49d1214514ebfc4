package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/felhom/felhom/reconcile/result"
)

// ResultMarkdownMarker is the first line of every Markdown result, so that a
// bot can find (and update) its notification as it does a plan's comment.
const ResultMarkdownMarker = "<!-- felhom-apply -->"

// resultMarks are the Markdown result's outcome symbols.
var resultMarks = map[result.Outcome]string{
	result.OutcomeApplied:   "✅",
	result.OutcomeUnchanged: "⚪",
	result.OutcomeSkipped:   "⏭️",
	result.OutcomeStale:     "⚠️",
	result.OutcomeFailed:    "❌",
}

// ResultMarkdown writes what apply did as a notification: the marker, a
// heading with the counts, a table with one row per container (outcome and
// failure kind, time taken, snapshot), then a collapsible section for each
// container that has something to tell (an error, steps, warnings, pending
// keys), with the failed step's task log tail. Values are escaped so that no
// PVE message can break the table or inject HTML, and the output stays
// within MarkdownLimit bytes: sections that do not fit are counted instead.
func ResultMarkdown(w io.Writer, res *result.Result) error {
	var m mdWriter
	m.result(res)
	_, err := io.WriteString(w, m.b.String())
	return err
}

func (m *mdWriter) result(res *result.Result) {
	m.line("%s", ResultMarkdownMarker)
	m.line("### %s", cell(strings.TrimSuffix(ResultSummaryLine(res), ".")))
	if res.Cancelled {
		m.line("")
		m.line("**Interrupted:** containers not started were skipped; started ones stopped after their running task.")
	}
	if len(res.Containers) == 0 {
		return
	}
	m.line("")
	m.line("| | Container | Node | Outcome | Took | Snapshot |")
	m.line("|---|---|---|---|---|---|")
	left := 0
	for _, c := range res.Containers {
		outcome := string(c.Outcome)
		if c.Failure != "" && string(c.Failure) != string(c.Outcome) {
			outcome += " (" + string(c.Failure) + ")"
		}
		took := ""
		if c.Outcome != result.OutcomeUnchanged && c.Outcome != result.OutcomeSkipped {
			took = c.Duration.Round(time.Millisecond).String()
		}
		row := fmt.Sprintf("| %s | ct %d %s | %s | %s | %s | %s |", resultMarks[c.Outcome], c.VMID, code(c.Name), cell(c.Node), outcome, took, code(c.Snapshot))
		if !m.fits(len(row) + 1) {
			left++
			continue
		}
		m.line("%s", row)
	}
	for _, c := range res.Containers {
		if !resultHasDetails(c) {
			continue
		}
		var d mdWriter
		d.resultDetails(c)
		if !m.fits(d.b.Len() + 1) {
			left++
			continue
		}
		m.line("")
		m.b.WriteString(d.b.String())
	}
	if left > 0 {
		m.line("")
		m.line("_%d more rows or sections left out to stay within %d bytes; see felhom apply's own output._", left, MarkdownLimit)
	}
}

func resultHasDetails(c result.ContainerResult) bool {
	if c.Error != "" || len(c.Warnings) > 0 || len(c.Pending) > 0 || len(c.HalfDone) > 0 || c.Rollback != nil {
		return true
	}
	return c.Outcome != result.OutcomeUnchanged && len(c.Steps) > 0
}

func (m *mdWriter) resultDetails(c result.ContainerResult) {
	m.line("<details><summary>%s ct %d %s: %s</summary>", resultMarks[c.Outcome], c.VMID, html(c.Name), c.Outcome)
	m.blank()
	if c.Error != "" {
		m.line("**Error:** %s", cell(c.Error))
		m.blank()
	}
	for i, s := range c.Steps {
		line := fmt.Sprintf("%d. %s %s", i+1, s.Status, cell(s.Step.String()))
		if j := doneBy(c.Steps[:i], s.UPID); j >= 0 {
			line += fmt.Sprintf(" (done by the %stask of step %d)", taskType(s.UPID), j+1)
		} else if s.UPID != "" {
			line += " · " + code(s.ExitStatus) + " · " + code(s.UPID)
		}
		if s.Error != "" && s.Status != result.StepApplied {
			line += " (" + cell(s.Error) + ")"
		}
		m.line("%s", line)
		for _, l := range s.Warnings {
			m.line("   - %s", cell(l))
		}
		if s.Status == result.StepFailed && len(s.LogTail) > 0 {
			m.pre(s.LogTail)
		}
	}
	if len(c.Steps) > 0 {
		m.blank()
	}
	if c.Rollback != nil {
		m.line("- rollback: %s %s", c.Rollback.Status, code(c.Rollback.UPID))
		if len(c.Rollback.LogTail) > 0 {
			m.pre(c.Rollback.LogTail)
		}
	}
	if len(c.HalfDone) > 0 {
		m.line("- half-done: %s", cell(strings.Join(c.HalfDone, "; ")))
	}
	if len(c.Pending) > 0 {
		m.line("- pending until restart: %s", cell(strings.Join(c.Pending, ", ")))
	}
	for _, wn := range c.Warnings {
		m.line("- note: %s", cell(wn))
	}
	m.blank()
	m.line("</details>")
}

// pre writes lines (a task log tail) as an indented, escaped <pre> block.
func (m *mdWriter) pre(lines []string) {
	esc := make([]string, len(lines))
	for i, l := range lines {
		esc[i] = html(l)
	}
	m.blank()
	m.line("   <pre>%s</pre>", strings.Join(esc, "\n"))
	m.blank()
}

// blank ends the paragraph: one empty line, never two in a row.
func (m *mdWriter) blank() {
	if !strings.HasSuffix(m.b.String(), "\n\n") {
		m.b.WriteByte('\n')
	}
}
