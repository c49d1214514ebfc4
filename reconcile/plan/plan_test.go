package plan

import (
	"encoding/json"
	"errors"
	"math/rand"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestActionTokensRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Actions() {
		tok := a.Token()
		if tok == "" || seen[tok] {
			t.Fatalf("action %d: token %q empty or repeated", a, tok)
		}
		seen[tok] = true
		got, err := ParseAction(tok)
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v; want %v", tok, got, err, a)
		}
		if a.String() == tok && strings.Contains(tok, "-") {
			t.Errorf("String of %q should be an imperative phrase, not the token", tok)
		}
		b, err := json.Marshal(a)
		if err != nil || string(b) != `"`+tok+`"` {
			t.Errorf("json of %v = %s, %v", a, b, err)
		}
	}
	if len(seen) != 12 {
		t.Errorf("got %d actions, want 12", len(seen))
	}
	var zero Action
	if zero.Valid() {
		t.Error("zero action is valid")
	}
	if _, err := json.Marshal(zero); err == nil {
		t.Error("marshalling the zero action succeeded")
	}
	var a Action
	if err := json.Unmarshal([]byte(`"explode"`), &a); err == nil {
		t.Error("unknown action token accepted")
	}
}

func TestActionStrings(t *testing.T) {
	want := map[Action]string{
		ActionVzdump: "back up with vzdump", ActionSnapshot: "take snapshot", ActionResize: "resize volume",
		ActionSetConfig: "set config", ActionReboot: "reboot", ActionSnapshotPrune: "delete old snapshot",
		ActionPrune: "prune backups",
	}
	for a, s := range want {
		if a.String() != s {
			t.Errorf("%s.String() = %q, want %q", a.Token(), a.String(), s)
		}
	}
}

func TestKeyLess(t *testing.T) {
	ordered := []string{"cores", "features.nesting", "memory", "mp0", "mp0.size", "mp1.mp", "mp2", "mp10", "mp10.size",
		"net0.bridge", "net1", "net9", "net10", "rootfs.size", "startup.order", "swap", "tags"}
	for i := range ordered {
		for j := range ordered {
			if got, want := KeyLess(ordered[i], ordered[j]), i < j; got != want {
				t.Errorf("KeyLess(%q, %q) = %v, want %v", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestStepOrderShuffled(t *testing.T) {
	want := []Step{
		{Action: ActionVzdump, Params: map[string]string{"storage": "backup"}},
		{Action: ActionSnapshot, Params: map[string]string{"snapname": "felhom-20261125t100000"}},
		{Action: ActionResize, Params: map[string]string{"disk": "mp2", "size": "4G"}},
		{Action: ActionResize, Params: map[string]string{"disk": "mp10", "size": "4G"}},
		{Action: ActionResize, Params: map[string]string{"disk": "rootfs", "size": "16G"}},
		{Action: ActionSetConfig, Params: map[string]string{"memory": "2048"}},
		{Action: ActionReboot, Params: map[string]string{}},
		{Action: ActionSnapshotPrune, Params: map[string]string{"snapname": "felhom-20261101t000000"}},
		{Action: ActionSnapshotPrune, Params: map[string]string{"snapname": "felhom-20261102t000000"}},
		{Action: ActionPrune, Params: map[string]string{"storage": "a"}},
		{Action: ActionPrune, Params: map[string]string{"storage": "b"}},
	}
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 50; round++ {
		got := append([]Step(nil), want...)
		rng.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		c := ContainerPlan{Steps: got}
		c.Sort()
		if !reflect.DeepEqual(c.Steps, want) {
			t.Fatalf("round %d: order %v", round, c.Steps)
		}
	}
}

func TestPlanSortShuffled(t *testing.T) {
	want := []ContainerPlan{
		{VMID: 100, Name: "a", Node: "pve1"},
		{VMID: 101, Name: "a", Node: "pve1"},
		{VMID: 101, Name: "b", Node: "pve1"},
		{VMID: 101, Name: "b", Node: "pve2"},
		{VMID: 2000, Name: "z", Node: "pve1", Changes: []Change{{Path: "memory"}, {Path: "mp2.size"}, {Path: "mp10"}},
			Privileges: []Privilege{{"/storage/local", "Datastore.AllocateSpace"}, {"/vms/2000", "VM.Config.Disk"}, {"/vms/2000", "VM.Config.Memory"}}},
	}
	rng := rand.New(rand.NewSource(2))
	for round := 0; round < 50; round++ {
		p := &Plan{}
		for _, c := range want {
			c.Changes = append([]Change(nil), c.Changes...)
			c.Privileges = append([]Privilege(nil), c.Privileges...)
			rng.Shuffle(len(c.Changes), func(i, j int) { c.Changes[i], c.Changes[j] = c.Changes[j], c.Changes[i] })
			rng.Shuffle(len(c.Privileges), func(i, j int) { c.Privileges[i], c.Privileges[j] = c.Privileges[j], c.Privileges[i] })
			p.Containers = append(p.Containers, c)
		}
		rng.Shuffle(len(p.Containers), func(i, j int) { p.Containers[i], p.Containers[j] = p.Containers[j], p.Containers[i] })
		p.Sort()
		if !reflect.DeepEqual(p.Containers, want) {
			t.Fatalf("round %d: order %+v", round, p.Containers)
		}
	}
}

func TestSnapshotName(t *testing.T) {
	at := time.Date(2026, 11, 25, 17, 29, 25, 0, time.FixedZone("CET", 3600))
	tests := []struct{ rev, want string }{
		{"3F2A9C1D0B7E55aa", "felhom-20261125t162925-3f2a9c1d0b7e"},
		{"", "felhom-20261125t162925"},
		{"v1.2/feature_x", "felhom-20261125t162925-v12featurex"},
		{"!!!", "felhom-20261125t162925"},
	}
	valid := regexp.MustCompile(`^[a-z][a-z0-9_-]+$`)
	for _, tt := range tests {
		got := SnapshotName(at, tt.rev)
		if got != tt.want {
			t.Errorf("SnapshotName(%q) = %q, want %q", tt.rev, got, tt.want)
		}
		if !valid.MatchString(got) || len(got) > 40 {
			t.Errorf("SnapshotName(%q) = %q is not a valid PVE snapshot name", tt.rev, got)
		}
		ts, ok := SnapshotTime(got)
		if !ok || !ts.Equal(at) {
			t.Errorf("SnapshotTime(%q) = %v, %v; want %v", got, ts, ok, at)
		}
	}
	for _, name := range []string{"before-upgrade", "felhom-", "felhom-2026", "felhom-20261125t162925x", "vzdump"} {
		if _, ok := SnapshotTime(name); ok {
			t.Errorf("SnapshotTime(%q) claims a felhom snapshot", name)
		}
	}
}

func TestSetConfigSummary(t *testing.T) {
	got := SetConfigSummary(map[string]string{"net10": "x", "memory": "1", "net2": "y", "delete": "mp10,mp2", "digest": "abc"})
	if want := "memory, net2, net10; delete mp2, mp10"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := SetConfigSummary(map[string]string{"delete": "tags"}); got != "delete tags" {
		t.Errorf("got %q", got)
	}
}

func samplePlan() *Plan {
	return &Plan{
		FormatVersion: FormatVersion, SourceRevision: "abc", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Containers: []ContainerPlan{
			{Name: "web", Node: "pve1", VMID: 101, Digest: "d1", Running: true, Status: StatusChanges,
				Changes: []Change{{Path: "memory", Op: OpUpdate, Before: "1 GiB", After: "2 GiB", Class: ClassHot}},
				Steps: []Step{{Action: ActionSnapshot, Params: map[string]string{"snapname": "felhom-x"}},
					{Action: ActionSetConfig, Params: map[string]string{"memory": "2048"}}},
				Privileges: []Privilege{{"/vms/101", "VM.Config.Memory"}}},
			{Name: "db", Node: "pve1", VMID: 102, Status: StatusUnchanged},
		},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	p := samplePlan()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"format_version":"1"`, `"source_revision":"abc"`, `"created_at":"2026-01-02T03:04:05Z"`,
		`"action":"set-config"`, `"changes":[]`, `"steps":[]`, `"blocked":[]`, `"warnings":[]`, `"privileges":[]`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	// Parse reads empty lists back as empty, not nil; compare through JSON.
	b2, _ := json.Marshal(got)
	if string(b) != string(b2) {
		t.Errorf("round trip changed the plan:\n%s\n%s", b, b2)
	}
}

func TestParseRejects(t *testing.T) {
	good, _ := json.Marshal(samplePlan())
	tests := []struct {
		name, in string
		version  bool
	}{
		{"no version", `{"containers":[]}`, true},
		{"future version", `{"format_version":"2","containers":[]}`, true},
		{"not json", `{`, false},
		{"unknown action", strings.Replace(string(good), `"set-config"`, `"explode"`, 1), false},
		{"unknown status", strings.Replace(string(good), `"status":"unchanged"`, `"status":"weird"`, 1), false},
		{"steps without changes", strings.Replace(string(good), `"status":"changes"`, `"status":"unchanged"`, 1), false},
		{"unknown class", strings.Replace(string(good), `"class":"hot"`, `"class":"lukewarm"`, 1), false},
		{"unknown failure policy", strings.Replace(string(good), `"on_failure":""`, `"on_failure":"shrug"`, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatal("accepted")
			}
			if got := errors.Is(err, ErrUnsupportedVersion); got != tt.version {
				t.Errorf("errors.Is(ErrUnsupportedVersion) = %v for %v", got, err)
			}
		})
	}
	if _, err := Parse([]byte(strings.Replace(string(good), `{`, `{"future_field":1,`, 1))); err != nil {
		t.Errorf("unknown field refused: %v", err)
	}
	// A plan from before on_failure existed reads as "": apply's default.
	old := strings.ReplaceAll(string(good), `,"on_failure":""`, ``)
	if old == string(good) || strings.Contains(old, "on_failure") {
		t.Fatalf("on_failure not removed from %s", old)
	}
	if p, err := Parse([]byte(old)); err != nil || p.Containers[0].OnFailure != "" {
		t.Errorf("plan without on_failure: %v", err)
	}
}

func TestSummary(t *testing.T) {
	p := &Plan{Containers: []ContainerPlan{{Status: StatusChanges}, {Status: StatusChanges}, {Status: StatusUnchanged},
		{Status: StatusBlocked}, {Status: StatusMissing}, {Status: StatusError}}}
	if got, want := p.Summary(), (Summary{Changes: 2, Unchanged: 1, Blocked: 1, Missing: 1, Errors: 1}); got != want {
		t.Errorf("Summary = %+v, want %+v", got, want)
	}
	if !p.HasChanges() {
		t.Error("HasChanges false")
	}
	if (&Plan{Containers: []ContainerPlan{{Status: StatusBlocked}}}).HasChanges() {
		t.Error("blocked counts as changes")
	}
}

func TestActionPast(t *testing.T) {
	for _, a := range Actions() {
		if a.Past() == "" {
			t.Errorf("%s has no past tense", a.Token())
		}
	}
	if ActionSnapshot.Past() != "took snapshot" || ActionReboot.Past() != "rebooted" {
		t.Errorf("past tenses: %q %q", ActionSnapshot.Past(), ActionReboot.Past())
	}
}
