package pvesim

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/prune"
)

// simNode is a node with its storages (shared storages are the same object
// on every node that lists them).
type simNode struct {
	name     string
	loc      *time.Location
	tz       string
	arch     string // "" is x86_64
	maxCPU   int
	maxMem   int64
	storages []*simStorage
	storage  map[string]*simStorage
	bootTime time.Time
}

// simStorage is one storage: its backups and the volumes on it.
type simStorage struct {
	id       string
	typ      string
	content  []string
	shared   bool
	total    int64
	prune    string                // the storage's prune-backups setting
	keepSize bool                  // a rollback leaves volume sizes (Storage.RollbackKeepsSize)
	backups  map[string]*simBackup // by volid
	volumes  map[string]*volume    // by volume name (the part after "storage:")
	tmpls    map[string]int64      // OS templates: size by volid
}

// simVM is a QEMU guest: it only holds its vmid.
type simVM struct{ node, name string }

type simBackup struct {
	volid     string
	size      int64
	notes     string
	protected bool
	ctime     int64  // file time, for renamed archives
	vmid      int    // from the name, 0 when it carries none
	config    string // the container config inside the archive
}

// volume is one container volume on a storage.
type volume struct {
	size  int64
	owner int // vmid from the name, 0 if none
	// snaps are the volume's snapshots, oldest first (ZFS rolls back
	// only to the last).
	snaps []string
	// snapSize is the volume's size when each snapshot was taken: a
	// rollback brings it back (see rollbackSnapshot).
	snapSize map[string]int64
}

// addSnap records snapshot name of the volume, taken at size.
func (v *volume) addSnap(name string, size int64) {
	v.snaps = append(v.snaps, name)
	if v.snapSize == nil {
		v.snapSize = map[string]int64{}
	}
	v.snapSize[name] = size
}

// dropSnap forgets snapshot name of the volume.
func (v *volume) dropSnap(name string) {
	v.snaps = removeString(v.snaps, name)
	delete(v.snapSize, name)
}

// simCT is a container. Its config is kept as PVE's file text; every change
// parses it, applies the rule and writes the text back, so the digest is
// always the SHA1 of the text, as on PVE.
type simCT struct {
	vmid    int
	node    string
	running bool
	conf    string
	started time.Time

	// parsed caches the parse of conf for read-only use (nil until view
	// parses it; store, the only writer of conf after New, clears it).
	parsed  *ctconf.File
	maxDisk int64 // the rootfs size of parsed
	// status is ctStatus's part from parsed (nil until asked; cache, the
	// only setter of parsed, clears it).
	status *ctStatus
}

type simUser struct {
	acl []ACL
}

type simToken struct {
	user    string
	name    string
	secret  string
	privsep bool
	acl     []ACL
}

// lockHold is a lock set by HoldLock, removed when the clock passes until.
type lockHold struct {
	vmid  int
	lock  string
	until time.Time
}

// outcomeRule is a task steering rule with the number of tasks it steered.
type outcomeRule struct {
	TaskOutcome
	used int
}

// faultRule is an injected fault with its hit count.
type faultRule struct {
	Fault
	hits int
}

// storageTypes are the storage plugins the simulator knows. Whether a
// container volume on them can be snapshotted is format.SnapshotCapable,
// which reconcile asks too.
var storageTypes = map[string]bool{
	"lvmthin": true, "zfspool": true, "rbd": true, "btrfs": true,
	"dir": true, "nfs": true, "cifs": true, "lvm": true,
}

var contentTypes = map[string]bool{"rootdir": true, "images": true, "backup": true, "vztmpl": true, "iso": true, "snippets": true, "import": true}

// canSnapshot reports whether a container volume on st can be snapshotted
// (format.SnapshotCapable).
func (st *simStorage) canSnapshot() bool { return format.SnapshotCapable(st.typ) }

func (st *simStorage) hasContent(c string) bool {
	for _, x := range st.content {
		if x == c {
			return true
		}
	}
	return false
}

func (st *simStorage) used() int64 {
	var n int64
	for _, v := range st.volumes {
		n += v.size
	}
	for _, b := range st.backups {
		n += b.size
	}
	return n
}

// text returns the config file text.
func (ct *simCT) text() string { return ct.conf }

// file parses the config text. The text was parsed when it was stored, so
// an error here is an internal one.
func (ct *simCT) file() (*ctconf.File, error) {
	f, err := ctconf.Parse([]byte(ct.conf))
	if err != nil {
		return nil, fmt.Errorf("ct %d: config: %w", ct.vmid, err)
	}
	return f, nil
}

// view returns the parsed config for reading only; it is parsed once per
// change of the text. Callers that change the config use file.
func (ct *simCT) view() (*ctconf.File, error) {
	if ct.parsed != nil {
		return ct.parsed, nil
	}
	f, err := ct.file()
	if err != nil {
		return nil, err
	}
	ct.cache(f)
	return f, nil
}

// cache makes f, a parse of conf that nobody changes, the one view returns.
func (ct *simCT) cache(f *ctconf.File) { ct.parsed, ct.maxDisk, ct.status = f, rootfsSize(f), nil }

// store writes f back as the config text; the next view parses it again
// (f's digest is that of the old text).
func (ct *simCT) store(f *ctconf.File) {
	ct.conf = string(f.Bytes())
	ct.parsed = nil
}

func (ct *simCT) lock() string {
	f, err := ct.view()
	if err != nil {
		return ""
	}
	return f.Lock()
}

func (ct *simCT) setLock(lock string) error {
	f, err := ct.file()
	if err != nil {
		return err
	}
	f.SetLock(lock)
	ct.store(f)
	return nil
}

// load builds the state from an inventory.
func (s *Sim) load(inv *Inventory) error {
	if inv == nil {
		return fmt.Errorf("inventory: nil")
	}
	s.cluster = inv.Cluster
	if s.cluster == "" {
		s.cluster = "felhom-sim"
	}
	shared := map[string]*simStorage{}
	if len(inv.Nodes) == 0 {
		return fmt.Errorf("inventory: no nodes")
	}
	for _, n := range inv.Nodes {
		if !nodeNameRE.MatchString(n.Name) {
			return fmt.Errorf("inventory: node %q: not a valid node name", n.Name)
		}
		if s.node[n.Name] != nil {
			return fmt.Errorf("inventory: node %q: listed twice", n.Name)
		}
		loc := time.UTC
		if n.Timezone != "" {
			l, err := time.LoadLocation(n.Timezone)
			if err != nil {
				return fmt.Errorf("inventory: node %s: timezone: %w", n.Name, err)
			}
			loc = l
		}
		if n.Arch != "" && n.Arch != "x86_64" && n.Arch != "aarch64" {
			return fmt.Errorf("inventory: node %s: arch %q: not x86_64 or aarch64", n.Name, n.Arch)
		}
		sn := &simNode{name: n.Name, loc: loc, tz: n.Timezone, arch: n.Arch, maxCPU: n.MaxCPU, maxMem: n.MaxMem,
			storage: map[string]*simStorage{}, bootTime: s.clock.Now().Add(-72 * time.Hour)}
		if sn.maxCPU == 0 {
			sn.maxCPU = 8
		}
		if sn.maxMem == 0 {
			sn.maxMem = 32 << 30
		}
		for _, st := range n.Storages {
			ss, err := s.loadStorage(n.Name, st, shared)
			if err != nil {
				return err
			}
			if sn.storage[st.ID] != nil {
				return fmt.Errorf("inventory: node %s: storage %q listed twice", n.Name, st.ID)
			}
			sn.storages = append(sn.storages, ss)
			sn.storage[st.ID] = ss
		}
		s.nodes = append(s.nodes, sn)
		s.node[n.Name] = sn
	}
	for _, n := range inv.Nodes {
		for _, vm := range n.VMs {
			if vm.VMID < 100 || vm.VMID > 999999999 {
				return fmt.Errorf("inventory: node %s: vmid %d out of range", n.Name, vm.VMID)
			}
			if _, dup := s.vms[vm.VMID]; dup {
				return fmt.Errorf("inventory: vm %d: listed twice", vm.VMID)
			}
			s.vms[vm.VMID] = simVM{node: n.Name, name: vm.Name}
		}
	}
	for _, n := range inv.Nodes {
		for _, c := range n.Containers {
			if _, vm := s.vms[c.VMID]; vm {
				return fmt.Errorf("inventory: ct %d: a VM has that vmid", c.VMID)
			}
			if c.VMID < 100 || c.VMID > 999999999 {
				return fmt.Errorf("inventory: node %s: vmid %d out of range", n.Name, c.VMID)
			}
			if s.cts[c.VMID] != nil {
				return fmt.Errorf("inventory: ct %d: listed twice", c.VMID)
			}
			f, err := ctconf.Parse([]byte(c.Config))
			if err != nil {
				return fmt.Errorf("inventory: ct %d: config: %w", c.VMID, err)
			}
			ct := &simCT{vmid: c.VMID, node: n.Name, running: c.Running, conf: c.Config}
			if c.Running {
				ct.started = s.clock.Now().Add(-time.Hour)
			}
			if err := s.registerVolumes(ct, f); err != nil {
				return fmt.Errorf("inventory: %w", err)
			}
			ct.cache(f)
			s.cts[c.VMID] = ct
		}
	}
	for _, u := range inv.Users {
		if !userIDRE.MatchString(u.ID) {
			return fmt.Errorf("inventory: user %q: not user@realm", u.ID)
		}
		if err := checkACL(u.ACL); err != nil {
			return fmt.Errorf("inventory: user %s: %w", u.ID, err)
		}
		s.users[u.ID] = &simUser{acl: u.ACL}
		for _, t := range u.Tokens {
			if !tokenNameRE.MatchString(t.Name) {
				return fmt.Errorf("inventory: user %s: token name %q is not valid", u.ID, t.Name)
			}
			if err := checkACL(t.ACL); err != nil {
				return fmt.Errorf("inventory: token %s!%s: %w", u.ID, t.Name, err)
			}
			secret := t.Secret
			if secret == "" {
				secret = randomUUID()
			}
			privsep := t.Privsep == nil || *t.Privsep
			s.tokens[u.ID+"!"+t.Name] = &simToken{user: u.ID, name: t.Name, secret: secret, privsep: privsep, acl: t.ACL}
		}
	}
	return nil
}

var (
	nodeNameRE  = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?$`)
	userIDRE    = regexp.MustCompile(`^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$`)
	tokenNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.\-_]+$`)
)

func (s *Sim) loadStorage(node string, st *Storage, shared map[string]*simStorage) (*simStorage, error) {
	if simpleFormat("pve-storage-id", st.ID) != "" {
		return nil, fmt.Errorf("inventory: node %s: storage id %q is not valid", node, st.ID)
	}
	if !storageTypes[st.Type] {
		return nil, fmt.Errorf("inventory: storage %s: unknown type %q (want lvmthin, zfspool, btrfs, rbd, dir, nfs, cifs or lvm)", st.ID, st.Type)
	}
	for _, c := range st.Content {
		if !contentTypes[c] {
			return nil, fmt.Errorf("inventory: storage %s: unknown content type %q", st.ID, c)
		}
	}
	if st.Shared {
		if ss := shared[st.ID]; ss != nil {
			if len(st.Backups) > 0 && len(ss.backups) > 0 {
				return nil, fmt.Errorf("inventory: shared storage %s: list its backups on one node only", st.ID)
			}
			if err := addBackups(ss, st.Backups); err != nil {
				return nil, err
			}
			if err := addTemplates(ss, st.Templates); err != nil {
				return nil, err
			}
			return ss, nil
		}
	}
	if st.PruneBackups != "" {
		if _, err := prune.ParseOptions(st.PruneBackups); err != nil {
			return nil, fmt.Errorf("inventory: storage %s: %w", st.ID, err)
		}
	}
	ss := &simStorage{id: st.ID, typ: st.Type, content: st.Content, shared: st.Shared, total: st.Total, prune: st.PruneBackups, keepSize: st.RollbackKeepsSize,
		backups: map[string]*simBackup{}, volumes: map[string]*volume{}, tmpls: map[string]int64{}}
	if ss.total == 0 {
		ss.total = 1 << 40
	}
	if err := addBackups(ss, st.Backups); err != nil {
		return nil, err
	}
	if err := addTemplates(ss, st.Templates); err != nil {
		return nil, err
	}
	if st.Shared {
		shared[st.ID] = ss
	}
	return ss, nil
}

func addBackups(ss *simStorage, bs []Backup) error {
	for _, b := range bs {
		sid, name, ok := strings.Cut(b.Volid, ":")
		if !ok || sid != ss.id || !strings.HasPrefix(name, "backup/") || strings.Contains(strings.TrimPrefix(name, "backup/"), "/") {
			return fmt.Errorf("inventory: storage %s: backup volid %q is not %s:backup/<file>", ss.id, b.Volid, ss.id)
		}
		size := b.Size
		if size == 0 {
			size = 512 << 20
		}
		vmid, _, _, _ := prune.ArchiveInfo(b.Volid, time.UTC)
		ss.backups[b.Volid] = &simBackup{volid: b.Volid, size: size, notes: b.Notes, protected: b.Protected, ctime: b.CTime, vmid: vmid, config: b.Config}
	}
	return nil
}

// vztmplRE is a template's volume name (PVE::Storage VZTMPL_EXT_RE_1:
// .tar.gz, .tar.xz, .tar.zst, .tar.bz2); the group is the compression.
var vztmplRE = regexp.MustCompile(`^vztmpl/[^/]+\.tar\.(gz|xz|zst|bz2)$`)

func addTemplates(ss *simStorage, ts []Template) error {
	if len(ts) > 0 && !ss.hasContent("vztmpl") {
		return fmt.Errorf("inventory: storage %s: templates on a storage without content vztmpl", ss.id)
	}
	for _, t := range ts {
		sid, name, ok := strings.Cut(t.Volid, ":")
		if !ok || sid != ss.id || !vztmplRE.MatchString(name) {
			return fmt.Errorf("inventory: storage %s: template volid %q is not %s:vztmpl/<file>.tar.{gz,xz,zst,bz2}", ss.id, t.Volid, ss.id)
		}
		size := t.Size
		if size == 0 {
			size = 128 << 20
		}
		ss.tmpls[t.Volid] = size
	}
	return nil
}

// mountKeyRE matches the config keys that name volumes.
var mountKeyRE = regexp.MustCompile(`^(rootfs|mp\d+|unused\d+)$`)

// registerVolumes records the volumes ct's config (all sections) refers to
// on their storages.
func (s *Sim) registerVolumes(ct *simCT, f *ctconf.File) error {
	sections := []*ctconf.Section{f.Main}
	if f.Pending != nil {
		sections = append(sections, f.Pending)
	}
	for _, sn := range f.Snapshots {
		sections = append(sections, sn.Section)
	}
	for _, sec := range sections {
		for _, key := range sec.Keys() {
			if !mountKeyRE.MatchString(key) {
				continue
			}
			v, _ := sec.Get(key)
			vol, size, ok := volumeOf(key, v)
			if !ok {
				continue
			}
			st, name, err := s.storageOf(ct.node, vol)
			if err != nil {
				return fmt.Errorf("ct %d: %s: %w", ct.vmid, key, err)
			}
			if cur := st.volumes[name]; cur != nil && cur.size >= size {
				continue
			}
			st.volumes[name] = &volume{size: size, owner: volumeOwner(name)}
		}
	}
	snaps := append([]*ctconf.Snapshot{}, f.Snapshots...)
	sort.SliceStable(snaps, func(i, j int) bool {
		a, _ := snaps[i].Get("snaptime")
		b, _ := snaps[j].Get("snaptime")
		ai, _ := strconv.ParseInt(a, 10, 64)
		bi, _ := strconv.ParseInt(b, 10, 64)
		if ai != bi {
			return ai < bi
		}
		return snaps[i].Name < snaps[j].Name
	})
	for _, sn := range snaps {
		for _, m := range s.sectionMounts(ct, sn.Section) {
			if m.vol != nil {
				value, _ := sn.Get(m.key)
				_, size, _ := volumeOf(m.key, value)
				m.vol.addSnap(sn.Name, size)
			}
		}
	}
	return nil
}

// volumeOf returns the volid and size (bytes, default 8 GiB when the config
// has no size=) of a rootfs/mpN/unusedN value that names a storage volume
// (not a bind or device mount, not the new-volume form).
func volumeOf(key, value string) (volid string, size int64, ok bool) {
	var vol string
	var sz *format.Size
	if key == "rootfs" || strings.HasPrefix(key, "mp") {
		var err error
		if vol, sz, err = mountVolume(key, value); err != nil {
			return "", 0, false
		}
	} else { // unusedN: [volume=]<volid>
		vol = strings.TrimPrefix(value, "volume=")
	}
	if strings.HasPrefix(vol, "/") || !strings.Contains(vol, ":") {
		return "", 0, false
	}
	if format.IsNewVolume(vol) {
		return "", 0, false
	}
	size = 8 << 30
	if sz != nil {
		size = int64(*sz)
	}
	return vol, size, true
}

// mountVolume returns the volume and size= of a rootfs or mpN value.
func mountVolume(key, value string) (vol string, size *format.Size, err error) {
	if key == "rootfs" {
		r, err := format.ParseRootFS(value)
		return r.Volume, r.Size, err
	}
	m, err := format.ParseMountPoint(value)
	return m.Volume, m.Size, err
}

// withVolume returns a valid rootfs or mpN value with its volume and size=
// replaced, printed as PVE prints it.
func withVolume(key, value, vol string, size format.Size) string {
	if key == "rootfs" {
		r, _ := format.ParseRootFS(value)
		r.Volume, r.Size = vol, &size
		return r.String()
	}
	m, _ := format.ParseMountPoint(value)
	m.Volume, m.Size = vol, &size
	return m.String()
}

// volumeOwner parses the owner vmid from a volume name as pve-storage's
// parse_volname does for the standard names (vm-N-disk-M, subvol-N-disk-M,
// N/vm-N-disk-M.raw).
func volumeOwner(name string) int {
	m := ownerRE.FindStringSubmatch(name)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

var ownerRE = regexp.MustCompile(`(?:^|/)(?:vm|subvol|base)-(\d+)-disk-\d+`)

// storageOf returns the storage a volid lives on, as seen from node, and
// the volume's name on it (the part after "storage:").
func (s *Sim) storageOf(node, volid string) (*simStorage, string, error) {
	sid, name, _ := strings.Cut(volid, ":")
	st := s.node[node].storage[sid]
	if st == nil {
		return nil, "", fmt.Errorf("storage '%s' does not exist", sid)
	}
	return st, name, nil
}

// snapshot returns the state as an inventory.
func (s *Sim) snapshot() *Inventory {
	inv := &Inventory{Cluster: s.cluster}
	sharedDone := map[string]bool{}
	for _, n := range s.nodes {
		node := &Node{Name: n.name, Timezone: n.tz, Arch: n.arch, MaxCPU: n.maxCPU, MaxMem: n.maxMem}
		for _, st := range n.storages {
			out := &Storage{ID: st.id, Type: st.typ, Content: st.content, Shared: st.shared, Total: st.total, PruneBackups: st.prune, RollbackKeepsSize: st.keepSize}
			if !st.shared || !sharedDone[st.id] {
				sharedDone[st.id] = true
				for _, b := range sortedBackups(st) {
					out.Backups = append(out.Backups, Backup{Volid: b.volid, Size: b.size, Notes: b.notes, Protected: b.protected, CTime: b.ctime, Config: b.config})
				}
				for _, v := range slices.Sorted(maps.Keys(st.tmpls)) {
					out.Templates = append(out.Templates, Template{Volid: v, Size: st.tmpls[v]})
				}
			}
			node.Storages = append(node.Storages, out)
		}
		for _, vmid := range s.vmids() {
			ct := s.cts[vmid]
			if ct.node == n.name {
				node.Containers = append(node.Containers, Container{VMID: vmid, Running: ct.running, Config: ct.conf})
			}
		}
		for _, vmid := range slices.Sorted(maps.Keys(s.vms)) {
			if vm := s.vms[vmid]; vm.node == n.name {
				node.VMs = append(node.VMs, VM{VMID: vmid, Name: vm.name})
			}
		}
		inv.Nodes = append(inv.Nodes, node)
	}
	var uids []string
	for id := range s.users {
		uids = append(uids, id)
	}
	sort.Strings(uids)
	for _, id := range uids {
		u := &User{ID: id, ACL: s.users[id].acl}
		var tids []string
		for tid, t := range s.tokens {
			if t.user == id {
				tids = append(tids, tid)
			}
		}
		sort.Strings(tids)
		for _, tid := range tids {
			t := s.tokens[tid]
			privsep := t.privsep
			u.Tokens = append(u.Tokens, Token{Name: t.name, Secret: t.secret, Privsep: &privsep, ACL: t.acl})
		}
		inv.Users = append(inv.Users, u)
	}
	return inv
}

func (s *Sim) vmids() []int {
	ids := make([]int, 0, len(s.cts))
	for id := range s.cts {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func sortedBackups(st *simStorage) []*simBackup {
	out := make([]*simBackup, 0, len(st.backups))
	for _, b := range st.backups {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].volid < out[j].volid })
	return out
}

// persist writes the state file, if there is one. Errors are reported on
// stderr: the simulator keeps serving.
func (s *Sim) persist() {
	if s.stateFile == "" {
		return
	}
	b, err := s.snapshot().Marshal()
	if err == nil {
		tmp := s.stateFile + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, s.stateFile)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "felhom sim: write state %s: %v\n", filepath.Clean(s.stateFile), err)
	}
}

// allocator implements ctconf.VolumeAllocator for one container.
type allocator struct {
	s  *Sim
	ct *simCT
}

// CheckRootdir implements ctconf.VolumeAllocator.
func (a allocator) CheckRootdir(storage string) error {
	st := a.s.node[a.ct.node].storage[storage]
	if st == nil {
		return fmt.Errorf("storage '%s' does not exist", storage)
	}
	if !st.hasContent("rootdir") {
		return fmt.Errorf("storage '%s' does not allow content type 'rootdir' (Container)", storage)
	}
	return nil
}

// Alloc implements ctconf.VolumeAllocator as PVE's alloc_disk: zfspool
// always makes a subvol; size 0 on a path-based storage makes a subvol
// directory; everything else gets a raw image (pve-container
// src/PVE/LXC.pm alloc_disk, pve-storage find_free_diskname).
func (a allocator) Alloc(storage, key string, size int64) (string, error) {
	if err := a.CheckRootdir(storage); err != nil {
		return "", err
	}
	st := a.s.node[a.ct.node].storage[storage]
	if st.used()+size > st.total {
		return "", fmt.Errorf("not enough space on storage '%s'", storage)
	}
	vmid := a.ct.vmid
	subvol := st.typ == "zfspool" || (size == 0 && (st.typ == "dir" || st.typ == "nfs" || st.typ == "cifs" || st.typ == "btrfs"))
	if size == 0 && !subvol {
		return "", fmt.Errorf("unable to create containers on storage type '%s' with size 0", st.typ)
	}
	for i := 0; ; i++ {
		var name string
		base := fmt.Sprintf("vm-%d-disk-%d", vmid, i)
		if subvol {
			base = fmt.Sprintf("subvol-%d-disk-%d", vmid, i)
		}
		switch {
		case st.typ == "btrfs" && !subvol:
			name = fmt.Sprintf("%d/%s/disk.raw", vmid, base)
		case st.typ == "dir" || st.typ == "nfs" || st.typ == "cifs" || st.typ == "btrfs":
			if subvol {
				name = fmt.Sprintf("%d/%s", vmid, base)
			} else {
				name = fmt.Sprintf("%d/%s.raw", vmid, base)
			}
		default:
			name = base
		}
		if a.nameTaken(st, vmid, i) {
			continue
		}
		st.volumes[name] = &volume{size: size, owner: vmid}
		return storage + ":" + name, nil
	}
}

// nameTaken reports whether disk index i of vmid is used on st in any form
// (find_free_diskname looks at every volume of the vmid).
func (a allocator) nameTaken(st *simStorage, vmid, i int) bool {
	for name := range st.volumes {
		m := diskIndexRE.FindStringSubmatch(name)
		if m != nil && m[1] == strconv.Itoa(vmid) && m[2] == strconv.Itoa(i) {
			return true
		}
	}
	return false
}

var diskIndexRE = regexp.MustCompile(`(?:^|/)(?:vm|subvol|base)-(\d+)-disk-(\d+)`)

// Free implements ctconf.VolumeAllocator: vdisk_free.
func (a allocator) Free(volid string) error {
	st, name, err := a.s.storageOf(a.ct.node, volid)
	if err != nil {
		return err
	}
	if st.volumes[name] == nil {
		return fmt.Errorf("volume '%s' does not exist", volid)
	}
	delete(st.volumes, name)
	return nil
}

// VolumeSize implements ctconf.VolumeSizer: pve-storage
// volume_size_info, which apply_pending_mountpoint's $rescan_volume
// calls when an existing volume is attached, so its size= is the volume's
// own. A volume the storage does not have fails (ctconf keeps the size
// and warns "Could not rescan volume size - ..."); the message is the
// simulator's.
func (a allocator) VolumeSize(volid string) (int64, error) {
	st, name, err := a.s.storageOf(a.ct.node, volid)
	if err != nil {
		return 0, err
	}
	v := st.volumes[name]
	if v == nil {
		return 0, fmt.Errorf("volume '%s' does not exist", volid)
	}
	return v.size, nil
}
