package pvesim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Cluster-wide endpoints: nextid, cluster status, pools, storage.cfg and
// the access lists (pve-manager PVE/API2/Cluster.pm, PVE/API2/Pool.pm;
// pve-storage src/PVE/API2/Storage/Config.pm; pve-access-control
// src/PVE/API2/User.pm, Group.pm, Domains.pm).

// nextID is GET /cluster/nextid (Cluster.pm nextid): with vmid, that vmid
// if no guest of the cluster has it, else a 400 on vmid "VM N already
// exists"; without, the lowest free vmid from datacenter.cfg's next-id
// range, default [100, 1000000).
func (s *Sim) nextID(r *request) (any, error) {
	if v, ok := r.params["vmid"]; ok {
		vmid, _ := strconv.Atoi(v)
		if _, vm := s.vms[vmid]; s.cts[vmid] == nil && !vm {
			return vmid, nil
		}
		return nil, paramError(map[string]string{"vmid": fmt.Sprintf("VM %d already exists", vmid)})
	}
	for i := 100; i < 1000*1000; i++ {
		if _, vm := s.vms[i]; s.cts[i] == nil && !vm {
			return i, nil
		}
	}
	return nil, errorf("unable to get any free VMID in range [100, 1000000]")
}

// clusterStatus is GET /cluster/status (Cluster.pm get_status, the
// branch for a cluster with members): the cluster entry, then one entry
// per node with its nodeid (1, 2, ... in inventory order; PVE's order is
// a hash order), local 1 for the node the client talks to (the first),
// online, the invented ring address and the support level.
func (s *Sim) clusterStatus(r *request) (any, error) {
	out := []map[string]any{{
		"type": "cluster", "id": "cluster", "name": s.cluster,
		"nodes": len(s.nodes), "version": len(s.nodes), "quorate": 1,
	}}
	for i, n := range s.nodes {
		out = append(out, map[string]any{
			"type": "node", "id": "node/" + n.name, "name": n.name, "nodeid": i + 1,
			"local": boolInt(i == 0), "online": 1, "ip": nodeIP(i), "level": "",
		})
	}
	return out, nil
}

// nodeIP is the invented cluster address of the i-th node.
func nodeIP(i int) string { return fmt.Sprintf("192.0.2.%d", i+11) }

// poolIndex is GET /pools (Pool.pm index). The simulator has no pools: the
// list is empty, and a poolid is "pool 'x' does not exist" (the
// Pool.Audit check before it is made with noerr and its result unused).
func (s *Sim) poolIndex(r *request) (any, error) {
	if id, ok := r.params["poolid"]; ok && id != "" {
		return nil, errorf("pool '%s' does not exist", id)
	}
	return []any{}, nil
}

// sharedTypes are pve-storage Plugin.pm @SHARED_STORAGE: parse_config
// marks them shared.
var sharedTypes = []string{"iscsi", "nfs", "cifs", "rbd", "cephfs", "iscsidirect", "zfs", "drbd", "pbs"}

// storageCfg is one storage.cfg entry as the API gives it.
type storageCfg struct {
	id    string
	st    *simStorage
	nodes []string // the nodes that have it, when not all do
}

// storageConfig is storage.cfg: every storage id of the cluster, in
// sorted order, on the nodes that list it.
func (s *Sim) storageConfig() []storageCfg {
	byID := map[string]*storageCfg{}
	for _, n := range s.nodes {
		for _, st := range n.storages {
			c := byID[st.id]
			if c == nil {
				c = &storageCfg{id: st.id, st: st}
				byID[st.id] = c
			}
			c.nodes = append(c.nodes, n.name)
		}
	}
	var out []storageCfg
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		c := *byID[id]
		if len(c.nodes) == len(s.nodes) {
			c.nodes = nil
		}
		out = append(out, c)
	}
	return out
}

// storageEntry is Config.pm api_storage_config: the section's keys,
// storage, the file's digest, content as content_hash_to_string (sorted)
// and nodes joined. The plugin keys (path, vgname, pool, server, ...)
// are invented.
func storageEntry(c storageCfg, digest string) map[string]any {
	st := c.st
	content := slices.Clone(st.content)
	sort.Strings(content)
	m := map[string]any{"storage": c.id, "type": st.typ, "content": strings.Join(content, ","), "digest": digest}
	if len(content) == 0 {
		m["content"] = "none"
	}
	if st.shared || slices.Contains(sharedTypes, st.typ) {
		m["shared"] = 1
	}
	if c.nodes != nil {
		m["nodes"] = strings.Join(c.nodes, ",")
	}
	if st.prune != "" {
		m["prune-backups"] = st.prune
	}
	for k, v := range pluginKeys(c.id, st.typ) {
		m[k] = v
	}
	return m
}

// pluginKeys are the invented plugin settings of a storage.
func pluginKeys(id, typ string) map[string]any {
	switch typ {
	case "dir":
		if id == "local" {
			return map[string]any{"path": "/var/lib/vz"}
		}
		return map[string]any{"path": "/srv/" + id}
	case "btrfs":
		return map[string]any{"path": "/mnt/" + id}
	case "nfs":
		return map[string]any{"path": "/mnt/pve/" + id, "server": "192.0.2.2", "export": "/export/" + id}
	case "cifs":
		return map[string]any{"path": "/mnt/pve/" + id, "server": "192.0.2.2", "share": id}
	case "lvmthin":
		return map[string]any{"vgname": "pve", "thinpool": "data"}
	case "lvm":
		return map[string]any{"vgname": id}
	case "zfspool":
		return map[string]any{"pool": "rpool/" + id, "sparse": 1}
	case "rbd":
		return map[string]any{"pool": id, "krbd": 0}
	}
	return nil
}

// storageDigest is the SHA1 of a storage.cfg text written from the
// entries (its digest, as cfs_read_file gives it).
func (s *Sim) storageDigest(cfg []storageCfg) string {
	h := sha1.New()
	for _, c := range cfg {
		fmt.Fprintf(h, "%s: %s\n\tcontent %s\n", c.st.typ, c.id, strings.Join(c.st.content, ","))
		if c.nodes != nil {
			fmt.Fprintf(h, "\tnodes %s\n", strings.Join(c.nodes, ","))
		}
		if c.st.prune != "" {
			fmt.Fprintf(h, "\tprune-backups %s\n", c.st.prune)
		}
		fmt.Fprintln(h)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// storageIndex is GET /storage (Config.pm index): the storages with
// Datastore.Audit or Datastore.AllocateSpace, of the given type.
func (s *Sim) storageIndex(r *request) (any, error) {
	cfg := s.storageConfig()
	digest := s.storageDigest(cfg)
	out := []map[string]any{}
	for _, c := range cfg {
		if !s.hasAny(r.token, "/storage/"+c.id, "Datastore.Audit", "Datastore.AllocateSpace") {
			continue
		}
		if t := r.params["type"]; t != "" && t != c.st.typ {
			continue
		}
		out = append(out, storageEntry(c, digest))
	}
	return out, nil
}

// storageRead is GET /storage/{storage} (Config.pm read; Datastore.Allocate
// on it): the entry, or PVE::Storage storage_config's "storage 'x' does
// not exist".
func (s *Sim) storageRead(r *request) (any, error) {
	cfg := s.storageConfig()
	for _, c := range cfg {
		if c.id == r.params["storage"] {
			return storageEntry(c, s.storageDigest(cfg)), nil
		}
	}
	return nil, errorf("storage '%s' does not exist", r.params["storage"])
}

// realmOf is the realm of a user id.
func realmOf(user string) string {
	_, realm, _ := strings.Cut(user, "@")
	return realm
}

// accessUsers is GET /access/users (User.pm index): every user for a
// caller with User.Modify or Sys.Audit on /access/groups, else only the
// caller (the simulator has no groups to share). Each has user.cfg's
// enable 1 and expire 0, userid and realm-type (pam, pve); with full=1
// also groups ("") and tokens (tokenid, expire, privsep; null without
// any). root@pam is always there, as on every PVE.
func (s *Sim) accessUsers(r *request) (any, error) {
	if r.has("enabled") && !r.boolParam("enabled") {
		return []any{}, nil // every simulated user is enabled
	}
	all := s.hasAny(r.token, "/access/groups", "User.Modify", "Sys.Audit")
	ids := []string{"root@pam"}
	for id := range s.users {
		if id != "root@pam" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := []map[string]any{}
	for _, id := range ids {
		if !all && id != r.token.user {
			continue
		}
		e := map[string]any{"userid": id, "enable": 1, "expire": 0}
		if realm := realmOf(id); realm == "pam" || realm == "pve" {
			e["realm-type"] = realm
		}
		if r.boolParam("full") {
			e["groups"] = ""
			var toks []map[string]any
			for _, t := range s.tokens {
				if t.user == id {
					toks = append(toks, map[string]any{"tokenid": t.name, "expire": 0, "privsep": boolInt(t.privsep)})
				}
			}
			sort.Slice(toks, func(i, j int) bool { return toks[i]["tokenid"].(string) < toks[j]["tokenid"].(string) })
			if toks == nil {
				e["tokens"] = nil
			} else {
				e["tokens"] = toks
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// accessGroups is GET /access/groups (Group.pm index): the simulator has
// no groups.
func (s *Sim) accessGroups(r *request) (any, error) { return []any{}, nil }

// accessDomains is GET /access/domains (Domains.pm index): domains.cfg's
// two built-in realms, pam and pve (sorted; PVE's is a hash order). It is
// served without authentication (pve-manager PVE/HTTPServer.pm
// auth_handler sets require_auth 0 for it).
func (s *Sim) accessDomains(r *request) (any, error) {
	return []map[string]any{{"realm": "pam", "type": "pam"}, {"realm": "pve", "type": "pve"}}, nil
}
