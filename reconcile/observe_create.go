package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// creating lists the specs that create a container: a create section, and
// no container with the vmid on PVE (once it exists the section is not
// read).
func creating(res []pve.Resource, specs []spec.Container) []*spec.Container {
	cts := map[int]bool{}
	for _, r := range res {
		if r.Type == "lxc" || r.Type == "" {
			cts[r.VMID] = true
		}
	}
	var out []*spec.Container
	for i := range specs {
		if specs[i].Spec.Create != nil && !cts[specs[i].Spec.VMID] {
			out = append(out, &specs[i])
		}
	}
	return out
}

// createNodes are the nodes the specs create containers on.
func createNodes(res []pve.Resource, specs []spec.Container) []string {
	var out []string
	for _, c := range creating(res, specs) {
		if c.Spec.Node != "" && !slices.Contains(out, c.Spec.Node) {
			out = append(out, c.Spec.Node)
		}
	}
	return out
}

// observeCreates reads what the specs that create a container need, keyed
// by VMID: whether a guest holds the vmid (a VM in res: cluster resources
// lists QEMU guests too), the node's storage list (caps, read with the
// others) and the template or backup to create from, in one GET
// /nodes/{node}/storage/{storage}/content per node, storage and kind
// (vztmpl or backup) that a create names. A plan without creates costs
// nothing more.
func observeCreates(ctx context.Context, api API, res []pve.Resource, specs []spec.Container,
	caps map[string]map[string]diff.Storage, capErr map[string]error, concurrency int) map[int]*diff.NewCT {
	todo := creating(res, specs)
	if len(todo) == 0 {
		return nil
	}
	vms := map[int]pve.Resource{}
	for _, r := range res {
		if r.Type == "qemu" {
			vms[r.VMID] = r
		}
	}
	type place struct{ node, storage, content string }
	want := map[place]bool{}
	sourceOf := func(c *spec.Container) (place, bool) {
		cr := c.Spec.Create
		switch {
		case cr.OSTemplate != "":
			s, _, _ := strings.Cut(cr.OSTemplate, ":")
			return place{c.Spec.Node, s, "vztmpl"}, true
		case cr.Restore != nil && cr.Restore.VolID != "":
			s, _, _ := strings.Cut(cr.Restore.VolID, ":")
			return place{c.Spec.Node, s, "backup"}, true
		case cr.Restore != nil && cr.Restore.Storage != "":
			return place{c.Spec.Node, cr.Restore.Storage, "backup"}, true
		}
		return place{}, false
	}
	out := make(map[int]*diff.NewCT, len(todo))
	for _, c := range todo {
		nc := &diff.NewCT{}
		out[c.Spec.VMID] = nc
		if vm, ok := vms[c.Spec.VMID]; ok {
			nc.HeldBy = fmt.Sprintf("VM %d (%s) on node %s", vm.VMID, vm.Name, vm.Node)
			continue
		}
		if err := capErr[c.Spec.Node]; err != nil {
			nc.SourceErr = fmt.Sprintf("node %s: storage list: %v", c.Spec.Node, err)
			continue
		}
		nc.Storages = caps[c.Spec.Node]
		if p, ok := sourceOf(c); ok {
			want[p] = true
		}
	}
	places := slices.SortedFunc(maps.Keys(want), func(a, b place) int {
		return cmp.Or(cmp.Compare(a.node, b.node), cmp.Compare(a.storage, b.storage), cmp.Compare(a.content, b.content))
	})
	lists := make([][]pve.Volume, len(places))
	errs := make([]error, len(places))
	forEach(len(places), concurrency, func(i int) {
		p := places[i]
		lists[i], errs[i] = api.StorageContent(ctx, p.node, p.storage, pve.ContentQuery{Content: p.content})
	})
	for _, c := range todo {
		nc := out[c.Spec.VMID]
		p, ok := sourceOf(c)
		if nc.HeldBy != "" || nc.SourceErr != "" || !ok {
			continue
		}
		i := slices.Index(places, p)
		if errs[i] != nil {
			nc.SourceErr = fmt.Sprintf("storage %s on node %s: content list: %v", p.storage, p.node, errs[i])
			continue
		}
		nc.Source, nc.SourceErr = findSource(c.Spec.Create, p.node, lists[i])
	}
	// A restore's backup config: what the restored container will hold,
	// one GET .../vzdump/extractconfig per restore.
	var restores []*spec.Container
	for _, c := range todo {
		if nc := out[c.Spec.VMID]; c.Spec.Create.Restore != nil && nc.Source != "" {
			restores = append(restores, c)
		}
	}
	forEach(len(restores), concurrency, func(i int) {
		c := restores[i]
		nc := out[c.Spec.VMID]
		text, err := api.ExtractConfig(ctx, c.Spec.Node, nc.Source)
		if err == nil {
			nc.SourceConfig, err = archiveConfig(text)
		}
		if err != nil {
			nc.SourceErr = fmt.Sprintf("backup %s: its config: %v", nc.Source, err)
		}
	})
	return out
}

// archiveConfig reads the main section of a backup's config into a map.
func archiveConfig(text string) (map[string]string, error) {
	f, err := ctconf.Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range f.Main.Keys() {
		v, _ := f.Main.Get(k)
		out[k] = v
	}
	return out, nil
}

// findSource picks the template or backup the create names from its
// storage's content list: the volid itself, or the newest backup of the
// vmid (by its time, then its name); why it is not there otherwise.
func findSource(cr *spec.Create, node string, vols []pve.Volume) (volid, why string) {
	switch {
	case cr.OSTemplate != "":
		for _, v := range vols {
			if v.VolID == cr.OSTemplate {
				return v.VolID, ""
			}
		}
		s, _, _ := strings.Cut(cr.OSTemplate, ":")
		return "", fmt.Sprintf("OS template %s is not on storage %s of node %s (pveam download %s NAME fetches one)", cr.OSTemplate, s, node, s)
	case cr.Restore.VolID != "":
		for _, v := range vols {
			if v.VolID == cr.Restore.VolID {
				return v.VolID, ""
			}
		}
		s, _, _ := strings.Cut(cr.Restore.VolID, ":")
		return "", fmt.Sprintf("backup %s is not on storage %s of node %s%s", cr.Restore.VolID, s, node, listedTo(s, cr.Restore.VolID))
	}
	var best *pve.Volume
	for i := range vols {
		v := &vols[i]
		if v.VMID != cr.Restore.NewestBackupOf || (v.Subtype != "" && v.Subtype != "lxc") {
			continue
		}
		if best == nil || v.CTime.After(best.CTime) || (v.CTime.Equal(best.CTime) && v.VolID > best.VolID) {
			best = v
		}
	}
	if best == nil {
		return "", fmt.Sprintf("no container backup of vmid %d on storage %s of node %s%s", cr.Restore.NewestBackupOf, cr.Restore.Storage, node,
			listedTo(cr.Restore.Storage, fmt.Sprintf("vzdump-lxc-%d-", cr.Restore.NewestBackupOf)))
	}
	return best.VolID, ""
}

// listedTo says who PVE lists backup volid on storage to, for a plan that
// did not find it: the token may lack what the list asks.
func listedTo(storage, volid string) string {
	owner, ok := plan.BackupOwner(volid)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (PVE lists a backup only to a token with Datastore.AllocateSpace on /storage/%s and VM.Backup on /vms/%d, or Datastore.Allocate on the storage)", storage, owner)
}
