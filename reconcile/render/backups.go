package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/felhom/felhom/reconcile/plan"
)

// backupTime prints an RFC 3339 string of the plan as "2006-01-02 15:04"
// (its own offset kept); "" stays "".
func backupTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Format("2006-01-02 15:04")
}

// backupAge is how old the last backup is at the plan's time.
func backupAge(p *plan.Plan, b plan.BackupSchedule) string {
	t, err := time.Parse(time.RFC3339, b.LastBackup)
	if err != nil || p.CreatedAt.IsZero() {
		return ""
	}
	return roundAge(p.CreatedAt.Sub(t))
}

func roundAge(d time.Duration) string {
	d = max(d, 0).Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%dd%dh", h/24, h%24)
	case h > 0 && m == 0:
		return fmt.Sprintf("%dh", h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// backupState is the one-word freshness of a schedule.
func backupState(b plan.BackupSchedule) string {
	switch {
	case b.Error != "":
		return "error"
	case b.Overdue && b.Due:
		return "overdue, due now"
	case b.Overdue:
		return "overdue"
	case b.Due:
		return "due"
	}
	return "fresh"
}

func (t *textWriter) backups(p *plan.Plan) {
	bs := p.Backups
	t.line("%s", t.paint(ansiBold, fmt.Sprintf("Backups: %d scheduled, %d overdue", len(bs.Containers), bs.Overdue)))
	t.line("  %s", oneLine(bs.RunBy))
	for _, b := range bs.Containers {
		head := fmt.Sprintf("ct %d %s on %s, %q to %s", b.VMID, oneLine(b.Name), oneLine(b.Node), b.Schedule, oneLine(b.Storage))
		if b.Error != "" {
			t.line("  %s %s: %s", t.paint(ansiRed, "!"), head, oneLine(b.Error))
			continue
		}
		mark, state := " ", backupState(b)
		if b.Overdue {
			mark = t.paint(ansiRed, "!")
			state = t.paint(ansiRed, state)
		}
		t.line("  %s %s: %s", mark, head, state)
		if b.NextRun != "" {
			t.line("      next run  %s %s (%s UTC)", backupTime(b.NextRun), b.TimeZone, backupTime(b.NextRunUTC))
		} else {
			t.line("      next run  never (the schedule does not fire again)")
		}
		if b.LastBackup == "" {
			t.line("      last      none on %s", oneLine(b.Storage))
		} else {
			last := fmt.Sprintf("      last      %s, %s old (%s on the storage", backupTime(b.LastBackup), backupAge(p, b), plural(b.Backups, "backup", "backups"))
			if b.MaxAgeSeconds > 0 {
				last += "; overdue after " + roundAge(time.Duration(b.MaxAgeSeconds)*time.Second)
			}
			t.line("%s)", last)
		}
		switch {
		case b.Retention == "":
			t.line("      retention the storage's own")
		case len(b.Removes) == 0:
			t.line("      retention %s: the next run removes none", b.Retention)
		default:
			t.line("      retention %s: the next run removes %s", b.Retention, oneLine(strings.Join(b.Removes, ", ")))
		}
	}
}

func (m *mdWriter) backups(p *plan.Plan) {
	bs := p.Backups
	m.line("")
	m.line("**Backups**: %d scheduled, %d overdue. %s", len(bs.Containers), bs.Overdue, cell(bs.RunBy))
	m.line("")
	m.line("| container | schedule | next run (node time) | next run (UTC) | last backup | state | next run removes |")
	m.line("| --- | --- | --- | --- | --- | --- | --- |")
	for i, b := range bs.Containers {
		row := m.backupRow(p, b)
		if !m.fits(len(row) + 200) { // room for the note and the containers' table
			m.line("")
			m.line("_%s not shown: the comment would pass GitHub's size limit (`felhom plan --output json` has all)._",
				plural(len(bs.Containers)-i, "backup schedule", "backup schedules"))
			return
		}
		m.b.WriteString(row)
	}
}

// backupRow is one schedule's table row, with its line feed.
func (m *mdWriter) backupRow(p *plan.Plan, b plan.BackupSchedule) string {
	who := code(fmt.Sprint(b.VMID)) + " " + cell(b.Name)
	if b.Error != "" {
		return fmt.Sprintf("| %s | %s | | | | **error**: %s | |\n", who, code(b.Schedule), cell(b.Error))
	}
	next := "never"
	if b.NextRun != "" {
		next = backupTime(b.NextRun) + " " + cell(b.TimeZone)
	}
	last := "none"
	if b.LastBackup != "" {
		last = backupTime(b.LastBackup) + " (" + backupAge(p, b) + " old)"
	}
	state := backupState(b)
	if b.Overdue {
		state = "**" + state + "**"
	}
	removes := "none"
	switch {
	case b.Retention == "":
		removes = "(the storage's retention)"
	case len(b.Removes) > 0:
		removes = fmt.Sprint(len(b.Removes))
	}
	return fmt.Sprintf("| %s | %s on %s | %s | %s | %s | %s | %s |\n", who, code(b.Schedule), cell(b.Storage), next, backupTime(b.NextRunUTC), last, state, removes)
}
