package diff

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
	"github.com/google/go-cmp/cmp"
)

func TestBuild(t *testing.T) {
	a := *ct(t, "memory: 2G")
	b := *ct(t, "memory: 1G")
	b.Metadata.Name, b.Spec.VMID = "gone", 100
	c := *ct(t, "memory: 1G")
	c.Metadata.Name, c.Spec.VMID, c.Spec.Node = "broken", 102, "pve2"
	moved := liveFrom(t, baseConf, true)
	moved.Node = "pve9"
	live := map[int]*Live{101: moved, 102: {VMID: 102, Node: "pve2", Err: "connection reset"}}
	p := Build([]spec.Container{c, a, b}, live, testOpts)
	if p.FormatVersion != plan.FormatVersion || p.SourceRevision != "3f2a9c1" || !p.CreatedAt.Equal(testNow) {
		t.Errorf("plan header %+v", p)
	}
	var got []string
	for _, cp := range p.Containers {
		got = append(got, strconv.Itoa(cp.VMID)+" "+cp.Name+" "+cp.Node+" "+string(cp.Status))
	}
	want := []string{"100 gone pve1 missing", "101 web pve9 changes", "102 broken pve2 error"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("containers\n got %q\nwant %q", got, want)
	}
	if w := strings.Join(p.Containers[1].Warnings, "\n"); !strings.Contains(w, "found on node pve9, the spec says pve1") {
		t.Errorf("no note on the move: %q", w)
	}
	if b := p.Containers[2].Blocked; len(b) != 1 || !strings.Contains(b[0], "connection reset") {
		t.Errorf("error reason %q", b)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBaselineAndDrift(t *testing.T) {
	c := ct(t, bigSpec)
	conf := baseConf + "mp0: tank:vm-101-disk-1,mp=/data,size=8G\n"
	first := Diff(c, liveFrom(t, conf, false), testOpts)
	after := applySteps(t, conf, false, first)
	l := liveFrom(t, after, false)
	base := Baseline(c, l)
	for _, path := range []string{"memory", "net0.bridge", "net1.tag", "rootfs.size", "mp0.size", "mp1.mp", "features.nesting", "tags"} {
		if _, ok := base[path]; !ok {
			t.Errorf("baseline lacks %s: %v", path, base)
		}
	}
	if base["memory"] != "2 GiB" || base["mp0.size"] != "16 GiB" {
		t.Errorf("baseline memory %q mp0.size %q", base["memory"], base["mp0.size"])
	}
	// Nothing moved: no drift, nothing to do.
	l.Applied = base
	if cp := Diff(c, l, testOpts); cp.Status != plan.StatusUnchanged || len(cp.Changes) != 0 {
		t.Fatalf("after apply: %s %q", cp.Status, changeList(cp))
	}
	// A hand change shows as drift; a spec change does not.
	hand := strings.Replace(after, "cores: 4", "cores: 8", 1)
	l = liveFrom(t, hand, false)
	l.Applied = base
	c2 := ct(t, strings.Replace(bigSpec, "memory: 2G", "memory: 3G", 1))
	cp := Diff(c2, l, testOpts)
	if got, want := changeList(cp), []string{"cores ~ hot drift", "memory ~ hot"}; !reflect.DeepEqual(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
}

// TestBuildSameAsDiffEach: Build, which makes the containers' plans on all
// CPUs at once, gives exactly the plan of Diff taken one container at a
// time in order, for mixed inputs (changes, missing, unchanged) and sizes
// around its split. Run with -race, it also checks that Diff shares
// nothing mutable between containers.
func TestBuildSameAsDiffEach(t *testing.T) {
	changed := ct(t, bigSpec+"restart: {mode: when-needed}\n")
	conf := baseConf + "mp0: tank:vm-101-disk-1,mp=/data,size=8G\n"
	for _, n := range []int{0, 1, 2, 63, 64, 65, 300} {
		specs := make([]spec.Container, n)
		live := map[int]*Live{}
		for i := range specs {
			c := *changed
			c.Metadata.Name = fmt.Sprintf("ct%d", i)
			c.Spec.VMID = 2000 - i // Build sorts: hand them in reverse
			specs[i] = c
			if i%7 != 3 { // every seventh is missing
				l := liveFrom(t, conf, i%2 == 0)
				l.VMID = c.Spec.VMID
				live[c.Spec.VMID] = l
			}
		}
		want := &plan.Plan{FormatVersion: plan.FormatVersion, SourceRevision: testOpts.Revision, CreatedAt: testOpts.Now.UTC(),
			Containers: make([]plan.ContainerPlan, 0, n)}
		for i := range specs {
			want.Containers = append(want.Containers, Diff(&specs[i], live[specs[i].Spec.VMID], testOpts))
		}
		want.Sort()
		if d := cmp.Diff(want, Build(specs, live, testOpts)); d != "" {
			t.Errorf("%d containers: Build differs from Diff one by one (-want +got):\n%s", n, d)
		}
	}
}
