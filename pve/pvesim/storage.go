package pvesim

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/prune"
)

// Storage endpoints: the node's storage list, content, and prune
// (pve-storage src/PVE/API2/Storage/Status.pm, Content.pm,
// PruneBackups.pm; src/PVE/Storage/Plugin.pm prune_backups;
// src/PVE/Storage.pm prune_mark_backup_group, archive_info).

// storageAudit are the privileges that let a caller see a storage (any of
// them, as check_any).
var storageAudit = []string{"Datastore.Audit", "Datastore.AllocateSpace"}

func (s *Sim) lookupStorage(r *request) (*simNode, *simStorage, error) {
	n, err := s.lookupNode(r)
	if err != nil {
		return nil, nil, err
	}
	st := n.storage[r.params["storage"]]
	if st == nil {
		return nil, nil, errorf("storage '%s' does not exist", r.params["storage"])
	}
	return n, st, nil
}

// listStorage is GET /nodes/{node}/storage: the storages the caller may
// audit or allocate on, filtered by content and storage.
func (s *Sim) listStorage(r *request) (any, error) {
	n, err := s.lookupNode(r)
	if err != nil {
		return nil, err
	}
	want := format.SplitList(r.params["content"])
	out := []map[string]any{}
	for _, st := range n.storages {
		if id := r.params["storage"]; id != "" && id != st.id {
			continue
		}
		if !s.hasAny(r.token, "/storage/"+st.id, storageAudit...) {
			continue
		}
		if len(want) > 0 {
			ok := false
			for _, c := range want {
				ok = ok || st.hasContent(c)
			}
			if !ok {
				continue
			}
		}
		used := st.used()
		content := append([]string{}, st.content...)
		sort.Strings(content)
		out = append(out, map[string]any{
			"storage": st.id, "type": st.typ, "content": strings.Join(content, ","),
			"active": 1, "enabled": 1, "shared": boolInt(st.shared),
			"total": st.total, "used": used, "avail": st.total - used,
			"used_fraction": float64(used) / float64(st.total),
		})
	}
	return out, nil
}

// archiveFormatRE is the backup file pattern of Plugin::list_volumes.
var archiveFormatRE = regexp.MustCompile(`\.(tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$`)

// backupEntry is a backup as the storage content list shows it.
func (s *Sim) backupEntry(n *simNode, b *simBackup) map[string]any {
	m := map[string]any{"volid": b.volid, "content": "backup", "size": b.size}
	if f := archiveFormatRE.FindStringSubmatch(b.volid); f != nil {
		m["format"] = f[1]
	} else {
		m["format"] = "unknown"
	}
	vmid, typ, ctime, ok := prune.ArchiveInfo(b.volid, n.loc)
	if ok {
		m["ctime"] = ctime.Unix()
		m["vmid"] = vmid
		m["subtype"] = typ
	} else {
		m["ctime"] = b.ctime
		if b.vmid != 0 {
			m["vmid"] = b.vmid
		}
	}
	if b.notes != "" {
		m["notes"] = b.notes
	}
	if b.protected {
		m["protected"] = 1
	}
	return m
}

// storageContent is GET .../content: backups and container volumes the
// caller may see (check_volume_access).
func (s *Sim) storageContent(r *request) (any, error) {
	n, st, err := s.lookupStorage(r)
	if err != nil {
		return nil, err
	}
	want := r.params["content"]
	vmidFilter := 0
	if v := r.params["vmid"]; v != "" {
		vmidFilter, _ = strconv.Atoi(v)
	}
	allocate := s.hasAny(r.token, "/storage/"+st.id, "Datastore.Allocate")
	out := []map[string]any{}
	if want == "" || want == "backup" {
		for _, b := range sortedBackups(st) {
			m := s.backupEntry(n, b)
			vmid, _ := m["vmid"].(int)
			if vmidFilter != 0 && vmid != vmidFilter {
				continue
			}
			if !allocate && vmid != 0 && (!s.hasAny(r.token, "/storage/"+st.id, "Datastore.AllocateSpace") || !s.hasAny(r.token, vmPath(vmid), "VM.Backup")) {
				continue
			}
			out = append(out, m)
		}
	}
	if want == "" || want == "vztmpl" {
		// Plugin.pm get_subdir_files: vztmpl entries carry format
		// "t" + the compression (tzst, tgz, txz, tbz2).
		for _, volid := range slices.Sorted(maps.Keys(st.tmpls)) {
			m := vztmplRE.FindStringSubmatch(strings.TrimPrefix(volid, st.id+":"))
			out = append(out, map[string]any{"volid": volid, "content": "vztmpl", "format": "t" + m[1], "size": st.tmpls[volid]})
		}
	}
	if want == "" || want == "rootdir" || want == "images" {
		names := make([]string, 0, len(st.volumes))
		for name := range st.volumes {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			v := st.volumes[name]
			if vmidFilter != 0 && v.owner != vmidFilter {
				continue
			}
			fmtName := "raw"
			if strings.Contains(name, "subvol-") {
				fmtName = "subvol"
			}
			m := map[string]any{"volid": st.id + ":" + name, "content": "rootdir", "format": fmtName, "size": v.size, "used": v.size / 4}
			if v.owner != 0 {
				m["vmid"] = v.owner
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// pruneOptions returns the prune-backups in effect: the parameter when
// given (even empty, as PVE's '//=' keeps a defined value), else the
// storage's own setting, else keep-all=1. vzdump and the prunebackups
// endpoints choose alike.
func pruneOptions(r *request, st *simStorage) (prune.Options, error) {
	v, ok := r.params["prune-backups"]
	if !ok {
		v = st.prune
	}
	if v == "" {
		v = "keep-all=1"
	}
	o, err := prune.ParseOptions(v)
	if err != nil {
		return prune.Options{}, errorf("%v", err)
	}
	return o, nil
}

// pruneEntry is one element of GET .../prunebackups.
type pruneEntry struct {
	volid string
	ctime int64
	typ   string
	vmid  int
	mark  prune.Mark
}

// pruneMarks is Plugin::prune_backups' dry run over the storage's backups,
// filtered by vmid and type.
func (s *Sim) pruneMarks(n *simNode, st *simStorage, o prune.Options, vmid int, typ string) []pruneEntry {
	var list []prune.Backup
	for _, b := range sortedBackups(st) {
		pb := prune.FromVolume(b.volid, time.Unix(b.ctime, 0), b.vmid, b.protected, n.loc)
		if vmid != 0 && pb.VMID != vmid {
			continue
		}
		if typ != "" && pb.Type != typ {
			continue
		}
		list = append(list, pb)
	}
	marks := prune.Select(list, o, n.loc)
	out := make([]pruneEntry, 0, len(list))
	for _, b := range list {
		out = append(out, pruneEntry{volid: b.Volid, ctime: b.CTime.Unix(), typ: b.Type, vmid: b.VMID, mark: marks[b.Volid]})
	}
	return out
}

// getPrune is GET .../prunebackups.
func (s *Sim) getPrune(r *request) (any, error) {
	n, st, err := s.lookupStorage(r)
	if err != nil {
		return nil, err
	}
	o, err := pruneOptions(r, st)
	if err != nil {
		return nil, err
	}
	vmid, _ := strconv.Atoi(r.params["vmid"])
	out := []map[string]any{}
	for _, e := range s.pruneMarks(n, st, o, vmid, r.params["type"]) {
		m := map[string]any{"volid": e.volid, "ctime": e.ctime, "type": e.typ, "mark": string(e.mark)}
		if e.vmid != 0 {
			m["vmid"] = e.vmid
		}
		out = append(out, m)
	}
	return out, nil
}

// deletePrune is DELETE .../prunebackups: task prunebackups, id
// [vmid@]storage.
func (s *Sim) deletePrune(r *request) (any, error) {
	vmid, _ := strconv.Atoi(r.params["vmid"])
	sid := r.params["storage"]
	if vmid != 0 {
		if err := s.check(r, "/storage/"+sid, "Datastore.AllocateSpace"); err != nil {
			return nil, err
		}
		if err := s.check(r, vmPath(vmid), "VM.Backup"); err != nil {
			return nil, err
		}
	} else if err := s.check(r, "/storage/"+sid, "Datastore.Allocate"); err != nil {
		return nil, err
	}
	n, st, err := s.lookupStorage(r)
	if err != nil {
		return nil, err
	}
	o, err := pruneOptions(r, st)
	if err != nil {
		return nil, err
	}
	id := sid
	if vmid != 0 {
		id = strconv.Itoa(vmid) + "@" + sid
	}
	typ := r.params["type"]
	return s.startTask(r, taskSpec{node: n.name, typ: "prunebackups", id: id, finish: func(t *task) error {
		removeMarked(t, st, s.pruneMarks(n, st, o, vmid, typ), "info: ")
		return nil
	}}), nil
}

// removeMarked deletes the backups marked "remove" and logs each.
func removeMarked(t *task, st *simStorage, entries []pruneEntry, prefix string) int {
	removed := 0
	for _, e := range entries {
		if e.mark != prune.MarkRemove {
			continue
		}
		t.logf("%sremoving backup '%s'", prefix, e.volid)
		delete(st.backups, e.volid)
		removed++
	}
	return removed
}
