package fence

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/felhom/felhom"

// pkg is one package as go list -json describes it (tests aside).
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

// listAll lists the module's packages and everything they reach.
func listAll(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-deps", "-json=ImportPath,Imports,Deps,Standard", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	all := map[string]*pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		all[p.ImportPath] = &p
	}
	return all
}

// chain is the import path from p to target, for the error message.
func chain(all map[string]*pkg, from, target string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == target {
			var path []string
			for p := cur; p != ""; p = prev[p] {
				path = append(path, strings.TrimPrefix(p, module+"/"))
			}
			slices.Reverse(path)
			return path
		}
		if p := all[cur]; p != nil {
			for _, imp := range p.Imports {
				if _, seen := prev[imp]; !seen {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return []string{from, "?", target}
}

func under(path, prefix string) bool {
	prefix = module + "/" + prefix
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// pure are the packages that decide or describe and must do neither I/O
// over the network nor run processes.
var pure = []string{"pve/wire", "pve/format", "pve/ctconf", "pve/prune", "pve/calendar", "reconcile/diff", "reconcile/plan", "reconcile/result", "reconcile/render", "reconcile/schedule"}

// TestFence: the rules of DESIGN.md's fence, over everything each of the
// module's packages reaches (tests aside).
func TestFence(t *testing.T) {
	all := listAll(t)
	rules := []struct {
		name      string
		applies   func(path string) bool
		forbidden []string
	}{
		{"privileged never speaks HTTP", func(p string) bool { return under(p, "privileged") }, []string{"net", "net/http"}},
		{"pve never runs a process", func(p string) bool { return under(p, "pve") }, []string{"os/exec"}},
		{"pure packages do no network or process I/O", func(p string) bool {
			return slices.ContainsFunc(pure, func(q string) bool { return p == module+"/"+q })
		}, []string{"net/http", "os/exec"}},
	}
	checked := map[string]int{}
	paths := slices.Sorted(maps.Keys(all))
	for _, path := range paths {
		p := all[path]
		if p.Standard || !strings.HasPrefix(path, module) {
			continue
		}
		for _, r := range rules {
			if !r.applies(path) {
				continue
			}
			checked[r.name]++
			for _, f := range r.forbidden {
				if slices.Contains(p.Deps, f) {
					t.Errorf("%s: %s reaches %s: %s", r.name, strings.TrimPrefix(path, module+"/"), f, strings.Join(chain(all, path, f), " → "))
				}
			}
		}
		// Only privileged runs processes; cmd wires things and may.
		if slices.Contains(p.Imports, "os/exec") && !under(path, "privileged") && !under(path, "cmd") {
			t.Errorf("%s imports os/exec: only privileged runs processes (tests and cmd aside)", strings.TrimPrefix(path, module+"/"))
		}
	}
	// A rule that checked nothing proves nothing (a renamed package, a
	// go list that listed too little).
	for _, r := range rules {
		if checked[r.name] == 0 {
			t.Errorf("%s: no package checked", r.name)
		}
	}
	for _, q := range append([]string{"privileged", "pve", "pve/pvesim"}, pure...) {
		if all[module+"/"+q] == nil {
			t.Errorf("go list did not list %s; the fence proves nothing", q)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("checked %v", checked)
}
