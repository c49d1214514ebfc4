package render

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/golden"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// fixtures are the plans the golden files show.
func fixtures() map[string]*plan.Plan {
	at := time.Date(2026, 11, 25, 17, 29, 25, 0, time.UTC)
	full := &plan.Plan{
		FormatVersion: plan.FormatVersion, SourceRevision: "3f2a9c1", CreatedAt: at,
		Warnings: []string{"the API token lacks VM.PowerMgmt on /vms/101"},
		Containers: []plan.ContainerPlan{
			{
				Name: "web", Node: "pve1", VMID: 101, Digest: "7a1c0e9d", Running: true, Status: plan.StatusChanges,
				Changes: []plan.Change{
					// Differs only in a trailing space: shown quoted.
					{Path: "description", Op: plan.OpUpdate, Before: "Public web server", After: "Public web server ", Class: plan.ClassHot, Reason: "applied to the running container at once"},
					{Path: "memory", Op: plan.OpUpdate, Before: "1 GiB", After: "2 GiB", Class: plan.ClassHot, Reason: "applied to the running container at once"},
					{Path: "mp0.size", Op: plan.OpUpdate, Before: "8 GiB", After: "16 GiB", Class: plan.ClassHot, Reason: "resize grows the volume at once, running or not"},
					{Path: "mp1", Op: plan.OpAdd, After: "local-lvm:4,mp=/srv/cache", Class: plan.ClassHot, Reason: "applied to the running container at once"},
					{Path: "nameserver", Op: plan.OpUpdate, Before: "1.1.1.1", After: "9.9.9.9", Class: plan.ClassPendingRestart, Reason: "PVE keeps it pending until the container restarts", Drift: true},
					{Path: "searchdomain", Op: plan.OpUpdate, Before: "lan", After: "home.arpa", Class: plan.ClassAwaitingRestart, Reason: "PVE holds this value pending"},
					{Path: "tags", Op: plan.OpRemove, Before: "old;web", Class: plan.ClassHot, Reason: "applied to the running container at once"},
				},
				Steps: []plan.Step{
					{Action: plan.ActionSnapshot, Params: map[string]string{"snapname": "felhom-20261125t172925-3f2a9c1"}, Why: "protects the container before its first change"},
					{Action: plan.ActionResize, Params: map[string]string{"disk": "mp0", "size": "16G"}, Why: "grows mp0 to 16G"},
					{Action: plan.ActionSetConfig, Params: map[string]string{"memory": "2048", "mp1": "local-lvm:4,mp=/srv/cache", "nameserver": "9.9.9.9", "delete": "tags"}, Why: "writes 4 keys in one PUT"},
					{Action: plan.ActionReboot, Params: map[string]string{}, Why: "PVE applies 2 changes pending on reboot (restart policy: when-needed)"},
					{Action: plan.ActionSnapshotPrune, Params: map[string]string{"snapname": "felhom-20261001t000000"}, Why: "keeps the newest 3 felhom snapshots"},
				},
				Privileges: []plan.Privilege{{Path: "/storage/local-lvm", Name: "Datastore.AllocateSpace"}, {Path: "/vms/101", Name: "VM.Config.Memory"}},
				OnFailure:  spec.OnFailureLeave,
			},
			{Name: "db", Node: "pve1", VMID: 102, Digest: "99ab", Status: plan.StatusUnchanged, OnFailure: spec.OnFailureRollback},
			{
				Name: "media", Node: "pve2", VMID: 103, Digest: "5e5e", Running: true, Status: plan.StatusBlocked,
				Changes: []plan.Change{
					{Path: "mp2", Op: plan.OpAdd, After: "/tank/media,mp=/media", Class: plan.ClassRootOnly, Reason: "mp2: bind mount points can only be set by root@pam"},
				},
				Blocked: []string{"mp2: bind mount points can only be set by root@pam; no API token may"},
			},
			{
				Name: "ci|runner", Node: "pve2", VMID: 104, Digest: "0f0f", Status: plan.StatusError,
				Changes: []plan.Change{
					{Path: "rootfs.size", Op: plan.OpUpdate, Before: "16 GiB", After: "8 GiB", Class: plan.ClassImpossible, Reason: "PVE cannot shrink a volume"},
					// Differs only in a zero-width space: shown quoted.
					{Path: "searchdomain", Op: plan.OpUpdate, Before: "home.arpa", After: "home\u200b.arpa", Class: plan.ClassHot, Reason: "the container is stopped: applied at once"},
					{Path: "description", Op: plan.OpUpdate, Before: "line one\nline <two>", After: "a | b *c* `d`", Class: plan.ClassHot, Reason: "the container is stopped: applied at once"},
				},
				Blocked: []string{"rootfs.size: PVE cannot shrink a volume"},
			},
			{Name: "ghost", Node: "pve3", VMID: 105, Status: plan.StatusMissing},
			{
				Name: "fresh", Node: "pve1", VMID: 108, Status: plan.StatusChanges,
				Changes: []plan.Change{
					{Path: "memory", Op: plan.OpUpdate, Before: "512 MiB", After: "1 GiB", Class: plan.ClassHot, Reason: "set by the create"},
					{Path: "net0", Op: plan.OpAdd, After: "name=eth0,bridge=vmbr0,ip=dhcp", Class: plan.ClassHot, Reason: "set by the create"},
				},
				Steps: []plan.Step{{Action: plan.ActionCreate, Params: map[string]string{"vmid": "108", "ostemplate": "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
					"storage": "local-lvm", "rootfs": "local-lvm:8", "memory": "1024", "net0": "name=eth0,bridge=vmbr0,ip=dhcp", "password-file": "/etc/felhom/secrets/ct108.pass"},
					Why: "a new container, with the spec's options in the one call"}},
				Privileges: []plan.Privilege{{Path: "/vms/108", Name: "VM.Allocate"}, {Path: "/storage/local-lvm", Name: "Datastore.AllocateSpace"}},
				Warnings:   []string{"new container: no snapshot before its first change (there is nothing to protect)"},
			},
			{
				Name: "cache", Node: "pve1", VMID: 106, Digest: "1234", Running: true, Status: plan.StatusUnchanged,
				Changes: []plan.Change{
					{Path: "features.nesting", Op: plan.OpUpdate, Before: "off", After: "on", Class: plan.ClassAwaitingRestart, Reason: "PVE holds this value pending"},
				},
				Warnings: []string{"1 change waits for a restart (restart policy: never)"},
			},
			{
				Name: "gpu", Node: "pve2", VMID: 107, Digest: "abcd", Running: true, Status: plan.StatusChanges, RootOn: "pve2",
				Changes: []plan.Change{
					{Path: "dev0", Op: plan.OpAdd, After: "/dev/dri/renderD128,gid=44", Class: plan.ClassHot, Privileged: true, Reason: "applied to the running container at once; only root@pam may write it"},
					{Path: "memory", Op: plan.OpUpdate, Before: "1 GiB", After: "2 GiB", Class: plan.ClassHot, Reason: "applied to the running container at once"},
				},
				Steps: []plan.Step{
					{Action: plan.ActionSnapshot, Params: map[string]string{"snapname": "felhom-20261125t172925-3f2a9c1"}, Why: "protects the container before its first change"},
					{Action: plan.ActionPctSet, Params: map[string]string{"dev0": "/dev/dri/renderD128,gid=44"}, Why: "writes 1 key only root@pam may write, with pct set as root on node pve2"},
					{Action: plan.ActionSetConfig, Params: map[string]string{"memory": "2048"}, Why: "writes 1 key in one PUT"},
				},
				Privileges: []plan.Privilege{{Path: "/vms/107", Name: "VM.Config.Memory"}, {Path: "/vms/107", Name: "VM.Snapshot"}},
			},
		},
	}
	full.Backups = &plan.Backups{RunBy: "felhom backup --due takes them; plan and apply do not.", Overdue: 1, Containers: []plan.BackupSchedule{
		{VMID: 101, Name: "web", Node: "pve1", Storage: "nas", Schedule: "02:00", TimeZone: "Europe/Budapest",
			NextRun: "2026-11-26T02:00:00+01:00", NextRunUTC: "2026-11-26T01:00:00Z", LastBackup: "2026-11-25T02:00:04+01:00",
			LastArchive: "nas:backup/vzdump-lxc-101-2026_11_25-02_00_04.tar.zst", Backups: 3, MaxAgeSeconds: 36 * 3600,
			Retention: "keep-daily=2", Removes: []string{"nas:backup/vzdump-lxc-101-2026_11_23-02_00_03.tar.zst"}},
		{VMID: 102, Name: "db", Node: "pve1", Storage: "nas", Schedule: "sat 03:00", TimeZone: "Europe/Budapest",
			NextRun: "2026-11-28T03:00:00+01:00", NextRunUTC: "2026-11-28T02:00:00Z", Due: true, Overdue: true, MaxAgeSeconds: 252 * 3600, Removes: []string{}},
		{VMID: 105, Name: "ghost", Node: "pve3", Storage: "nas", Schedule: "daily", Error: "ct 105: not found on PVE", Removes: []string{}},
	}}
	full.Unmanaged = []plan.Unmanaged{{VMID: 150, Name: "legacy", Node: "pve1"}, {VMID: 151, Name: "odd|name", Node: "pve2"}}
	full.Sort()
	empty := &plan.Plan{FormatVersion: plan.FormatVersion, CreatedAt: at}
	return map[string]*plan.Plan{"full": full, "empty": empty}
}

func TestGolden(t *testing.T) {
	for name, p := range fixtures() {
		t.Run(name, func(t *testing.T) {
			var txt, color, js, md bytes.Buffer
			if err := Text(&txt, p, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := Text(&color, p, TextOptions{Color: true}); err != nil {
				t.Fatal(err)
			}
			if err := JSON(&js, p); err != nil {
				t.Fatal(err)
			}
			if err := Markdown(&md, p); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".txt"), txt.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".color.txt"), color.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".json"), js.Bytes())
			golden.Check(t, filepath.Join("testdata", name+".md"), md.Bytes())
		})
	}
}

func TestTextWithoutColorHasNoEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, fixtures()["full"], TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(b.Bytes(), 0x1b) {
		t.Error("plain text contains an escape character")
	}
	// A description with a newline stays on its line.
	if !strings.Contains(b.String(), `line one\nline <two> → a | b *c* `+"`d`") {
		t.Errorf("description not kept on one line:\n%s", b.String())
	}
	var c bytes.Buffer
	if err := Text(&c, fixtures()["full"], TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(c.Bytes(), []byte(ansiGreen+"+"+ansiReset)) {
		t.Error("colour text lacks a green +")
	}
}

func TestMarkdownMarkerFirstAndEscaped(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, fixtures()["full"]); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if !strings.HasPrefix(s, MarkdownMarker+"\n") {
		t.Errorf("first line is not the marker: %q", strings.SplitN(s, "\n", 2)[0])
	}
	if strings.Count(s, "<details>") != strings.Count(s, "</details>") || strings.Count(s, "<details>") != 7 {
		t.Errorf("want 7 balanced details sections, got %d/%d", strings.Count(s, "<details>"), strings.Count(s, "</details>"))
	}
	for _, bad := range []string{"<two>", "a | b", "odd|name"} {
		if strings.Contains(s, bad) {
			t.Errorf("unescaped %q in markdown", bad)
		}
	}
	// Every table row has as many cells as its header: 7 separators in
	// the containers' table, 8 in the backups', 3 in the unmanaged.
	header := 0
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "| ") {
			header = 0
			continue
		}
		cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if header == 0 {
			header = cells
			if cells != 7 && cells != 8 && cells != 3 {
				t.Errorf("header with %d separators: %s", cells, line)
			}
		}
		if cells != header {
			t.Errorf("row with %d separators under a header with %d: %s", cells, header, line)
		}
	}
}

// Unmanaged containers are listed, by vmid, name and node, in all three
// renderers.
func TestUnmanagedInEveryRenderer(t *testing.T) {
	out := renderAll(t, fixtures()["full"])
	for name, want := range map[string][]string{
		"text":     {"ct 150 legacy on pve1", "ct 151 odd|name on pve2", "felhom does not touch them"},
		"json":     {`"unmanaged": [`, `"vmid": 150`, `"name": "legacy"`, `"node": "pve2"`},
		"markdown": {"| `150` legacy | pve1 |", "| `151` odd\\|name | pve2 |", "2 unmanaged"},
	} {
		for _, w := range want {
			if !strings.Contains(out[name], w) {
				t.Errorf("%s does not show %q", name, w)
			}
		}
	}
}

// renderAll renders p in the three renderers: "text" (no colour), "json"
// and "markdown".
func renderAll(t *testing.T, p *plan.Plan) map[string]string {
	t.Helper()
	var txt, js, md bytes.Buffer
	if err := Text(&txt, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, p); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"text": txt.String(), "json": js.String(), "markdown": md.String()}
}

func TestJSONIsThePlan(t *testing.T) {
	p := fixtures()["full"]
	var b bytes.Buffer
	if err := JSON(&b, p); err != nil {
		t.Fatal(err)
	}
	got, err := plan.Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(p)
	again, _ := json.Marshal(got)
	if !bytes.Equal(want, again) {
		t.Errorf("JSON does not read back as the same plan")
	}
}

func TestSummaryLine(t *testing.T) {
	got := SummaryLine(fixtures()["full"])
	if want := "Plan: 3 to change, 2 unchanged, 1 blocked, 1 missing, 1 error; 2 unmanaged."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMarkdownStaysWithinLimit(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion}
	for i := 0; i < 3000; i++ {
		p.Containers = append(p.Containers, plan.ContainerPlan{
			Name: "ct", Node: "pve1", VMID: 100 + i, Running: true, Status: plan.StatusChanges,
			Changes: []plan.Change{{Path: "memory", Op: plan.OpUpdate, Before: "1 GiB", After: "2 GiB", Class: plan.ClassHot}},
			Steps:   []plan.Step{{Action: plan.ActionSetConfig, Params: map[string]string{"memory": "2048"}}},
		})
	}
	var b bytes.Buffer
	if err := Markdown(&b, p); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if b.Len() > MarkdownLimit {
		t.Errorf("%d bytes, limit %d", b.Len(), MarkdownLimit)
	}
	if !strings.HasPrefix(s, MarkdownMarker+"\n") || !strings.Contains(s, "not shown: the comment would pass GitHub's size limit") {
		t.Errorf("marker or overflow note missing:\n%s", s[len(s)-400:])
	}
	if strings.Count(s, "<details>") != strings.Count(s, "</details>") {
		t.Error("unbalanced details")
	}
}

func TestMarkdownAllUnchanged(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Containers: []plan.ContainerPlan{
		{Name: "a", Node: "pve1", VMID: 100, Status: plan.StatusUnchanged},
		{Name: "b", Node: "pve1", VMID: 101, Status: plan.StatusUnchanged},
	}}
	var b bytes.Buffer
	if err := Markdown(&b, p); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, "0 to change, 2 unchanged") || !strings.Contains(s, "Every container matches its spec.") || strings.Contains(s, "<details>") {
		t.Errorf("unexpected:\n%s", s)
	}
}

func TestLooksSame(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Public web server", "Public web server\n", true},
		{"Public web server", " Public web server", true},
		{"Public web server", "Public web server\t ", true},
		{"Public  web server", "Public web server", true},
		{"home.arpa", "home\u200b.arpa", true},
		{"web", "\ufeffweb", true},
		{"web", "web\u00a0", true},
		{"web", "w\u00adeb", true},
		{"", " ", true},
		{"web", "web", false},
		{"web", "Web", false},
		{"web server", "webserver", false},
		{"1 GiB", "2 GiB", false},
		{"", "web", false},
	}
	for _, tt := range tests {
		if got := looksSame(tt.a, tt.b); got != tt.want {
			t.Errorf("looksSame(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// A change a person could not see is quoted in text and Markdown.
func TestInvisibleChangeQuoted(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Containers: []plan.ContainerPlan{{
		Name: "web", Node: "pve1", VMID: 101, Status: plan.StatusChanges,
		Changes: []plan.Change{
			{Path: "description", Op: plan.OpUpdate, Before: "Public web server", After: "Public web server\n", Class: plan.ClassHot},
			{Path: "nameserver", Op: plan.OpUpdate, Before: "1.1.1.1", After: " 1.1.1.1", Class: plan.ClassHot},
			{Path: "hostname", Op: plan.OpUpdate, Before: "web", After: "web2", Class: plan.ClassHot},
		},
		Steps: []plan.Step{{Action: plan.ActionSetConfig, Params: map[string]string{"description": "Public web server\n"}}},
	}}}
	var txt, md bytes.Buffer
	if err := Text(&txt, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`~ description  "Public web server" → "Public web server\n"  (hot)`,
		`~ nameserver   "1.1.1.1" → " 1.1.1.1"  (hot)`,
		`~ hostname     web → web2  (hot)`,
	} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, txt.String())
		}
	}
	for _, want := range []string{
		"| `\"Public web server\"` | `\"Public web server\\n\"` |",
		"| `\"1.1.1.1\"` | `\" 1.1.1.1\"` |",
		"| web | web2 |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
}

// An unchanged container lists changes awaiting a restart and hand changes
// its drift policy (report) leaves as found; the header counts each.
func TestStatusPhraseUnchanged(t *testing.T) {
	awaiting := plan.Change{Path: "memory", Op: plan.OpUpdate, Class: plan.ClassAwaitingRestart}
	left := plan.Change{Path: "cores", Op: plan.OpUpdate, Class: plan.ClassHot, Drift: true}
	tests := []struct {
		changes []plan.Change
		want    string
	}{
		{nil, "no changes"},
		{[]plan.Change{awaiting}, "no changes (1 change awaiting restart)"},
		{[]plan.Change{left, left}, "no changes (2 hand changes left as found)"},
		{[]plan.Change{left, awaiting}, "no changes (1 change awaiting restart, 1 hand change left as found)"},
	}
	for _, tt := range tests {
		if got := statusPhrase(plan.ContainerPlan{Status: plan.StatusUnchanged, Changes: tt.changes}); got != tt.want {
			t.Errorf("%d changes: got %q, want %q", len(tt.changes), got, tt.want)
		}
	}
}

// TestMarkdownLongRevisionLeavesRoomForDetails: a huge source revision is cut
// in the header, so the containers' details still fit in the comment.
func TestMarkdownLongRevisionLeavesRoomForDetails(t *testing.T) {
	p := &plan.Plan{
		FormatVersion:  plan.FormatVersion,
		SourceRevision: strings.Repeat("r", MarkdownLimit),
		Containers: []plan.ContainerPlan{{
			Name: "web", Node: "pve1", VMID: 101, Status: plan.StatusChanges,
			Changes: []plan.Change{{Path: "memory", Op: plan.OpUpdate, Before: "1 GiB", After: "2 GiB", Class: plan.ClassHot}},
			Steps:   []plan.Step{{Action: plan.ActionSetConfig, Params: map[string]string{"memory": "2048"}}},
		}},
	}
	var b strings.Builder
	if err := Markdown(&b, p); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Count(s, "<details>") != 1 {
		t.Errorf("the container's details are missing:\n%.400s", s)
	}
	if !strings.Contains(s, strings.Repeat("r", maxRevisionRunes-1)+"…") {
		t.Errorf("revision not cut to %d runes", maxRevisionRunes)
	}
}

// TestMarkdownPRComment: the pull-request comment calls out drift apart
// (as tfcmt's "changed outside"), names a reboot in the container's
// heading, writes a "why" only where it says something new, and ends with
// how to apply.
func TestMarkdownPRComment(t *testing.T) {
	var md bytes.Buffer
	if err := Markdown(&md, fixtures()["full"]); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, want := range []string{
		"> [!WARNING]\n> **Changed outside felhom** (drift: the live value differs from what felhom last applied): ct 101 web: `nameserver`.\n",
		"<details><summary><b>ct 101 web</b>: 6 changes, <b>reboots</b></summary>",
		"| `~` | `memory` | 1 GiB | 2 GiB | hot | 〃 |",
		"\n---\n_To apply: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "| `~` | `description` | `\"Public web server\"` | `\"Public web server \"` | hot | applied to the running container at once |") {
		t.Errorf("the first row of a why lost it:\n%s", out)
	}
	var empty bytes.Buffer
	if err := Markdown(&empty, fixtures()["empty"]); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(empty.String(), "To apply") || strings.Contains(empty.String(), "Changed outside") {
		t.Errorf("a plan without changes says how to apply or calls out drift:\n%s", empty.String())
	}
}
