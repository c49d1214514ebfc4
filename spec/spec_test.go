package spec

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/felhom/felhom/internal/typo"
	"github.com/felhom/felhom/pve/format"
)

// TestNewUserThreeMistakes is the spec a new user writes first, with three
// mistakes (a typo in a key, a relative mount path, a schedule in words).
// One run gives exactly three errors, each at the right place with the
// offending value and a hint.
func TestNewUserThreeMistakes(t *testing.T) {
	src := `apiVersion: felhom/v1alpha1
kind: Container
metadata:
  name: nextcloud
spec:
  node: pve1
  vmid: 110
  memroy: 2G
  rootfs: {storage: local-lvm, size: 16G}
  mountpoints:
    mp0:
      storage: local-lvm
      size: 100G
      mp: var/www/data
  backup:
    schedule: every night
    storage: nas
`
	_, diags := Load(fstest.MapFS{"containers/nextcloud.yaml": {Data: []byte(src)}}, ".")
	type got struct {
		Pos, Path, Value, Msg string
	}
	var gots []got
	for _, d := range diags {
		if d.Hint == "" && !strings.Contains(d.Message, "did you mean") {
			t.Errorf("no hint for %s", d)
		}
		gots = append(gots, got{Pos: strings.SplitN(d.String(), ": ", 2)[0], Path: d.Path, Value: d.Value, Msg: d.Message})
	}
	want := []got{
		{"containers/nextcloud.yaml:8:3", "/spec/memroy", "memroy", `unknown key "memroy" (did you mean "memory"?)`},
		{"containers/nextcloud.yaml:14:11", "/spec/mountpoints/mp0/mp", "var/www/data", `mountpoints.mp0.mp: mount path "var/www/data" is not absolute`},
		{"containers/nextcloud.yaml:16:15", "/spec/backup/schedule", "every night", `backup.schedule: "every night" is not a valid calendar event: unknown keyword or weekday "every" at "every night"`},
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		field, value string
		want         format.Size
	}{
		{"memory", "2048", 2048 * format.MiB},
		{"memory", `"2048"`, 2048 * format.MiB},
		{"memory", "2G", 2 * format.GiB},
		{"memory", "2GiB", 2 * format.GiB},
		{"memory", "512M", 512 * format.MiB},
		{"memory", "1.5G", 1536 * format.MiB},
		{"memory", "1t", format.TiB},
		{"swap", "0", 0},
		{"rootfs", "8", 8 * format.GiB},
		{"rootfs", "8G", 8 * format.GiB},
		{"rootfs", "512M", 512 * format.MiB},
		{"rootfs", `"0.5"`, 512 * format.MiB},
	}
	for _, tt := range tests {
		t.Run(tt.field+"="+tt.value, func(t *testing.T) {
			body := tt.field + ": " + tt.value
			if tt.field == "rootfs" {
				body = "rootfs: {storage: local-lvm, size: " + tt.value + "}"
			}
			docs, diags := Parse("x.yaml", []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: x}\nspec:\n  node: pve1\n  vmid: 100\n  "+body+"\n"))
			if len(diags) > 0 || len(docs) != 1 {
				t.Fatalf("diagnostics: %v", diags)
			}
			var got *format.Size
			switch tt.field {
			case "memory":
				got = docs[0].Spec.Memory
			case "swap":
				got = docs[0].Spec.Swap
			case "rootfs":
				got = docs[0].Spec.RootFS.Size
			}
			if got == nil || *got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNotManagedStaysNil: what a spec leaves out is nil after Load, so
// felhom leaves it alone; an empty list is kept apart from a missing one.
func TestNotManagedStaysNil(t *testing.T) {
	set, diags := Load(fstest.MapFS{"a.yaml": {Data: []byte(`apiVersion: felhom/v1alpha1
kind: Container
metadata: {name: a}
spec: {node: pve1, vmid: 100, tags: []}
---
apiVersion: felhom/v1alpha1
kind: Container
metadata: {name: b}
spec: {node: pve1, vmid: 101, hostname: bee.lan}
`)}}, ".")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	a, b := set.ByName("a"), set.ByName("b")
	if a.Spec.Tags == nil || len(a.Spec.Tags) != 0 {
		t.Errorf("tags: [] decoded as %#v, want an empty non-nil list", a.Spec.Tags)
	}
	if b.Spec.Tags != nil || b.Spec.Memory != nil || b.Spec.Net != nil || b.Spec.Backup != nil || b.Spec.Features != nil {
		t.Errorf("unset fields are not nil: %+v", b.Spec)
	}
	// metadata.name does not manage the hostname: a spec that leaves
	// hostname out leaves it alone (issue 16 item 8).
	if a.Spec.Hostname != nil || b.Spec.Hostname == nil || *b.Spec.Hostname != "bee.lan" {
		t.Errorf("hostnames %v %v, want nil and bee.lan", a.Spec.Hostname, b.Spec.Hostname)
	}
	want := ContainerSpec{Snapshot: &SnapshotPolicy{BeforeChange: ptr(true), WhenImpossible: SnapshotRefuse, Keep: ptr(DefaultSnapshotKeep),
		OnFailure: OnFailureRollback},
		Restart: &RestartPolicy{Mode: RestartNever}, Drift: DriftRevert}
	got := ContainerSpec{Snapshot: b.Spec.Snapshot, Restart: b.Spec.Restart, Drift: b.Spec.Drift}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("filled-in policies (-want +got):\n%s", diff)
	}
	if a.Source.File != "a.yaml" || a.Source.Line != 1 || b.Source.Line != 6 {
		t.Errorf("sources %+v %+v", a.Source, b.Source)
	}
	if set.ByVMID(101) != b || set.ByVMID(7) != nil || set.ByName("zzz") != nil {
		t.Error("ByVMID / ByName")
	}
}

func TestRestartWindowImpliesMode(t *testing.T) {
	set, diags := Load(fstest.MapFS{"a.yaml": {Data: []byte(`apiVersion: felhom/v1alpha1
kind: Container
metadata: {name: a}
spec:
  node: pve1
  vmid: 100
  restart: {window: {schedule: "sun 03:00", duration: 90m}}
`)}}, ".")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	r := set.Containers[0].Spec.Restart
	if r.Mode != RestartInWindow || r.Window.Duration.String() != "1h30m0s" || r.Window.Schedule != "sun 03:00" {
		t.Errorf("restart %+v %+v", r, r.Window)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMountKind(t *testing.T) {
	for _, tt := range []struct {
		m    MountPoint
		want MountKind
	}{
		{MountPoint{Storage: "tank"}, MountNewVolume},
		{MountPoint{Volume: "tank:subvol-1-disk-0"}, MountVolume},
		{MountPoint{Bind: "/srv"}, MountBind},
		{MountPoint{Device: "/dev/sdb1"}, MountDevice},
	} {
		if got := tt.m.Kind(); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.m, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"memory", "swap", "cores", "cpulimit", "cpuunits", "node", "vmid", "mountpoints", "net"}
	for _, tt := range []struct{ in, want string }{
		{"memroy", "memory"},
		{"Memory", "memory"},
		{"cpu_limit", "cpulimit"},
		{"mountpoint", "mountpoints"},
		{"mounts", ""},
		{"nodes", "node"},
		{"ram", ""},
		{"x", ""},
		{"memory", ""},
	} {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if d := typo.Distance("ab", "ba"); d != 1 {
		t.Errorf("transposition costs %d", d)
	}
}

func TestDiagnosticsRender(t *testing.T) {
	ds := Diagnostics{
		{File: "a.yaml", Line: 3, Column: 5, Message: `unknown key "x"`, Hint: "remove it"},
		{File: "b.yaml", Line: 7, Message: "YAML syntax: bad"},
		{File: "c.yaml", Message: "not a spec", Severity: SeverityWarning},
	}
	want := "a.yaml:3:5: error: unknown key \"x\"; remove it\nb.yaml:7: error: YAML syntax: bad\nc.yaml: warning: not a spec"
	if got := ds.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !ds.HasErrors() || ds.Err() == nil {
		t.Error("HasErrors")
	}
	if w := ds[2:]; w.HasErrors() || w.Err() != nil {
		t.Error("warnings alone are not errors")
	}
	b, err := json.Marshal(ds[0])
	if err != nil {
		t.Fatal(err)
	}
	var back Diagnostic
	if err := json.Unmarshal(b, &back); err != nil || back != ds[0] {
		t.Errorf("JSON round trip: %s -> %+v, %v", b, back, err)
	}
	if !strings.Contains(string(b), `"severity":"error"`) {
		t.Errorf("severity not a word: %s", b)
	}
}

func TestLookupAndLabel(t *testing.T) {
	docs, _ := parseFile("x.yaml", []byte("spec:\n  net:\n    net0: {ip: dhcp}\n  tags: [a, b]\n  \"a/b~c\": 1\n"))
	root := docs[0].root
	for _, tt := range []struct {
		ptr       string
		line, col int
		found     bool
	}{
		{"/spec/net/net0/ip", 3, 16, true},
		{"/spec/tags/1", 4, 13, true},
		{"/spec/a~1b~0c", 5, 12, true},
		{"/spec/nope", 1, 1, false},
		{"/spec/tags/9", 4, 3, false},
	} {
		n, kp := root.lookup(tt.ptr)
		pos := kp
		if n != nil {
			pos = n.pos
		}
		if (n != nil) != tt.found || pos.Line != tt.line || pos.Column != tt.col {
			t.Errorf("%s: found %v at %d:%d, want %v at %d:%d", tt.ptr, n != nil, pos.Line, pos.Column, tt.found, tt.line, tt.col)
		}
	}
	for ptr, want := range map[string]string{
		"/spec/backup/retention/keep-last": "backup.retention.keep-last",
		"/spec/tags/1":                     "tags[1]",
		"/metadata/name":                   "metadata.name",
		"":                                 "",
	} {
		if got := label(ptr); got != want {
			t.Errorf("label(%q) = %q, want %q", ptr, got, want)
		}
	}
}

// TestDocumentsSplitKeepLines: a syntax error costs only its document, and
// line numbers after a "---" stay those of the file.
func TestDocumentsSplitKeepLines(t *testing.T) {
	src := "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: a}\nspec: {node: pve1, vmid: 100}\n---\nfoo: [\n---\napiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: b}\nspec: {node: pve1, vmid: 101, memroy: 1}\n"
	docs, diags := Parse("x.yaml", []byte(src))
	if len(docs) != 2 {
		t.Errorf("%d documents decoded, want 2", len(docs))
	}
	var lines []int
	for _, d := range diags {
		lines = append(lines, d.Line)
	}
	if diff := cmp.Diff([]int{6, 11}, lines); diff != "" {
		t.Errorf("diagnostic lines (-want +got):\n%s\n%s", diff, diags.Error())
	}
}

// TestSuggestWorkBounded: a long key against many short candidates measures
// none of them (their length alone rules them out), so "did you mean" over
// thousands of unknown keys costs little. Allocations count the work.
func TestSuggestWorkBounded(t *testing.T) {
	cands := make([]string, 1000)
	for i := range cands {
		cands[i] = fmt.Sprintf("key%03d", i)
	}
	long := strings.Repeat("x", 60)
	if n := testing.AllocsPerRun(10, func() { suggest(long, cands) }); n > 2 {
		t.Errorf("suggest(60 runes, 1000 candidates of 6) allocates %v times, want at most 2", n)
	}
	// Candidates near in length are measured in one table for the call.
	if n := testing.AllocsPerRun(10, func() { suggest("kez000", cands) }); n > 1000+3 {
		t.Errorf("suggest(6 runes, 1000 candidates of 6) allocates %v times, want one per candidate at most", n)
	}
	if got := suggest("key00", cands); got != "key000" {
		t.Errorf("suggest(key00) = %q", got)
	}
}

// TestPlainGiBSizeThatReadsAsMiB: a plain disk size is GiB, as in PVE, so
// "size: 8192" asks for 8 TiB; the spec stays valid and says so, at the
// value, with how to write what was likely meant.
func TestPlainGiBSizeThatReadsAsMiB(t *testing.T) {
	for _, tt := range []struct {
		size string
		warn bool
	}{{"8192", true}, {"1024", true}, {"512", false}, {"8192M", false}, {"8T", false}, {`"2048"`, true}} {
		t.Run(tt.size, func(t *testing.T) {
			src := "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: x}\nspec:\n  node: pve1\n  vmid: 100\n  rootfs: {storage: local-lvm, size: " + tt.size + "}\n"
			_, diags := Parse("x.yaml", []byte(src))
			if diags.HasErrors() {
				t.Fatalf("errors: %v", diags)
			}
			var got []Diagnostic
			for _, d := range diags {
				if d.Severity == SeverityWarning && strings.Contains(d.Message, "plain number") {
					got = append(got, d)
				}
			}
			if !tt.warn {
				if len(got) != 0 {
					t.Errorf("warnings %v", got)
				}
				return
			}
			const col = 38 // where the value (or its opening quote) starts, as for errors
			if len(got) != 1 || got[0].Line != 7 || got[0].Column != col || !strings.Contains(got[0].Hint, "M if you meant MiB") {
				t.Fatalf("warnings %+v, want one at 7:%d with a hint", got, col)
			}
		})
	}
}
