package wire

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

// The wire types mirror the "returns" schemas of PVE's API
// (../shared/reference/pve-api/lxc-endpoints.json). They decode leniently
// (decode.go). Only the fields felhom uses are kept. Times are Unix seconds on
// the wire and UTC time.Time here; a 0 or absent time is the zero Time.

// Version is GET /version.
type Version struct {
	Version string `json:"version"` // e.g. "9.1.2"
	Release string `json:"release"` // e.g. "9.1"
	RepoID  string `json:"repoid"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (v *Version) UnmarshalJSON(b []byte) error { return decodeLenient(b, v) }

// Node is one entry of GET /nodes.
type Node struct {
	Node           string  `json:"node"`
	Status         string  `json:"status"` // online, offline, unknown
	CPU            float64 `json:"cpu"`    // fraction of MaxCPU in use
	MaxCPU         int     `json:"maxcpu"`
	Mem            int64   `json:"mem"`
	MaxMem         int64   `json:"maxmem"`
	Uptime         int64   `json:"uptime"` // seconds
	Level          string  `json:"level"`  // subscription level
	SSLFingerprint string  `json:"ssl_fingerprint"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (n *Node) UnmarshalJSON(b []byte) error { return decodeLenient(b, n) }

// NodeTime is GET /nodes/{node}/time (pve-manager PVE/API2/Nodes.pm
// time: the zone is /etc/timezone's name, localtime the local wall clock
// as seconds since the epoch).
type NodeTime struct {
	Timezone  string `json:"timezone"` // IANA name, e.g. "Europe/Budapest"
	Time      int64  `json:"time"`     // seconds since the epoch, UTC
	LocalTime int64  `json:"localtime"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (t *NodeTime) UnmarshalJSON(b []byte) error { return decodeLenient(b, t) }

// Location loads the node's zone ("" and unknown names are errors).
func (t NodeTime) Location() (*time.Location, error) {
	if t.Timezone == "" {
		return nil, fmt.Errorf("node time: no time zone")
	}
	l, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return nil, fmt.Errorf("node time zone %q: %w", t.Timezone, err)
	}
	return l, nil
}

// Resource is one entry of GET /cluster/resources. Which fields are set
// depends on Type (lxc, qemu, node, storage, pool, sdn, ...).
type Resource struct {
	ID       string  `json:"id"`   // e.g. "lxc/100", "node/pve", "storage/pve/local"
	Type     string  `json:"type"` // lxc, qemu, node, storage, ...
	Node     string  `json:"node"`
	VMID     int     `json:"vmid"`
	Name     string  `json:"name"`
	Status   string  `json:"status"`
	Lock     string  `json:"lock"`
	Tags     string  `json:"tags"`
	Pool     string  `json:"pool"`
	HAState  string  `json:"hastate"`
	Template bool    `json:"template"`
	CPU      float64 `json:"cpu"`
	MaxCPU   float64 `json:"maxcpu"`
	Mem      int64   `json:"mem"`
	MaxMem   int64   `json:"maxmem"`
	Disk     int64   `json:"disk"`
	MaxDisk  int64   `json:"maxdisk"`
	Uptime   int64   `json:"uptime"`
	Storage  string  `json:"storage"`    // type storage
	Content  string  `json:"content"`    // type storage
	Plugin   string  `json:"plugintype"` // type storage
	Shared   bool    `json:"shared"`     // type storage
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (r *Resource) UnmarshalJSON(b []byte) error { return decodeLenient(b, r) }

// ContainerListEntry is one entry of GET /nodes/{node}/lxc.
type ContainerListEntry struct {
	VMID     int     `json:"vmid"`
	Name     string  `json:"name"`
	Status   string  `json:"status"` // running, stopped
	Lock     string  `json:"lock"`
	Tags     string  `json:"tags"`
	Template bool    `json:"template"`
	CPU      float64 `json:"cpu"`
	CPUs     float64 `json:"cpus"`
	Mem      int64   `json:"mem"`
	MaxMem   int64   `json:"maxmem"`
	MaxSwap  int64   `json:"maxswap"`
	Disk     int64   `json:"disk"`
	MaxDisk  int64   `json:"maxdisk"`
	Uptime   int64   `json:"uptime"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (c *ContainerListEntry) UnmarshalJSON(b []byte) error { return decodeLenient(b, c) }

// ConfigValues is a container config as GET .../config returns it: every
// key's value as a string, exactly as PVE stores it in the config file
// (numbers keep their spelling, booleans are "0"/"1"), including "digest".
// The raw lxc.* pairs (sent as [[key, value], ...] under "lxc") appear under
// their own keys, e.g. "lxc.apparmor.profile"; a key given several times has
// its values joined by "\n" in file order.
type ConfigValues map[string]string

// Digest returns the config digest (SHA-1 of the config file).
func (c ConfigValues) Digest() string { return c["digest"] }

// UnmarshalJSON normalises PVE's values to strings. The ordinary keys are
// read first (in sorted order, so the first error is always the same one),
// then the "lxc" pairs are spread out in array order. PVE only ever sends
// lxc.* keys in those pairs (pve-container src/PVE/LXC/Config.pm
// parse_pct_config collects lines matching ^(lxc\.[a-z0-9_\-\.]+) into
// $conf->{lxc}), and never an lxc.* key as an ordinary one, so a pair key
// without the "lxc." prefix, or an ordinary key with it, is refused as a
// decode error naming the key: either would make a pair and an ordinary key
// share a name.
func (c *ConfigValues) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(ConfigValues, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := raw[k]
		if k == "lxc" {
			continue
		}
		if strings.HasPrefix(k, lxcKeyPrefix) {
			return fmt.Errorf("config key %q: lxc.* keys come only as pairs under \"lxc\"", k)
		}
		if len(v) > 0 && (v[0] == '{' || v[0] == '[') {
			return fmt.Errorf("config key %s: unexpected %.40s", k, v)
		}
		if string(v) == "null" {
			continue
		}
		out[k] = ScalarText(v)
	}
	if v, ok := raw["lxc"]; ok {
		var pairs [][]string
		if err := json.Unmarshal(v, &pairs); err != nil {
			return fmt.Errorf("config key lxc: %w", err)
		}
		for _, p := range pairs {
			if len(p) != 2 {
				return fmt.Errorf("config key lxc: want [key, value] pairs, got %q", p)
			}
			if !strings.HasPrefix(p[0], lxcKeyPrefix) {
				return fmt.Errorf("config key lxc: pair key %q: not an lxc.* key", p[0])
			}
			if prev, ok := out[p[0]]; ok {
				out[p[0]] = prev + "\n" + p[1]
			} else {
				out[p[0]] = p[1]
			}
		}
	}
	*c = out
	return nil
}

// lxcKeyPrefix starts every raw LXC key of a container config.
const lxcKeyPrefix = "lxc."

// PendingEntry is one key of GET .../pending. Value is the current value
// (nil when the key is only pending), Pending the pending value (nil when none),
// Delete is 1 when a delete is pending (2: a forced delete, not used for CTs).
type PendingEntry struct {
	Key     string  `json:"key"`
	Value   *string `json:"value,omitempty"`
	Pending *string `json:"pending,omitempty"`
	Delete  int     `json:"delete,omitempty"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON as decodeLenient does,
// without its map: felhom plan decodes about a dozen entries per container
// (BenchmarkDecodePending: 133 allocations per answer instead of 233).
func (p *PendingEntry) UnmarshalJSON(b []byte) error {
	var raw struct {
		Key, Value, Pending, Delete json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		msg  json.RawMessage
		dst  reflect.Value
	}{{"key", raw.Key, reflect.ValueOf(&p.Key)}, {"value", raw.Value, reflect.ValueOf(&p.Value)},
		{"pending", raw.Pending, reflect.ValueOf(&p.Pending)}, {"delete", raw.Delete, reflect.ValueOf(&p.Delete)}} {
		if f.msg == nil {
			continue
		}
		if err := setLenient(f.dst.Elem(), f.msg); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// PendingList is GET .../pending's answer as a list. It decodes as
// []PendingEntry does, but reads PVE's usual shape itself: a list of flat
// objects whose keys are key, value, pending and delete, each once, with
// scalar values. Anything else (another key, a key in another case or
// with escapes, an object or list as a value, a value setLenient refuses)
// goes to encoding/json whole, so its entries and errors are
// []PendingEntry's. felhom plan decodes one per container; the fast path
// skips a second scan and four copies per entry (BenchmarkDecodePendingList).
type PendingList []PendingEntry

// UnmarshalJSON decodes b (valid JSON, as encoding/json passes it).
func (l *PendingList) UnmarshalJSON(b []byte) error {
	if entries, ok := fastPending(b); ok {
		*l = entries
		return nil
	}
	return json.Unmarshal(b, (*[]PendingEntry)(l))
}

// fastPending reads b as a list of flat pending entries; ok is false when
// b is not of that shape or a value does not decode.
func fastPending(b []byte) (_ []PendingEntry, ok bool) {
	s := jsonScan{b: b}
	if !s.byte('[') {
		return nil, false
	}
	entries := make([]PendingEntry, 0, 16)
	if s.byte(']') {
		return entries, s.end()
	}
	for {
		e, ok := s.pendingEntry()
		if !ok {
			return nil, false
		}
		entries = append(entries, e)
		if s.byte(']') {
			return entries, s.end()
		}
		if !s.byte(',') {
			return nil, false
		}
	}
}

// jsonScan walks a JSON text for fastPending.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// byte consumes c after white space, if it comes next.
func (s *jsonScan) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *jsonScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// pendingEntry reads one {"key": ..., ...} object.
func (s *jsonScan) pendingEntry() (e PendingEntry, ok bool) {
	if !s.byte('{') {
		return e, false
	}
	if s.byte('}') {
		return e, true
	}
	var seen [4]bool
	for {
		s.space()
		name, ok := s.plainString()
		if !ok || !s.byte(':') {
			return e, false
		}
		s.space()
		val, ok := s.scalar()
		if !ok {
			return e, false
		}
		k := slices.Index(pendingKeys[:], string(name))
		if k < 0 || seen[k] {
			return e, false
		}
		seen[k] = true
		switch {
		case string(val) == "null":
			// As setLenient: the field keeps its zero value.
		case k == 0:
			e.Key = ScalarText(val)
		case k == 1:
			v := ScalarText(val)
			e.Value = &v
		case k == 2:
			v := ScalarText(val)
			e.Pending = &v
		default:
			n, err := lenientInt(val)
			if err != nil || int64(int(n)) != n {
				return e, false
			}
			e.Delete = int(n)
		}
		if s.byte('}') {
			return e, true
		}
		if !s.byte(',') {
			return e, false
		}
	}
}

// pendingKeys are PendingEntry's json names, in fastPending's order.
var pendingKeys = [4]string{"key", "value", "pending", "delete"}

// plainString reads a string without escapes and returns its text.
func (s *jsonScan) plainString() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			return nil, false
		case '"':
			text := s.b[s.i+1 : j]
			s.i = j + 1
			return text, true
		}
	}
	return nil, false
}

// scalar reads a string, number, true, false or null and returns it as
// written.
func (s *jsonScan) scalar() ([]byte, bool) {
	start := s.i
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		for j := s.i + 1; j < len(s.b); j++ {
			switch s.b[j] {
			case '\\':
				j++ // the escaped character
			case '"':
				s.i = j + 1
				return s.b[start:s.i], true
			}
		}
		return nil, false
	case c == '-' || c >= '0' && c <= '9':
		for s.i < len(s.b) && strings.IndexByte("+-.eE0123456789", s.b[s.i]) >= 0 {
			s.i++
		}
	case c == 't' || c == 'f' || c == 'n':
		for s.i < len(s.b) && s.b[s.i] >= 'a' && s.b[s.i] <= 'z' {
			s.i++
		}
		if w := string(s.b[start:s.i]); w != "true" && w != "false" && w != "null" {
			return nil, false
		}
	default:
		return nil, false
	}
	return s.b[start:s.i], true
}

// PendingConfig is GET .../pending: the entries sorted by key, and the config
// digest, which PVE sends as an ordinary entry and is taken out here.
type PendingConfig struct {
	Digest  string
	Entries []PendingEntry
}

// Get returns the entry for key.
func (p PendingConfig) Get(key string) (PendingEntry, bool) {
	i := sort.Search(len(p.Entries), func(i int) bool { return p.Entries[i].Key >= key })
	if i < len(p.Entries) && p.Entries[i].Key == key {
		return p.Entries[i], true
	}
	return PendingEntry{}, false
}

// ContainerStatus is GET .../status/current.
type ContainerStatus struct {
	VMID     int            `json:"vmid"`
	Name     string         `json:"name"`
	Status   string         `json:"status"` // running, stopped
	Lock     string         `json:"lock"`   // "" when not locked; backup, snapshot, ...
	Tags     string         `json:"tags"`
	Template bool           `json:"template"`
	CPU      float64        `json:"cpu"`
	CPUs     float64        `json:"cpus"`
	Mem      int64          `json:"mem"`
	MaxMem   int64          `json:"maxmem"`
	Swap     int64          `json:"swap"`
	MaxSwap  int64          `json:"maxswap"`
	Disk     int64          `json:"disk"`
	MaxDisk  int64          `json:"maxdisk"`
	Uptime   int64          `json:"uptime"`
	HA       map[string]any `json:"ha"`
}

// Running reports whether the container runs.
func (s ContainerStatus) Running() bool { return s.Status == "running" }

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (s *ContainerStatus) UnmarshalJSON(b []byte) error { return decodeLenient(b, s) }

// CurrentSnapshot is the name of the pseudo-snapshot GET .../snapshot adds
// for the live state.
const CurrentSnapshot = "current"

// Snapshot is one entry of GET .../snapshot. The list includes the entry
// named "current" (the live state, with Digest, Running and Parent).
type Snapshot struct {
	Name        string    `json:"name"`
	SnapTime    time.Time `json:"snaptime"`
	Description string    `json:"description"`
	Parent      string    `json:"parent"`
	SnapState   string    `json:"snapstate"` // "prepare" or "delete" while a task works on it
	Digest      string    `json:"digest"`    // only on "current"
	Running     bool      `json:"running"`   // only on "current"
}

// IsCurrent reports whether s is PVE's "current" pseudo-entry.
func (s Snapshot) IsCurrent() bool { return s.Name == CurrentSnapshot }

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (s *Snapshot) UnmarshalJSON(b []byte) error { return decodeLenient(b, s) }

// Storage is one entry of GET /nodes/{node}/storage.
type Storage struct {
	Storage      string  `json:"storage"`
	Type         string  `json:"type"`    // dir, lvmthin, zfspool, nfs, pbs, ...
	Content      string  `json:"content"` // comma list: rootdir,images,backup,...
	Active       bool    `json:"active"`
	Enabled      bool    `json:"enabled"`
	Shared       bool    `json:"shared"`
	Total        int64   `json:"total"`
	Used         int64   `json:"used"`
	Avail        int64   `json:"avail"`
	UsedFraction float64 `json:"used_fraction"`
}

// HasContent reports whether the storage's content list includes c.
func (s Storage) HasContent(c string) bool {
	for _, x := range strings.Split(s.Content, ",") {
		if strings.TrimSpace(x) == c {
			return true
		}
	}
	return false
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (s *Storage) UnmarshalJSON(b []byte) error { return decodeLenient(b, s) }

// ContentQuery filters GET /nodes/{node}/storage/{storage}/content.
type ContentQuery struct {
	Content string // e.g. "backup"; "" lists every kind
	VMID    int    // 0 lists every guest
}

// Volume is one entry of GET /nodes/{node}/storage/{storage}/content.
type Volume struct {
	VolID     string    `json:"volid"` // e.g. "local:backup/vzdump-lxc-100-2026_01_02-03_04_05.tar.zst"
	Content   string    `json:"content"`
	Format    string    `json:"format"`  // e.g. "tar.zst", "raw", "subvol"
	Subtype   string    `json:"subtype"` // backups: lxc or qemu
	VMID      int       `json:"vmid"`
	CTime     time.Time `json:"ctime"`
	Size      int64     `json:"size"`
	Used      int64     `json:"used"`
	Notes     string    `json:"notes"`
	Protected bool      `json:"protected"`
	Parent    string    `json:"parent"`
	Encrypted string    `json:"encrypted"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (v *Volume) UnmarshalJSON(b []byte) error { return decodeLenient(b, v) }

// PruneQuery parameterises a prune: the dry run (PruneBackupsDryRun) and
// the prune itself (PruneBackups).
type PruneQuery struct {
	PruneBackups string // property string, e.g. "keep-last=3,keep-daily=7"; "" uses the storage's setting
	Type         string // "lxc" or "qemu"; "" for both
	VMID         int    // 0 for every guest
}

// PruneEntry is one entry of GET .../prunebackups.
type PruneEntry struct {
	VolID string    `json:"volid"`
	CTime time.Time `json:"ctime"`
	Mark  string    `json:"mark"` // keep, remove, protected, renamed
	Type  string    `json:"type"` // qemu, lxc, openvz, unknown
	VMID  int       `json:"vmid"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (p *PruneEntry) UnmarshalJSON(b []byte) error { return decodeLenient(b, p) }

// Task states in TaskStatus.Status.
const (
	TaskRunning = "running"
	TaskStopped = "stopped"
)

// ExitOK is the exit status of a task that ended without errors or
// warnings (pve-semantics.md §8).
const ExitOK = "OK"

// TaskStatus is GET /nodes/{node}/tasks/{upid}/status. ExitStatus is set
// only once Status is "stopped": "OK", "WARNINGS: <n>", or the error text.
// For a token's task PVE splits the UPID's user into User and TokenID.
type TaskStatus struct {
	UPID       string    `json:"upid"`
	Node       string    `json:"node"`
	PID        uint32    `json:"pid"`
	PStart     uint64    `json:"pstart"`
	StartTime  time.Time `json:"starttime"`
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	User       string    `json:"user"`
	TokenID    string    `json:"tokenid"`
	Status     string    `json:"status"`
	ExitStatus string    `json:"exitstatus"`
}

// Stopped reports whether the task has ended.
func (s TaskStatus) Stopped() bool { return s.Status == TaskStopped }

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (s *TaskStatus) UnmarshalJSON(b []byte) error { return decodeLenient(b, s) }

// TaskLogLine is one line of GET .../tasks/{upid}/log: N counts from 1.
type TaskLogLine struct {
	N int    `json:"n"`
	T string `json:"t"`
}

// UnmarshalJSON decodes PVE's loosely typed JSON.
func (l *TaskLogLine) UnmarshalJSON(b []byte) error { return decodeLenient(b, l) }

// Permissions is GET /access/permissions: for each ACL path, the privileges
// the caller (here: the token, after privilege separation) holds there.
type Permissions map[string]PrivilegeSet

// PrivilegeSet maps a privilege name to its propagate flag.
type PrivilegeSet map[string]bool

// Has reports whether privilege priv is held on exactly path.
func (p Permissions) Has(path, priv string) bool {
	_, ok := p[path][priv]
	return ok
}

// Paths returns the paths in sorted order.
func (p Permissions) Paths() []string { return slices.Sorted(maps.Keys(p)) }

// Privileges returns the privileges on path in sorted order.
func (s PrivilegeSet) Privileges() []string { return slices.Sorted(maps.Keys(s)) }

// UnmarshalJSON accepts PVE's 0/1 propagate flags.
func (s *PrivilegeSet) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(PrivilegeSet, len(raw))
	for k, v := range raw {
		f, err := lenientBool(v)
		if err != nil {
			return fmt.Errorf("privilege %s: %w", k, err)
		}
		out[k] = f
	}
	*s = out
	return nil
}

// ConfigChange is one PUT .../config request. Keys in Set are PVE option
// names (memory, net0, mp1, ...) with values as PVE takes them.
type ConfigChange struct {
	Set    map[string]string
	Delete []string // keys to delete (PVE's "delete" list)
	Revert []string // pending changes to drop (PVE's "revert" list)
	Digest string   // the digest read before; PVE refuses the write when the config moved since
}

// VzdumpOptions is one POST /nodes/{node}/vzdump: of one container
// (VMID) or of several in one task (VMIDs, backed up in order, as a PVE
// backup job does).
type VzdumpOptions struct {
	VMID          int
	VMIDs         []int  // used when VMID is 0
	Storage       string // backup storage (content "backup")
	Mode          string // snapshot, suspend, stop; "" = PVE's default (snapshot)
	Compress      string // 0, 1 (lzo), gzip, lzo, zstd; "" = PVE's default (0)
	PruneBackups  string // property string; "" = the storage's setting
	NotesTemplate string // e.g. "{{guestname}} felhom"
	Protected     bool   // mark the archive protected
	Remove        *bool  // prune after the backup; nil = PVE's default (1)
}

// RestoreOptions is one POST /nodes/{node}/lxc with restore=1.
type RestoreOptions struct {
	VMID    int    // the container id to restore into
	Archive string // backup volid (PVE's "ostemplate"), e.g. "local:backup/vzdump-lxc-100-....tar.zst"
	Storage string // target storage for the volumes; "" keeps the archive's
	Force   bool   // overwrite an existing container (destroys it)
	Unique  bool   // assign a new MAC address
	Start   bool   // start after restore
	// Set carries further options (hostname, memory, net0, ...) that
	// override the archive's config.
	Set map[string]string
}

// TaskResult is a task that ended successfully: ExitStatus "OK", or
// "WARNINGS: n" with Warnings = n and the log's WARN: lines (one
// "(task log unavailable: ...)" note when the log could not be read).
type TaskResult struct {
	UPID         UPID
	ExitStatus   string
	Warnings     int
	WarningLines []string
}
