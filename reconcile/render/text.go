package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// TextOptions tune the text renderer.
type TextOptions struct {
	// Color adds ANSI colours: green for additions, yellow for updates, red
	// for removals and refusals. The caller decides (a terminal, no NO_COLOR).
	Color bool
}

// ANSI escape sequences used when TextOptions.Color is set.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
)

// Text writes the plan for people, terraform-like: one block per container
// with one line per change ("~ memory  1 GiB → 2 GiB  (hot)"), the steps
// apply will take, and a closing summary line.
func Text(w io.Writer, p *plan.Plan, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	t := textWriter{w: bw, color: opts.Color}
	t.plan(p)
	return bw.Flush()
}

type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) line(format string, args ...any) {
	fmt.Fprintf(t.w, format, args...)
	t.w.WriteByte('\n')
}

func (t *textWriter) plan(p *plan.Plan) {
	head := "felhom plan"
	if p.SourceRevision != "" {
		head += " for " + oneLine(p.SourceRevision)
	}
	if !p.CreatedAt.IsZero() {
		head += " (made " + p.CreatedAt.UTC().Format(time.DateTime) + " UTC)"
	}
	t.line("%s", t.paint(ansiBold, head))
	for _, c := range p.Containers {
		t.line("")
		t.container(c)
	}
	if len(p.Unmanaged) > 0 {
		t.line("")
		t.line("%s", t.paint(ansiBold, unmanagedHead))
		for _, u := range p.Unmanaged {
			t.line("  %s ct %d %s on %s", t.paint(ansiDim, "-"), u.VMID, oneLine(u.Name), oneLine(u.Node))
		}
	}
	if p.Backups != nil {
		t.line("")
		t.backups(p)
	}
	if len(p.Warnings) > 0 {
		t.line("")
		t.line("%s", t.paint(ansiYellow, "Warnings:"))
		for _, w := range p.Warnings {
			t.line("  - %s", oneLine(w))
		}
	}
	t.line("")
	t.line("%s", t.paint(ansiBold, SummaryLine(p)))
}

// containerSymbol is the mark before a container's header line.
func (t *textWriter) containerSymbol(s plan.Status) string {
	switch s {
	case plan.StatusChanges:
		return t.paint(ansiYellow, "~")
	case plan.StatusBlocked, plan.StatusError:
		return t.paint(ansiRed, "!")
	case plan.StatusMissing:
		return t.paint(ansiRed, "?")
	}
	return " "
}

func (t *textWriter) container(c plan.ContainerPlan) {
	head := fmt.Sprintf("ct %d %s", c.VMID, oneLine(c.Name))
	if c.Node != "" {
		head += " on " + oneLine(c.Node)
	}
	if c.Status != plan.StatusMissing && !c.Creates() {
		if c.Running {
			head += " (running)"
		} else {
			head += " (stopped)"
		}
	}
	t.line("%s %s: %s", t.containerSymbol(c.Status), t.paint(ansiBold, head), statusPhrase(c))

	width := 0
	for _, ch := range c.Changes {
		width = max(width, utf8.RuneCountInString(ch.Path))
	}
	for _, ch := range c.Changes {
		t.change(ch, width)
	}
	for _, b := range c.Blocked {
		t.line("    %s %s", t.paint(ansiRed, "refused:"), oneLine(b))
	}
	for _, w := range c.Warnings {
		t.line("    %s %s", t.paint(ansiYellow, "note:"), oneLine(w))
	}
	if len(c.Steps) > 0 {
		t.line("    steps:")
		for i, s := range c.Steps {
			why := ""
			if s.Why != "" {
				why = t.paint(ansiDim, "  # "+oneLine(s.Why))
			}
			t.line("      %d. %s%s", i+1, oneLine(s.String()), why)
		}
	}
	if leaves(c) {
		t.line("    %s %s", t.paint(ansiYellow, "on failure:"), leaveNote)
	}
	if len(c.Privileges) > 0 || c.RootOn != "" {
		var names []string
		if c.RootOn != "" {
			names = append(names, "root on node "+oneLine(c.RootOn))
		}
		for _, pr := range c.Privileges {
			names = append(names, oneLine(pr.String()))
		}
		t.line("    needs: %s", strings.Join(names, ", "))
	}
}

// leaveNote says what the failure policy leave means; rollback, the
// default, is not shown.
const leaveNote = "left as it is, not rolled back (snapshot.on-failure: leave)"

// leaves reports whether a container that apply will change keeps a
// failure's half-done state instead of rolling back.
func leaves(c plan.ContainerPlan) bool {
	return c.Status == plan.StatusChanges && c.OnFailure == spec.OnFailureLeave
}

func (t *textWriter) change(ch plan.Change, width int) {
	sym := ch.Op.Symbol()
	// Quoted values are already one line.
	before, after, quoted := changeValues(ch.Before, ch.After)
	if !quoted {
		before, after = oneLine(before), oneLine(after)
	}
	var value string
	switch ch.Op {
	case plan.OpAdd:
		value = after
	case plan.OpRemove:
		value = before
	default:
		value = before + " → " + after
	}
	code := ansiYellow
	switch ch.Op {
	case plan.OpAdd:
		code = ansiGreen
	case plan.OpRemove:
		code = ansiRed
	}
	switch ch.Class {
	case plan.ClassAwaitingRestart:
		sym, code = "=", ansiCyan
	case plan.ClassRootOnly, plan.ClassImpossible:
		code = ansiRed
	}
	pad := strings.Repeat(" ", width-utf8.RuneCountInString(ch.Path))
	classCode := ansiDim
	switch {
	case ch.Class.NeedsRestart():
		classCode = ansiCyan
	case ch.Class == plan.ClassRootOnly, ch.Class == plan.ClassImpossible:
		classCode = ansiRed
	}
	tail := t.paint(classCode, "("+ClassLabel(ch.Class)+")")
	if ch.Privileged {
		tail += " " + t.paint(ansiYellow, "(privileged)")
	}
	if ch.Drift {
		tail += " " + t.paint(ansiMagenta, "drift")
	}
	t.line("    %s %s%s  %s  %s", t.paint(code, sym), oneLine(ch.Path), pad, value, tail)
}

// statusPhrase is the end of a container's header line.
func statusPhrase(c plan.ContainerPlan) string {
	switch c.Status {
	case plan.StatusChanges:
		if c.Creates() {
			return "new container, " + plural(countNew(c.Changes), "setting", "settings")
		}
		return plural(countNew(c.Changes), "change", "changes")
	case plan.StatusUnchanged:
		// An unchanged container lists only changes awaiting a restart and
		// drift its policy (drift: report) leaves as found.
		var notes []string
		if n := len(c.Changes) - countNew(c.Changes); n > 0 {
			notes = append(notes, plural(n, "change", "changes")+" awaiting restart")
		}
		if n := countNew(c.Changes); n > 0 {
			notes = append(notes, plural(n, "hand change", "hand changes")+" left as found")
		}
		if len(notes) > 0 {
			return "no changes (" + strings.Join(notes, ", ") + ")"
		}
		return "no changes"
	case plan.StatusMissing:
		return "missing: not found on PVE (a create section would create it)"
	case plan.StatusBlocked:
		return "blocked"
	case plan.StatusError:
		return "error"
	}
	return string(c.Status)
}

// countNew counts changes that are not merely awaiting a restart.
func countNew(chs []plan.Change) int {
	n := 0
	for _, ch := range chs {
		if ch.Class != plan.ClassAwaitingRestart {
			n++
		}
	}
	return n
}

// ClassLabel is a class for people: "hot", "pending restart", "root only",
// "impossible" or "awaiting restart".
func ClassLabel(c plan.Class) string { return strings.ReplaceAll(string(c), "-", " ") }

// SummaryLine is the plan's closing line, such as
// "Plan: 2 to change, 5 unchanged, 1 blocked, 0 missing, 0 errors."
func SummaryLine(p *plan.Plan) string {
	s := p.Summary()
	return fmt.Sprintf("Plan: %d to change, %d unchanged, %d blocked, %d missing, %s%s.",
		s.Changes, s.Unchanged, s.Blocked, s.Missing, plural(s.Errors, "error", "errors"), unmanagedCount(p))
}

// unmanagedHead introduces the list of unmanaged containers.
const unmanagedHead = "Unmanaged: on PVE, named by no spec; felhom does not touch them:"

// unmanagedCount is "; N unmanaged" for the summary, "" when there are none.
func unmanagedCount(p *plan.Plan) string {
	if len(p.Unmanaged) == 0 {
		return ""
	}
	return fmt.Sprintf("; %d unmanaged", len(p.Unmanaged))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// oneLine keeps a value on one line: newlines and other control characters
// (a description may hold them, and a terminal must not interpret them) are
// shown escaped.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
