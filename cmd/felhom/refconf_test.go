package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/pvesim"
)

// refConf is one real container config PVE wrote (the reference's
// pve-api/lxc-conf).
type refConf struct {
	name string // the file's base name
	text string
	conf *ctconf.File
}

// referenceConfigs reads the reference's container configs in name order,
// skipping the test (failing it in CI) when there are none.
func referenceConfigs(t *testing.T) []refConf {
	t.Helper()
	files := testref.Glob(t, "pve-api/lxc-conf/*.conf")
	sort.Strings(files)
	out := make([]refConf, 0, len(files))
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ctconf.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, refConf{name: filepath.Base(file), text: string(text), conf: f})
	}
	return out
}

// get returns the value of key in the config's current section.
func (r refConf) get(key string) string {
	v, _ := r.conf.Get(key)
	return v
}

// seed adds the container to node n as vmid, with a storage (zfspool,
// holding rootdir and images) for each storage its volumes name that n does
// not have yet; a bind mount's host path names none.
func (r refConf) seed(n *pvesim.Node, vmid int, running bool) {
	seen := map[string]bool{}
	for _, st := range n.Storages {
		seen[st.ID] = true
	}
	for _, k := range r.conf.Main.Keys() {
		if k != "rootfs" && !strings.HasPrefix(k, "mp") && !strings.HasPrefix(k, "unused") {
			continue
		}
		st, _, _ := strings.Cut(r.get(k), ":")
		if st != "" && !strings.HasPrefix(st, "/") && !seen[st] {
			seen[st] = true
			n.AddStorage(st, "zfspool", "rootdir", "images")
		}
	}
	n.AddContainer(vmid, running, r.text)
}
