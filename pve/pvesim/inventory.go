package pvesim

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Inventory seeds a simulated cluster. Its YAML form is documented in
// examples/sim/inventory.yaml; Go tests build one with NewInventory and the
// Add* methods. The same type is the --state file of `felhom sim`: the
// simulator writes its current state back in this form.
type Inventory struct {
	// Cluster is the cluster name (used in vzdump notes templates).
	Cluster string `json:"cluster"`
	// Nodes are the cluster's nodes, in the order /nodes lists them.
	Nodes []*Node `json:"nodes"`
	// Users are the PVE users with their ACL entries and API tokens.
	Users []*User `json:"users,omitempty"`
}

// Node is one cluster node.
type Node struct {
	Name string `json:"name"`
	// Timezone is the node's local time zone (IANA name), used for vzdump
	// archive names and prune buckets. Empty means UTC.
	Timezone string `json:"timezone,omitempty"`
	// MaxCPU and MaxMem describe the node's hardware (defaults 8 and 32 GiB).
	MaxCPU int   `json:"maxcpu,omitempty"`
	MaxMem int64 `json:"maxmem,omitempty"`
	// Arch is the node's CPU architecture, x86_64 (the default) or
	// aarch64 (cluster/resources' host-arch).
	Arch string `json:"arch,omitempty"`
	// Storages are the storages active on this node. A shared storage is
	// listed on every node that sees it, with the same id.
	Storages []*Storage `json:"storages,omitempty"`
	// Containers are the LXC containers whose config lives on this node.
	Containers []Container `json:"containers,omitempty"`
	// VMs are QEMU guests on this node. The simulator serves nothing for
	// them; they hold their vmids, so create and nextid refuse those.
	VMs []VM `json:"vms,omitempty"`
}

// VM is a QEMU guest, present only to hold its vmid.
type VM struct {
	VMID int    `json:"vmid"`
	Name string `json:"name,omitempty"`
}

// Template is an OS template (content vztmpl) on a storage.
type Template struct {
	// Volid is "<storage>:vztmpl/<file>.tar.{gz,xz,zst,bz2}", e.g.
	// "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst".
	Volid string `json:"volid"`
	Size  int64  `json:"size,omitempty"`
}

// Storage is one storage as PVE's storage.cfg and the storage plugin see it.
type Storage struct {
	// ID is the storage id (pve-storage-id), e.g. "local-lvm".
	ID string `json:"id"`
	// Type is the plugin type: lvmthin, zfspool, btrfs, rbd, dir, nfs, cifs
	// or lvm. It decides whether container volumes can be snapshotted.
	Type string `json:"type"`
	// Content lists the content types: rootdir, images, backup, vztmpl, iso,
	// snippets.
	Content []string `json:"content"`
	// Shared marks a storage every node sees (nfs, cifs, rbd typically).
	Shared bool `json:"shared,omitempty"`
	// Total is the capacity in bytes (default 1 TiB).
	Total int64 `json:"total,omitempty"`
	// PruneBackups is the storage's own retention (storage.cfg
	// prune-backups), used by vzdump and prune when the call gives none.
	PruneBackups string `json:"prune_backups,omitempty"`
	// RollbackKeepsSize models a storage whose snapshots do not hold the
	// volume size: a rollback brings the config's size= back but leaves
	// each volume at its current size. That is zfspool before pve-storage
	// a9315a0 ("fix #6561"), which did not track a subvol's refquota on
	// its snapshots (ZFSPoolPlugin volume_snapshot_rollback).
	RollbackKeepsSize bool `json:"rollback_keeps_size,omitempty"`
	// Backups are the vzdump archives on this storage.
	Backups []Backup `json:"backups,omitempty"`
	// Templates are the OS templates on this storage (content vztmpl).
	Templates []Template `json:"templates,omitempty"`
}

// Backup is one backup archive. Its ctime comes from the file name as PVE
// takes it (local time of the node); a name that does not follow the vzdump
// pattern is a "renamed" archive.
type Backup struct {
	// Volid is "<storage>:backup/<file>", e.g.
	// "nas:backup/vzdump-lxc-101-2026_08_16-02_16_19.tar.zst".
	Volid     string `json:"volid"`
	Size      int64  `json:"size,omitempty"`
	Notes     string `json:"notes,omitempty"`
	Protected bool   `json:"protected,omitempty"`
	// CTime is the file time (epoch seconds), used only for a name that
	// carries no time (a renamed archive).
	CTime int64 `json:"ctime,omitempty"`
	// Config is the container config stored in the archive (what a
	// restore brings back). Empty means a minimal config.
	Config string `json:"config,omitempty"`
}

// Container is one LXC container.
type Container struct {
	VMID int `json:"vmid"`
	// Running is the power state.
	Running bool `json:"running,omitempty"`
	// Config is the container's /etc/pve/lxc/<vmid>.conf, verbatim:
	// description comments, main section, [pve:pending] and snapshot
	// sections.
	Config string `json:"config"`
}

// User is a PVE user (user@realm) with its ACL entries and API tokens.
type User struct {
	ID     string  `json:"id"`
	ACL    []ACL   `json:"acl,omitempty"`
	Tokens []Token `json:"tokens,omitempty"`
}

// Token is an API token of a user.
type Token struct {
	// Name is the token name (the part after '!').
	Name string `json:"name"`
	// Secret is the token's secret (a UUID on PVE). Empty means "generate
	// one"; the generated secret is reported by Sim.Tokens.
	Secret string `json:"secret,omitempty"`
	// Privsep is PVE's privilege separation flag. Nil means true (PVE's
	// default on creation): the token has the intersection of its own ACL
	// and its user's. False: exactly the user's privileges.
	Privsep *bool `json:"privsep,omitempty"`
	// ACL holds the token's own ACL entries (used with privsep).
	ACL []ACL `json:"acl,omitempty"`
}

// ACL is one access control entry: a role or a list of privileges on a
// path.
type ACL struct {
	// Path is the ACL path, e.g. "/", "/vms/100", "/storage/local".
	Path string `json:"path"`
	// Role is a built-in role name (Administrator, PVEVMAdmin,
	// PVEDatastoreAdmin, PVEAuditor, ...). Either Role or Privileges.
	Role string `json:"role,omitempty"`
	// Privileges lists privileges directly (as a custom role would).
	Privileges []string `json:"privileges,omitempty"`
	// Propagate makes the entry apply to sub-paths. Nil means true (PVE's
	// default).
	Propagate *bool `json:"propagate,omitempty"`
}

// LoadInventory reads an inventory YAML file.
func LoadInventory(path string) (*Inventory, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	inv, err := ParseInventory(b)
	if err != nil {
		return nil, fmt.Errorf("inventory %s: %w", path, err)
	}
	return inv, nil
}

// ParseInventory parses an inventory in YAML (or JSON). Unknown keys are
// errors.
func ParseInventory(b []byte) (*Inventory, error) {
	var inv Inventory
	if err := yaml.UnmarshalStrict(b, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// Marshal returns the inventory as YAML.
func (inv *Inventory) Marshal() ([]byte, error) { return yaml.Marshal(inv) }

// NewInventory starts an inventory for Go tests.
func NewInventory(cluster string) *Inventory { return &Inventory{Cluster: cluster} }

// AddNode adds a node and returns it for adding storages and containers.
func (inv *Inventory) AddNode(name string) *Node {
	n := &Node{Name: name}
	inv.Nodes = append(inv.Nodes, n)
	return n
}

// Node returns the node called name, or nil.
func (inv *Inventory) Node(name string) *Node {
	for _, n := range inv.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// AddUser adds a user with ACL entries and returns it for adding tokens.
func (inv *Inventory) AddUser(id string, acl ...ACL) *User {
	u := &User{ID: id, ACL: acl}
	inv.Users = append(inv.Users, u)
	return u
}

// AddStorage adds a storage to the node and returns it for adding backups.
func (n *Node) AddStorage(id, typ string, content ...string) *Storage {
	st := &Storage{ID: id, Type: typ, Content: content}
	n.Storages = append(n.Storages, st)
	return st
}

// AddContainer adds a container with its config text.
func (n *Node) AddContainer(vmid int, running bool, config string) *Node {
	n.Containers = append(n.Containers, Container{VMID: vmid, Running: running, Config: config})
	return n
}

// AddVM adds a QEMU guest that holds vmid.
func (n *Node) AddVM(vmid int, name string) *Node {
	n.VMs = append(n.VMs, VM{VMID: vmid, Name: name})
	return n
}

// AddTemplate adds an OS template (volid "<storage>:vztmpl/<file>").
func (s *Storage) AddTemplate(volid string, size int64) *Storage {
	s.Templates = append(s.Templates, Template{Volid: volid, Size: size})
	return s
}

// AddBackup adds a backup archive to the storage.
func (s *Storage) AddBackup(b Backup) *Storage {
	s.Backups = append(s.Backups, b)
	return s
}

// AddToken adds an API token to the user. privsep false gives the token
// exactly the user's privileges; true intersects them with acl.
func (u *User) AddToken(name, secret string, privsep bool, acl ...ACL) *User {
	u.Tokens = append(u.Tokens, Token{Name: name, Secret: secret, Privsep: &privsep, ACL: acl})
	return u
}

// Role returns an ACL entry granting role on path, propagating.
func Role(path, role string) ACL { return ACL{Path: path, Role: role} }

// Privs returns an ACL entry granting privileges on path, propagating.
func Privs(path string, privileges ...string) ACL { return ACL{Path: path, Privileges: privileges} }
