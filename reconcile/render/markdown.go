package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/felhom/felhom/reconcile/plan"
)

// MarkdownMarker is the first line of every Markdown plan. A bot looks for it
// among a pull request's comments and edits that comment instead of adding a
// new one. It never changes.
const MarkdownMarker = "<!-- felhom-plan -->"

// MarkdownLimit is the most bytes Markdown writes. GitHub refuses comments
// longer than 65536 characters; past this limit the rows and sections that
// do not fit are left out and counted in a closing note.
const MarkdownLimit = 60000

// markdownTailReserve keeps room for the closing note and the apply footer.
const markdownTailReserve = 600

// Markdown writes the plan as a pull-request comment: MarkdownMarker, a
// heading with the summary, a table with one row for each container that
// has something to show (changes, steps, reasons it is refused, notes, or
// that it is missing; the others are counted as unchanged in the heading),
// then one collapsible <details> section for each of them. Values are
// escaped so that no spec or live value can break the table or inject HTML.
// The output stays within MarkdownLimit bytes.
func Markdown(w io.Writer, p *plan.Plan) error {
	var m mdWriter
	m.plan(p)
	_, err := io.WriteString(w, m.b.String())
	return err
}

type mdWriter struct{ b strings.Builder }

func (m *mdWriter) line(format string, args ...any) {
	fmt.Fprintf(&m.b, format, args...)
	m.b.WriteByte('\n')
}

// fits reports whether n more bytes stay within the limit.
func (m *mdWriter) fits(n int) bool { return m.b.Len()+n <= MarkdownLimit-markdownTailReserve }

func (m *mdWriter) plan(p *plan.Plan) {
	s := p.Summary()
	m.line("%s", MarkdownMarker)
	m.line("### felhom plan: %d to change, %d unchanged, %d blocked, %d missing, %s%s",
		s.Changes, s.Unchanged, s.Blocked, s.Missing, plural(s.Errors, "error", "errors"), unmanagedCount(p))
	m.line("")
	var meta []string
	if p.SourceRevision != "" {
		meta = append(meta, "Source revision "+code(shortRevision(p.SourceRevision)))
	}
	if !p.CreatedAt.IsZero() {
		meta = append(meta, "made "+p.CreatedAt.UTC().Format(time.DateTime)+" UTC")
	}
	meta = append(meta, "plan format "+p.FormatVersion)
	line := strings.Join(meta, ", ")
	m.line("%s.", strings.ToUpper(line[:1])+line[1:])

	if len(p.Warnings) > 0 {
		m.line("")
		m.line("**Warnings**")
		m.line("")
		for _, w := range p.Warnings {
			m.line("- %s", cell(w))
		}
	}
	m.drift(p)
	m.unmanaged(p)
	if p.Backups != nil {
		m.backups(p)
	}
	if len(p.Containers) == 0 {
		m.line("")
		m.line("No containers in the specs.")
		return
	}
	var shown []plan.ContainerPlan
	for _, c := range p.Containers {
		if hasDetails(c) {
			shown = append(shown, c)
		}
	}
	if len(shown) == 0 {
		m.line("")
		m.line("Every container matches its spec.")
		return
	}

	m.line("")
	m.line("| container | node | status | changes | restart | steps |")
	m.line("| --- | --- | --- | ---: | --- | ---: |")
	rows := 0
	for _, c := range shown {
		row := fmt.Sprintf("| %s %s | %s | %s | %d | %s | %d |\n", code(fmt.Sprint(c.VMID)), cell(c.Name), cell(c.Node),
			statusCell(c.Status), countNew(c.Changes), restartCell(c), len(c.Steps))
		if !m.fits(len(row)) {
			break
		}
		m.b.WriteString(row)
		rows++
	}
	sections := 0
	for _, c := range shown[:rows] {
		var sub mdWriter
		sub.container(c)
		if !m.fits(sub.b.Len()) {
			break
		}
		m.b.WriteString(sub.b.String())
		sections++
	}
	if left := len(shown) - sections; left > 0 {
		m.line("")
		m.line("_%s not shown: the comment would pass GitHub's size limit. The full plan is in the job's output (`felhom plan --output json`)._",
			plural(left, "container's details", "containers' details"))
	}
	if s.Changes > 0 {
		m.line("")
		m.line("---")
		m.line("%s", applyFooter)
	}
}

// applyFooter ends a comment whose plan has changes: how they get applied.
// It and the closing note fit in markdownTailReserve.
const applyFooter = "_To apply: merge, if your pipeline applies the merged branch, or run `felhom apply DIR` " +
	"(plans again) or `felhom apply plan.json` (exactly this plan, saved with `felhom plan --out plan.json`; " +
	"refused for a container changed since)._"

// drift calls out, before the tables, the fields changed outside felhom
// (the live value differs from what felhom last applied), per container.
func (m *mdWriter) drift(p *plan.Plan) {
	var items []string
	for _, c := range p.Containers {
		var paths []string
		for _, ch := range c.Changes {
			if ch.Drift {
				paths = append(paths, code(ch.Path))
			}
		}
		if len(paths) > 0 {
			items = append(items, fmt.Sprintf("ct %d %s: %s", c.VMID, cell(c.Name), strings.Join(paths, ", ")))
		}
	}
	if len(items) == 0 {
		return
	}
	line := "> **Changed outside felhom** (drift: the live value differs from what felhom last applied): " + strings.Join(items, "; ") + "."
	if !m.fits(len(line) + 20) {
		line = fmt.Sprintf("> **Changed outside felhom** (drift) on %s; the details below mark each field.", plural(len(items), "container", "containers"))
	}
	m.line("")
	m.line("> [!WARNING]")
	m.line("%s", line)
}

func statusCell(s plan.Status) string {
	switch s {
	case plan.StatusChanges:
		return "**changes**"
	case plan.StatusBlocked, plan.StatusError:
		return "**" + string(s) + "**"
	}
	return string(s)
}

// restartCell says whether the plan restarts, starts or shuts down the
// container, or leaves changes waiting for a restart.
func restartCell(c plan.ContainerPlan) string {
	for _, s := range c.Steps {
		if s.Action.IsRestart() {
			return "reboot"
		}
		if s.Action.IsPower() {
			return s.Action.Token() // start or shutdown
		}
	}
	if c.Status != plan.StatusChanges && c.Status != plan.StatusUnchanged {
		return ""
	}
	for _, ch := range c.Changes {
		if ch.Class.NeedsRestart() {
			return "pending"
		}
	}
	return ""
}

func hasDetails(c plan.ContainerPlan) bool {
	return len(c.Changes) > 0 || len(c.Steps) > 0 || len(c.Blocked) > 0 ||
		len(c.Warnings) > 0 || c.Status == plan.StatusMissing
}

func (m *mdWriter) container(c plan.ContainerPlan) {
	m.line("")
	restart := ""
	switch restartCell(c) {
	case "reboot":
		restart = ", <b>reboots</b>"
	case "pending":
		restart = ", restart pending"
	case plan.ActionStart.Token():
		restart = ", <b>starts</b>"
	case plan.ActionShutdown.Token():
		restart = ", <b>shuts down</b>"
	}
	m.line("<details><summary><b>ct %d %s</b>: %s%s</summary>", c.VMID, html(c.Name), html(statusPhrase(c)), restart)
	m.line("")
	state := "stopped"
	if c.Running {
		state = "running"
	}
	switch c.Status {
	case plan.StatusMissing:
		m.line("Not found on PVE (the spec puts it on node %s).", code(c.Node))
	case plan.StatusChanges:
		if c.Creates() {
			m.line("Not on PVE yet: the plan creates it on node %s.", code(c.Node))
			break
		}
		m.line("Node %s, %s, config digest %s.", code(c.Node), state, code(c.Digest))
	default:
		m.line("Node %s, %s, config digest %s.", code(c.Node), state, code(c.Digest))
	}
	if len(c.Changes) > 0 {
		m.line("")
		m.line("| | field | before | after | class | why |")
		m.line("| --- | --- | --- | --- | --- | --- |")
		prevWhy := ""
		for _, ch := range c.Changes {
			sym := ch.Op.Symbol()
			if ch.Class == plan.ClassAwaitingRestart {
				sym = "="
			}
			class := ClassLabel(ch.Class)
			if ch.Privileged {
				class += ", privileged"
			}
			if ch.Drift {
				class += ", **drift**"
			}
			before, after := cell(ch.Before), cell(ch.After)
			if b, a, quoted := changeValues(ch.Before, ch.After); quoted {
				// Markdown would swallow the difference (spaces at a cell's
				// ends, invisible characters): show both quoted.
				before, after = code(b), code(a)
			}
			// A why the row above gave already is cut to a ditto mark:
			// wide property strings leave the column little room.
			why := cell(ch.Reason)
			if ch.Reason != "" && ch.Reason == prevWhy {
				why = "〃"
			}
			prevWhy = ch.Reason
			m.line("| %s | %s | %s | %s | %s | %s |", code(sym), code(ch.Path), before, after, class, why)
		}
	}
	if len(c.Blocked) > 0 {
		m.line("")
		m.line("**Refused**")
		m.line("")
		for _, b := range c.Blocked {
			m.line("- %s", cell(b))
		}
	}
	if len(c.Warnings) > 0 {
		m.line("")
		m.line("**Notes**")
		m.line("")
		for _, w := range c.Warnings {
			m.line("- %s", cell(w))
		}
	}
	if len(c.Steps) > 0 {
		m.line("")
		m.line("**Steps**")
		m.line("")
		for i, s := range c.Steps {
			why := ""
			if s.Why != "" {
				why = ": " + cell(s.Why)
			}
			m.line("%d. %s%s", i+1, cell(s.String()), why)
		}
	}
	if leaves(c) {
		m.line("")
		m.line("On failure: %s.", cell(leaveNote))
	}
	if len(c.Privileges) > 0 || c.RootOn != "" {
		var names []string
		if c.RootOn != "" {
			names = append(names, "root on node "+code(c.RootOn))
		}
		for _, pr := range c.Privileges {
			names = append(names, code(pr.Name)+" on "+code(pr.Path))
		}
		m.line("")
		m.line("Needs %s.", strings.Join(names, ", "))
	}
	m.line("")
	m.line("</details>")
}

// html escapes text for HTML and Markdown alike and keeps it on one line.
func html(s string) string {
	r := strings.NewReplacer(
		"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
		"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
	)
	return r.Replace(oneLineKeepNewlines(s))
}

// cell makes s safe in a Markdown table cell or list item: HTML escaped, one
// line, and the characters Markdown would interpret escaped with a backslash.
func cell(s string) string {
	if s == "" {
		return ""
	}
	s = html(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]|#~!", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// code writes s as a code span. Backticks and pipes cannot be escaped inside
// a span, so such values fall back to an escaped cell.
// maxRevisionRunes bounds the source revision shown in the Markdown header: a
// commit id or a spec digest fits; anything longer must not eat the comment's
// size budget that the containers' details need.
const maxRevisionRunes = 64

// shortRevision cuts a source revision longer than maxRevisionRunes, marking
// the cut with "…".
func shortRevision(s string) string {
	r := []rune(s)
	if len(r) <= maxRevisionRunes {
		return s
	}
	return string(r[:maxRevisionRunes-1]) + "…"
}

func code(s string) string {
	if s == "" {
		return ""
	}
	if strings.ContainsAny(s, "`|\n\r<>&") {
		return cell(s)
	}
	return "`" + s + "`"
}

// oneLineKeepNewlines escapes control characters other than newlines, which
// html turns into <br>.
func oneLineKeepNewlines(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return isControl(r) && r != '\n' && r != '\r' }) {
		return s
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		body := strings.TrimRight(line, "\r\n")
		b.WriteString(oneLine(body))
		b.WriteString(line[len(body):])
	}
	return b.String()
}

// unmanaged writes the containers no spec names as a table, as many rows as
// fit within a tenth of the limit, the rest counted.
func (m *mdWriter) unmanaged(p *plan.Plan) {
	if len(p.Unmanaged) == 0 {
		return
	}
	m.line("")
	m.line("**%s**", cell(unmanagedHead))
	m.line("")
	m.line("| container | node |")
	m.line("| --- | --- |")
	budget := MarkdownLimit / 10
	for i, u := range p.Unmanaged {
		row := fmt.Sprintf("| %s %s | %s |\n", code(fmt.Sprint(u.VMID)), cell(u.Name), cell(u.Node))
		if budget -= len(row); budget < 0 || !m.fits(len(row)) {
			m.line("")
			m.line("_%s more not shown (`felhom plan --output json` lists them all)._", plural(len(p.Unmanaged)-i, "container", "containers"))
			return
		}
		m.b.WriteString(row)
	}
}
