package spec

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/felhom/felhom/schemas"
)

const examplesDir = "../examples"

// TestExamplesLoad loads every example spec: no error, no warning, and the
// containers the README describes.
func TestExamplesLoad(t *testing.T) {
	set, diags := Load(os.DirFS(examplesDir), "containers")
	if len(diags) > 0 {
		t.Fatalf("examples/containers has diagnostics:\n%s", diags.Error())
	}
	want := map[int]string{101: "web", 102: "media", 103: "dns", 201: "db"}
	if len(set.Containers) != len(want) {
		t.Errorf("%d containers, want %d", len(set.Containers), len(want))
	}
	for vmid, name := range want {
		c := set.ByVMID(vmid)
		if c == nil || c.Metadata.Name != name {
			t.Errorf("vmid %d: got %+v, want %s", vmid, c, name)
		}
	}
	// The Defaults file reached every container.
	for _, c := range set.Containers {
		if c.Metadata.Labels["managed-by"] != "felhom" || c.Spec.OnBoot == nil || !*c.Spec.OnBoot {
			t.Errorf("%s: folder defaults not applied: labels %v", c.Metadata.Name, c.Metadata.Labels)
		}
	}
	// dns names only snapshot.when-impossible; the backup storage vzdump
	// writes to comes from the Defaults.
	if dns := set.ByName("dns"); dns == nil || dns.Spec.Backup == nil || dns.Spec.Backup.Storage != "nas" ||
		dns.Spec.Snapshot == nil || dns.Spec.Snapshot.WhenImpossible != SnapshotVzdump {
		t.Errorf("dns: want the inherited backup to nas and snapshot policy with when-impossible: vzdump, got %+v", dns)
	}
}

// TestExamplesSchemaModeline checks that every example names the schema
// in a yaml-language-server modeline whose relative path really reaches
// schemas/container.schema.json, so editors complete and check it.
func TestExamplesSchemaModeline(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(examplesDir, "containers", "*.yaml"))
	if len(files) < 4 {
		t.Fatalf("only %d example files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := bytes.Cut(data, []byte("\n"))
		rel, ok := strings.CutPrefix(string(first), "# yaml-language-server: $schema=")
		if !ok {
			t.Errorf("%s: first line %q is not a yaml-language-server $schema modeline", f, first)
			continue
		}
		target, err := os.ReadFile(filepath.Join(filepath.Dir(f), filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: modeline path %s does not resolve: %v", f, rel, err)
			continue
		}
		if !bytes.Equal(target, schemas.Container) {
			t.Errorf("%s: %s is not the embedded schema", f, rel)
		}
	}
}

// inventory is the part of the simulator's example inventory the specs
// must agree with.
type inventory struct {
	Nodes []struct {
		Name     string `yaml:"name"`
		Storages []struct {
			ID      string   `yaml:"id"`
			Type    string   `yaml:"type"`
			Content []string `yaml:"content"`
		} `yaml:"storages"`
		Containers []struct {
			VMID int `yaml:"vmid"`
		} `yaml:"containers"`
	} `yaml:"nodes"`
}

// TestExamplesMatchSimInventory keeps examples/containers and the
// simulator's examples/sim/inventory.yaml telling one story: each container
// exists on its node there, and every storage a spec names exists on that
// node with the content it is used for.
func TestExamplesMatchSimInventory(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examplesDir, "sim", "inventory.yaml"))
	if err != nil {
		t.Skipf("no simulator inventory: %v", err)
	}
	var inv inventory
	if err := yaml.Unmarshal(data, &inv); err != nil {
		t.Fatal(err)
	}
	type storage struct{ content map[string]bool }
	storages := map[string]map[string]storage{} // node -> id -> storage
	cts := map[int]string{}                     // vmid -> node
	for _, n := range inv.Nodes {
		storages[n.Name] = map[string]storage{}
		for _, s := range n.Storages {
			st := storage{content: map[string]bool{}}
			for _, c := range s.Content {
				st.content[c] = true
			}
			storages[n.Name][s.ID] = st
		}
		for _, c := range n.Containers {
			cts[c.VMID] = n.Name
		}
	}
	set, diags := Load(os.DirFS(examplesDir), "containers")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	need := func(c *Container, id, content, what string) {
		st, ok := storages[c.Spec.Node][id]
		if !ok {
			t.Errorf("%s: %s storage %q is not on node %s in the simulator inventory", c.Metadata.Name, what, id, c.Spec.Node)
			return
		}
		if !st.content[content] {
			t.Errorf("%s: %s storage %q on %s lacks content %s", c.Metadata.Name, what, id, c.Spec.Node, content)
		}
	}
	for _, c := range set.Containers {
		if node, ok := cts[c.Spec.VMID]; !ok || node != c.Spec.Node {
			t.Errorf("%s: vmid %d on %s, simulator has it on %q", c.Metadata.Name, c.Spec.VMID, c.Spec.Node, node)
		}
		if c.Spec.RootFS != nil {
			need(c, c.Spec.RootFS.Storage, "rootdir", "rootfs")
		}
		for slot, mp := range c.Spec.MountPoints {
			switch mp.Kind() {
			case MountNewVolume:
				need(c, mp.Storage, "rootdir", slot)
			case MountVolume:
				id, _, _ := strings.Cut(mp.Volume, ":")
				need(c, id, "rootdir", slot)
			}
		}
		if c.Spec.Backup != nil {
			need(c, c.Spec.Backup.Storage, "backup", "backup")
		}
	}
}

// TestExamplesReadme keeps examples/README.md in step with the files.
func TestExamplesReadme(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examplesDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(examplesDir, "containers", "*.yaml"))
	for _, f := range files {
		name := path.Join("containers", filepath.Base(f))
		if !bytes.Contains(data, []byte(name)) {
			t.Errorf("examples/README.md does not mention %s", name)
		}
	}
}
